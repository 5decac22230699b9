//! A proxy-wasm plugin that does nothing: every request continues untouched. It is the floor of
//! `cargo xtask bench --envoy`, the cost any Rust proxy-wasm filter pays in Envoy before it does
//! any work. Built by `cargo xtask build` for `wasm32-wasip1`.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

/// The module's entry point (`_initialize`): registers the root context.
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(super::NoopRoot)
        });
    }}
}

struct NoopRoot;

impl Context for NoopRoot {}

impl RootContext for NoopRoot {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Noop))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Noop;

impl Context for Noop {}

impl HttpContext for Noop {}
