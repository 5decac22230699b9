//! # polycors-proxy-wasm
//!
//! [polycors] as a proxy-wasm plugin (ABI 0.2.1) for Envoy, Istio and the Higress
//! gateway, a drop-in replacement for Higress's `cors` plugin. Build it with
//! `cargo xtask dist` (or `cargo build -p polycors-proxy-wasm --target wasm32-wasip1
//! --profile release-wasm`).
//!
//! - The plugin configuration (JSON) is read once, in `on_configure`: the global policy at the
//!   top level and Higress's per-scope `_rules_`. An invalid configuration logs every error and
//!   makes `on_configure` return `false`.
//! - Per request, the policy is selected from the route name, the authority and the cluster
//!   name; the request headers are read as bytes, the core decides, and preflights and
//!   rejections are answered with a local reply.
//! - The decision is kept in the HTTP context (Envoy drops the request headers after
//!   `Continue`) and applied once in `on_http_response_headers`. Envoy passes the plugin's own
//!   local reply through that hook too; it is recognised and left as sent.
//! - No code path panics on request data: a panic is a wasm trap, which fails the stream.

mod envoy;
mod filter;
mod root;

/// The module's entry point (`_initialize`): registers the root context.
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(crate::root::CorsRoot::default())
        });
    }}
}
