//! The root context: configuration.

use std::rc::Rc;

use polycors::ScopedPolicies;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::ContextType;

use crate::envoy;
use crate::filter::CorsFilter;

/// Holds the policies loaded by the last successful `on_configure`.
#[derive(Default)]
pub(crate) struct CorsRoot {
    policies: Option<Rc<ScopedPolicies>>,
}

impl Context for CorsRoot {}

impl RootContext for CorsRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        envoy::follow_host_log_level();
        let configuration = envoy::plugin_configuration();
        match ScopedPolicies::from_json(&configuration) {
            Ok(policies) => {
                // The core has logged the warnings while compiling the policies.
                self.policies = Some(Rc::new(policies));
                true
            }
            Err(invalid) => {
                for error in invalid.errors() {
                    log::error!("polycors: invalid configuration: {error}");
                }
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CorsFilter::new(self.policies.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}
