//! polycors-proxy-wasm: the built `.wasm`, run inside `polycors-wasm-host`.

use polycors_wasm_host::{
    HostError, HttpRequest, HttpResponse, Plugin, PluginInstance, upstream_lines,
};

use crate::{Case, CaseRequest, Outcome, Target, normalise_headers};

/// The host's log level `debug`: the plugin then logs one line per request, with its reason.
pub const DEBUG: i32 = 1;

/// The plugin, compiled once, instantiated per case.
#[derive(Debug)]
pub struct ProxyWasm {
    plugin: Plugin,
}

impl ProxyWasm {
    /// Compiles the plugin built by `cargo xtask build` (`polycors_artifacts::plugin_wasm`).
    pub fn load() -> Result<Self, HostError> {
        Ok(Self {
            plugin: Plugin::load(&polycors_artifacts::plugin_wasm())?,
        })
    }
}

/// The header lines an upstream receives for a forwarded proxy-wasm request: `:authority`
/// becomes `host` again, the other pseudo-headers go.
fn as_upstream_sees(forwarded: &[(Vec<u8>, Vec<u8>)]) -> Vec<(String, String)> {
    normalise_headers(upstream_lines(forwarded))
}

impl ProxyWasm {
    /// The compiled plugin.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Sends one request through a plugin instance logging at debug level (scheme `http`).
    pub fn outcome(
        instance: &mut PluginInstance,
        request: &CaseRequest,
    ) -> Result<Outcome, HostError> {
        let mut http = HttpRequest::new(&request.method, "http", &request.authority, &request.path);
        for line in &request.headers {
            let (name, value) = line.pair();
            http = http.header(&name, value);
        }
        http.route_name = request.route_name.as_ref().map(|s| s.as_bytes().to_vec());
        http.cluster_name = request.cluster_name.as_ref().map(|s| s.as_bytes().to_vec());
        let upstream = &request.upstream;
        let exchange = instance.http_request(&http, |_| {
            let mut response = HttpResponse::new(upstream.status).body(upstream.body.clone());
            for (name, value) in &upstream.headers {
                response = response.header(name, value);
            }
            response
        })?;
        let response = exchange.response;
        // The plugin's own line (the instance logs at debug level) says why it rejected.
        let reason = instance
            .take_log()
            .iter()
            .find_map(|line| crate::reason_in_plugin_line(&line.message))
            .flatten();
        Ok(Outcome {
            request: request.name.clone(),
            answered_by: if exchange.local_reply {
                "policy"
            } else {
                "upstream"
            },
            status: response.status,
            reason,
            headers: normalise_headers(response.headers.iter().map(|(n, v)| (&n[..], &v[..]))),
            body: crate::show(&response.body),
            upstream_saw: exchange.forwarded.as_deref().map(as_upstream_sees),
        })
    }
}

impl Target for ProxyWasm {
    fn name(&self) -> &'static str {
        "proxy-wasm"
    }

    fn supports_rules(&self) -> bool {
        true
    }

    fn run(&mut self, case: &Case) -> Vec<Outcome> {
        let mut instance = self
            .plugin
            .instantiate_with_log_level(&case.plugin_json(), DEBUG)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        case.requests
            .iter()
            .map(|request| {
                ProxyWasm::outcome(&mut instance, request)
                    .unwrap_or_else(|e| panic!("{} / {}: {e}", case.name, request.name))
            })
            .collect()
    }
}
