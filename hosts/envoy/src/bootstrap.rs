//! Envoy's bootstrap configuration, built from a small description and rendered as JSON.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// A whole Envoy configuration: listeners on 127.0.0.1 (port 0: Envoy picks), and the
/// upstream clusters their routes send to.
#[derive(Debug, Clone, Default)]
pub struct Bootstrap {
    /// One listener per configuration under test.
    pub listeners: Vec<Listener>,
    /// Static upstream clusters, each one endpoint.
    pub clusters: Vec<Cluster>,
}

/// One listener with its HTTP connection manager.
#[derive(Debug, Clone)]
pub struct Listener {
    /// The listener's name (also its stats prefix); [`Envoy::listener`](crate::Envoy::listener)
    /// finds its address by this name.
    pub name: String,
    /// Where to listen; `None` is 127.0.0.1 on a port the kernel picks.
    pub address: Option<SocketAddr>,
    /// The HTTP filters before the router, in order.
    pub filters: Vec<HttpFilter>,
    /// The routes, tried in order.
    pub routes: Vec<Route>,
}

/// An HTTP filter placed before Envoy's router.
#[derive(Debug, Clone)]
pub enum HttpFilter {
    /// A proxy-wasm plugin in Envoy's V8 runtime.
    Wasm {
        /// The `.wasm` file.
        module: PathBuf,
        /// The plugin configuration (JSON text, handed to the plugin as is).
        configuration: String,
    },
    /// A dynamic module's HTTP filter (`envoy.filters.http.dynamic_modules`): the shared library
    /// `library` (`lib<name>.so`; Envoy finds it through `ENVOY_DYNAMIC_MODULES_SEARCH_PATH`,
    /// which [`Envoy::start`](crate::Envoy::start) sets to its directory).
    DynamicModule {
        /// The `.so` file.
        library: PathBuf,
        /// The filter configuration (handed to the module as is).
        configuration: String,
    },
    /// Envoy's own CORS filter (`envoy.filters.http.cors`); each route carries its policy
    /// ([`Route::cors_policy`]).
    NativeCors,
    /// Answers every request that reaches it with `status` (Envoy's fault filter, aborting
    /// 100 %), before the router: an upstream-free answer that, unlike a route's
    /// `direct_response`, keeps the route entry Envoy's CORS filter needs. For benchmarks.
    Respond {
        /// The status of every answer.
        status: u16,
    },
}

impl HttpFilter {
    /// A proxy-wasm plugin with its configuration.
    pub fn wasm(module: &Path, configuration: &str) -> Self {
        Self::Wasm {
            module: module.to_path_buf(),
            configuration: configuration.to_owned(),
        }
    }
}

/// A route of the listener's single virtual host (every domain).
#[derive(Debug, Clone)]
pub struct Route {
    /// The route's name: Envoy's `route_name` property, which Higress sets to the Ingress name.
    pub name: Option<String>,
    /// Request headers that must have exactly these values for the route to match.
    pub match_headers: Vec<(String, String)>,
    /// Where the request goes.
    pub action: RouteAction,
    /// Request headers the router removes before forwarding (after every HTTP filter ran).
    pub remove_request_headers: Vec<String>,
    /// The `envoy.filters.http.cors` policy for this route (a `CorsPolicy` in JSON), used by
    /// [`HttpFilter::NativeCors`].
    pub cors_policy: Option<Value>,
}

/// What a route does with a request.
#[derive(Debug, Clone)]
pub enum RouteAction {
    /// Forward to the named cluster.
    Cluster(String),
    /// Answer directly (Envoy's `direct_response`), so only Envoy and its filters are measured.
    Direct {
        /// The status.
        status: u16,
        /// The body.
        body: String,
    },
}

impl Route {
    /// A nameless catch-all route forwarding to `cluster`.
    pub fn to_cluster(cluster: &str) -> Self {
        Self {
            name: None,
            match_headers: Vec::new(),
            action: RouteAction::Cluster(cluster.to_owned()),
            remove_request_headers: Vec::new(),
            cors_policy: None,
        }
    }

    /// A nameless catch-all route answering `status` with `body` directly.
    pub fn direct(status: u16, body: &str) -> Self {
        Self {
            action: RouteAction::Direct {
                status,
                body: body.to_owned(),
            },
            ..Self::to_cluster("")
        }
    }
}

/// An upstream cluster with one endpoint.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// The cluster's name: Envoy's `cluster_name` property (Istio and Higress name clusters
    /// `outbound|port||fqdn`).
    pub name: String,
    /// The endpoint.
    pub address: SocketAddr,
}

const HCM: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const WASM: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const CORS: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors";
const DYNAMIC_MODULE: &str =
    "type.googleapis.com/envoy.extensions.filters.http.dynamic_modules.v3.DynamicModuleFilter";
const CORS_POLICY: &str = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy";
const FAULT: &str = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";
const ROUTER: &str = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
const STRING_VALUE: &str = "type.googleapis.com/google.protobuf.StringValue";
const FILE_ACCESS_LOG: &str =
    "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog";

/// Every socket Envoy opens listens on loopback, on a port the kernel picks.
fn loopback_port_zero() -> Value {
    json!({"socket_address": {"address": "127.0.0.1", "port_value": 0}})
}

impl Bootstrap {
    /// Envoy's bootstrap as JSON. `access_log` is an optional access-log format (Envoy command
    /// operators) written to standard output for every request on every listener.
    pub fn to_json(&self, access_log: Option<&str>) -> Value {
        let listeners: Vec<Value> = self
            .listeners
            .iter()
            .map(|l| l.to_json(access_log))
            .collect();
        let clusters: Vec<Value> = self.clusters.iter().map(Cluster::to_json).collect();
        json!({
            "admin": {"address": loopback_port_zero()},
            "static_resources": {"listeners": listeners, "clusters": clusters},
        })
    }
}

impl Listener {
    fn to_json(&self, access_log: Option<&str>) -> Value {
        let mut filters: Vec<Value> = self
            .filters
            .iter()
            .enumerate()
            .map(|(index, f)| f.to_json(index))
            .collect();
        // No `x-envoy-*` headers added to requests or responses: the conformance suite compares
        // what the upstream and the client see with the other hosts.
        filters.push(json!({
            "name": "envoy.filters.http.router",
            "typed_config": {"@type": ROUTER, "suppress_envoy_headers": true},
        }));
        let routes: Vec<Value> = self.routes.iter().map(Route::to_json).collect();
        let mut hcm = json!({
            "@type": HCM,
            "stat_prefix": self.name,
            "generate_request_id": false,
            "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": routes}]},
            "http_filters": filters,
        });
        if let Some(format) = access_log {
            hcm["access_log"] = json!([{
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": FILE_ACCESS_LOG,
                    "path": "/dev/stdout",
                    "log_format": {"text_format_source": {"inline_string": format!("{format}\n")}},
                },
            }]);
        }
        let address = match self.address {
            Some(address) => json!({"socket_address": {
                "address": address.ip().to_string(),
                "port_value": address.port(),
            }}),
            None => loopback_port_zero(),
        };
        json!({
            "name": self.name,
            "address": address,
            "filter_chains": [{"filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typed_config": hcm,
            }]}],
        })
    }
}

/// The module name Envoy loads `library` by: `libNAME.so` is `NAME`.
pub(crate) fn module_name(library: &Path) -> String {
    let file = library
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.strip_prefix("lib").unwrap_or(&file).to_owned()
}

impl Bootstrap {
    /// The directory of the dynamic modules the listeners load, if any.
    pub fn dynamic_module_dir(&self) -> Option<&Path> {
        self.listeners
            .iter()
            .flat_map(|l| &l.filters)
            .find_map(|f| match f {
                HttpFilter::DynamicModule { library, .. } => library.parent(),
                _ => None,
            })
    }
}

impl HttpFilter {
    /// A dynamic module's filter with its configuration.
    pub fn dynamic_module(library: &Path, configuration: &str) -> Self {
        Self::DynamicModule {
            library: library.to_path_buf(),
            configuration: configuration.to_owned(),
        }
    }

    fn to_json(&self, index: usize) -> Value {
        match self {
            Self::Wasm {
                module,
                configuration,
            } => json!({
                "name": format!("wasm-{index}"),
                "typed_config": {
                    "@type": WASM,
                    "config": {
                        "name": "polycors",
                        "root_id": "",
                        // One VM per module and worker, shared by every listener's plugin.
                        "vm_config": {
                            "vm_id": module.display().to_string(),
                            "runtime": "envoy.wasm.runtime.v8",
                            "code": {"local": {"filename": module.display().to_string()}},
                        },
                        "configuration": {"@type": STRING_VALUE, "value": configuration},
                    },
                },
            }),
            Self::DynamicModule {
                library,
                configuration,
            } => json!({
                "name": format!("dynamic-module-{index}"),
                "typed_config": {
                    "@type": DYNAMIC_MODULE,
                    "dynamic_module_config": {"name": module_name(library)},
                    "filter_name": "polycors",
                    "filter_config": {"@type": STRING_VALUE, "value": configuration},
                },
            }),
            Self::NativeCors => json!({
                "name": "envoy.filters.http.cors",
                "typed_config": {"@type": CORS},
            }),
            Self::Respond { status } => json!({
                "name": format!("respond-{index}"),
                "typed_config": {
                    "@type": FAULT,
                    "abort": {"http_status": status, "percentage": {"numerator": 100, "denominator": "HUNDRED"}},
                },
            }),
        }
    }
}

impl Route {
    fn to_json(&self) -> Value {
        let headers: Vec<Value> = self
            .match_headers
            .iter()
            .map(|(name, value)| json!({"name": name, "string_match": {"exact": value}}))
            .collect();
        let mut route = json!({"match": {"prefix": "/", "headers": headers}});
        match &self.action {
            RouteAction::Cluster(cluster) => route["route"] = json!({"cluster": cluster}),
            RouteAction::Direct { status, body } => {
                route["direct_response"] =
                    json!({"status": status, "body": {"inline_string": body}});
            }
        }
        if let Some(name) = &self.name {
            route["name"] = json!(name);
        }
        if !self.remove_request_headers.is_empty() {
            route["request_headers_to_remove"] = json!(self.remove_request_headers);
        }
        if let Some(policy) = &self.cors_policy {
            let mut policy = policy.clone();
            policy["@type"] = json!(CORS_POLICY);
            route["typed_per_filter_config"] = json!({"envoy.filters.http.cors": policy});
        }
        route
    }
}

impl Cluster {
    fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "connect_timeout": "2s",
            "load_assignment": {
                "cluster_name": self.name,
                "endpoints": [{"lb_endpoints": [{"endpoint": {"address": {"socket_address": {
                    "address": self.address.ip().to_string(),
                    "port_value": self.address.port(),
                }}}}]}],
            },
        })
    }
}
