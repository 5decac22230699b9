//! A proxy-wasm plugin that makes only the host calls docs/behaviour.md requires of any CORS filter for a
//! forwarded request without `Origin`, and nothing else: read the request headers; read the
//! response headers (to find upstream `access-control-*` headers and `Vary`); set
//! `x-cors-version` and `Vary`. `cargo xtask bench --envoy` measures it beside the no-op
//! plugin: the gap between the two is what those calls cost in Envoy, a floor for polycors.

use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType};

/// The module's entry point (`_initialize`): registers the root context.
mod entry {
    proxy_wasm::main! {{
        proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
            Box::new(super::FloorRoot)
        });
    }}
}

struct FloorRoot;

impl Context for FloorRoot {}

impl RootContext for FloorRoot {
    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Floor))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Floor;

impl Context for Floor {}

impl HttpContext for Floor {
    fn on_http_request_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        std::hint::black_box(self.get_http_request_headers_bytes());
        Action::Continue
    }

    fn on_http_response_headers(&mut self, _headers: usize, _end_of_stream: bool) -> Action {
        std::hint::black_box(self.get_http_response_headers_bytes());
        self.set_http_response_header("x-cors-version", Some("1.0.0"));
        self.set_http_response_header("vary", Some("Origin"));
        Action::Continue
    }
}
