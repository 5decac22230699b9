//! # polycors-proxy-wasm
//!
//! [polycors] as a proxy-wasm plugin (ABI 0.2.1) for Envoy, Istio and the Higress gateway, a
//! drop-in replacement for Higress's `cors` plugin. Build it with `cargo xtask dist` (or
//! `cargo build -p polycors-proxy-wasm --target wasm32-wasip1 --profile release-wasm`).
//!
//! - The plugin configuration (JSON) is read once, in `on_configure`: the global policy at the
//!   top level and Higress's per-scope `_rules_`. An invalid configuration logs every error and
//!   makes `on_configure` return `false`.
//! - Per request, the plugin reads only what the decision needs, in as few host calls as it
//!   can (see `filter.rs`): in Envoy each host call costs more than the whole policy check.
//! - Preflights and rejections are answered with a local reply carrying every header. Envoy
//!   passes that reply through the plugin's response hook, which leaves it alone.
//! - A forwarded request's plan is kept in the HTTP context (Envoy drops the request headers
//!   after `Continue`) and written onto the response in one call.
//! - At debug level the plugin logs one line per request: method, path, origin, decision, the
//!   policy used (`global` or `_rules_[N]`) and the status.
//! - No code path panics on request data: a panic is a wasm trap, which fails the stream. The
//!   plugin is written directly against the ABI (`abi.rs`, the only module with `unsafe`), so
//!   that no host status can turn into a panic and nothing is allocated per request once its
//!   buffers have grown.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

// The one module that calls the host and exports to it: the FFI demands `unsafe` there.
#[allow(unsafe_code)]
mod abi;
mod filter;
mod headers;
mod host;
mod plugin;
mod state;
mod wire;
