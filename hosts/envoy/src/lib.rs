//! # polycors-envoy-runner
//!
//! Runs the polycors proxy-wasm plugin (and Envoy's own filters, for comparison) inside a real
//! Envoy on 127.0.0.1. It is what the conformance suite's `envoy` target, `cargo xtask serve
//! --adapter envoy` and `cargo xtask bench --envoy` share:
//!
//! - [`Bootstrap`] describes listeners (one per configuration), their HTTP filters and routes,
//!   and upstream clusters, and renders Envoy's JSON bootstrap;
//! - [`Envoy::start`] runs the binary from [`polycors_artifacts::envoy_binary`], waits until
//!   the admin endpoint says `LIVE` and learns the ports Envoy bound (every listener and the
//!   admin listen on port 0, so runs never collide); an Envoy that refuses its configuration
//!   (for example because the plugin's `on_configure` failed) is an [`EnvoyError::Exited`]
//!   carrying Envoy's log.
//!
//! ```no_run
//! use polycors_envoy_runner::{Bootstrap, Envoy, HttpFilter, Listener, Options, Route};
//!
//! let mut bootstrap = Bootstrap::default();
//! bootstrap.listeners.push(Listener {
//!     name: "cors".into(),
//!     address: None,
//!     filters: vec![HttpFilter::wasm(&polycors_artifacts::plugin_wasm(), r#"{"allow_origins":["http://a.test"]}"#)],
//!     routes: vec![Route::direct(200, "hello")],
//! });
//! let envoy = Envoy::start(&bootstrap, &Options::default())?;
//! println!("listening on {}", envoy.listener("cors").expect("started"));
//! # Ok::<(), polycors_envoy_runner::EnvoyError>(())
//! ```

#![forbid(unsafe_code)]

mod bootstrap;
mod process;

pub use bootstrap::{Bootstrap, Cluster, HttpFilter, Listener, Route, RouteAction};
pub use process::{Envoy, EnvoyError, Options};
