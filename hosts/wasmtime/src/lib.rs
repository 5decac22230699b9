//! # polycors-wasm-host
//!
//! A small proxy-wasm host built on [wasmtime]: it loads a proxy-wasm plugin (ABI 0.2.1), hands
//! it a configuration and drives HTTP exchanges through it the way Envoy does. It exists so
//! that the polycors plugin can be tested (and served by `cargo xtask serve`) on a machine
//! without Envoy.
//!
//! ```no_run
//! use polycors_wasm_host::{HttpRequest, HttpResponse, Plugin};
//!
//! # fn main() -> Result<(), polycors_wasm_host::HostError> {
//! let plugin = Plugin::load(&polycors_artifacts::plugin_wasm())?;
//! let mut instance = plugin.instantiate(br#"{"allow_origins":["http://a.test"]}"#)?;
//! let request = HttpRequest::new("GET", "http", "api.test", "/").header("origin", "http://a.test");
//! let exchange = instance.http_request(&request, |_forwarded| HttpResponse::new(200))?;
//! assert_eq!(exchange.response.header_value("access-control-allow-origin"), Some(&b"http://a.test"[..]));
//! # Ok(()) }
//! ```
//!
//! ## How the host models Envoy
//!
//! Where Envoy's behaviour and the proxy-wasm ABI text differ, the host does what Envoy does:
//!
//! - **Header names are lowercase.** Request headers given to the host and the upstream's
//!   response headers are lowercased before the plugin sees them (Envoy's codecs do that).
//!   Header names are valid tokens: Envoy's codecs reject anything else before filters run,
//!   and the SDK traps on a non-UTF-8 name. Values are arbitrary bytes.
//! - **Repeated request headers.** Envoy joins repeated lines of the headers it keeps in one
//!   entry (`origin` and the `access-control-request-*` headers among them, see
//!   [`ENVOY_JOINED_REQUEST_HEADERS`]) with `,` before any filter runs; the host does the same.
//!   Other repeated headers stay separate lines: single-value getters
//!   (`proxy_get_header_map_value`) return the first, `proxy_get_header_map_pairs` every line.
//! - **Pseudo-headers.** The request map carries `:method`, `:scheme`, `:authority` and `:path`
//!   first; the response map carries `:status` first.
//! - **The plugin configuration is readable only during `proxy_on_configure`**; elsewhere the
//!   buffer is `NotFound`.
//! - **Request headers are unavailable after the request-headers callback returns
//!   `Continue`**: Envoy has forwarded them. Reading them later gets `NotFound` (the SDK turns
//!   that into a trap, as it would in Envoy).
//! - **Local replies are deferred**: `proxy_send_local_response` records the reply, which is sent
//!   when the callback returns. Like Envoy, the host then passes the reply through the
//!   plugin's own `proxy_on_response_headers` before the client sees it. A local reply with a
//!   body and no `content-type` gets `content-type: text/plain`; every reply gets
//!   `content-length`.
//! - **Properties**: `xds.route_name` and `xds.cluster_name` (Envoy 1.40's names) are set per
//!   request (see [`HttpRequest`]); the top-level `route_name` and `cluster_name` of older
//!   Envoys and of Higress's build answer only when [`HttpRequest::legacy_property_names`] is
//!   set; other properties are `NotFound`.
//! - **Outbound calls** (`proxy_http_call`, gRPC) fail with `BadArgument`, as Envoy does for an
//!   unknown cluster: the host has no clusters. Shared data and queues are in-memory.
//! - **Imports the host does not know trap** when called, so a plugin that needs something
//!   more is caught at once rather than silently given a wrong answer.
//! - WASI: `fd_write` (captured into the log, as Envoy logs a plugin's stdout/stderr),
//!   `environ_*` (empty), `random_get` (a fixed-seed generator, so runs are reproducible),
//!   `clock_time_get` (real time); `proc_exit` traps.
//!
//! The module is compiled once per [`Plugin`] (one per test binary) and instantiated per
//! configuration; an instance serves any number of requests, each in its own HTTP context.

#![forbid(unsafe_code)]

mod abi;
mod error;
mod http;
mod log;
mod plugin;

pub use error::HostError;
pub use http::{
    ENVOY_JOINED_REQUEST_HEADERS, Exchange, HttpRequest, HttpResponse, join_like_envoy,
    upstream_lines,
};
pub use log::LogLine;
pub use plugin::{Plugin, PluginInstance};
