//! # polycors
//!
//! A CORS policy engine: configuration (the Higress `cors` plugin's fields), validation,
//! origin matching and decisions, with no I/O and no framework. Adapters for tower, actix-web
//! and proxy-wasm translate their request and response types and call into this crate.
//!
//! ```
//! use polycors::adapter::{HeaderList, names};
//! use polycors::{Policy, RequestView, Verdict};
//!
//! let policy = Policy::from_yaml(
//!     "allow_origins: [https://app.example.com]\nallow_methods: GET, POST\n",
//! )?;
//! let mut request = RequestView::new(b"OPTIONS");
//! request.add_header(b"origin", b"https://app.example.com");
//! request.add_header(b"access-control-request-method", b"POST");
//!
//! let decision = policy.evaluate(&request);
//! assert_eq!(decision.verdict(), Verdict::Preflight);
//! let answer = decision.local_answer().expect("preflights are answered locally");
//! let mut headers = HeaderList::default();
//! decision.write_headers(&mut headers.for_response(&policy, decision.origin()));
//! assert_eq!(answer.status.code(), 200);
//! assert_eq!(headers.get(names::ALLOW_METHODS), Some(&b"GET,POST"[..]));
//! # Ok::<(), polycors::InvalidConfig>(())
//! ```
//!
//! Section numbers (§4) refer to the behaviour contract, `docs/behaviour.md`.
//!
//! The crate root holds what applications use; [`decision`] holds what a decision tells an
//! adapter to do, [`adapter`] what adapters need to write headers, [`error`] the configuration
//! errors' details, [`pattern`] origin patterns, [`limits`] and [`defaults`] the numbers and
//! lists the behaviour depends on.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

/// The configuration guide's code, compiled by `cargo test`.
#[cfg(doctest)]
#[doc = include_str!("../../docs/configuration.md")]
pub struct ConfigurationGuide;

pub mod adapter;
mod allowed_origins;
mod answer_template;
pub mod builder;
mod config;
pub mod counters;
pub mod decision;
pub mod defaults;
pub mod document;
pub mod error;
mod evaluate;
mod fetch;
mod interned;
mod ipv6;
pub mod limits;
mod origin;
mod origin_predicate;
pub mod pattern;
mod policy;
mod request;
mod rules;
mod token;

pub use builder::{AcceptsOriginPredicate, Any, BuildTarget, PolicyBuilder};
pub use config::Config;
pub use decision::{Decision, Reason, Verdict};
pub use error::{InvalidConfig, Warning};
pub use origin_predicate::OriginRef;
pub use policy::Policy;
pub use request::{OriginHeader, RequestHeader, RequestView};
pub use rules::{RouteInfo, Scope, ScopedPolicies};
