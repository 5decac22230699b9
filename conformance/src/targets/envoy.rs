//! The release `.wasm` inside a real Envoy (V8), in front of a recording upstream, over real
//! HTTP/1.1 on 127.0.0.1.
//!
//! One Envoy serves every case: one listener per distinct plugin configuration (all sharing one
//! V8 VM, as plugins of one module do in a gateway), and per listener one route for each
//! `route_name` / `cluster_name` pair the case's requests name. A request picks its route with a
//! selection header that the router removes before forwarding, so neither the plugin's decision
//! nor what the upstream sees depends on it. Clusters are named like Istio and Higress name them
//! (`outbound|80||httpbin.default.svc.cluster.local`), so `_match_service_` sees real cluster
//! names; `_match_route_` sees real route names and `_match_domain_` the real `:authority`.

use std::collections::{BTreeMap, BTreeSet};

use polycors_envoy_runner::{
    Bootstrap, Cluster, Envoy as EnvoyProcess, HttpFilter, Listener, Options, Route,
};

use crate::wire::{self, RecordingUpstream};
use crate::{Case, CaseRequest, Outcome, Target, normalise_headers};

/// The header that selects a request's route; removed by the router.
const SELECT: &str = "x-polycors-conformance-route";
/// The cluster of requests that name none.
const DEFAULT_CLUSTER: &str = "polycors-conformance-upstream";
/// How the plugin's per-request lines start.
const PLUGIN_LINE: &str = "polycors request: ";
/// Envoy adds it to every forwarded request; the other hosts do not.
const ADDED_BY_ENVOY: &str = "x-forwarded-proto";

/// A route selector: the route name and cluster a request asks for.
type RouteKey = (Option<String>, Option<String>);

/// Which build of polycors runs inside Envoy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// The proxy-wasm plugin in V8.
    Wasm,
    /// The dynamic module, native.
    Module,
}

/// The plugin (or the dynamic module) in a real Envoy.
#[derive(Debug)]
pub struct Envoy {
    build: Build,
    envoy: EnvoyProcess,
    upstream: RecordingUpstream,
    /// Listener name by plugin configuration (JSON bytes).
    listeners: BTreeMap<Vec<u8>, String>,
    /// Selection value by listener and route key.
    routes: BTreeMap<(String, RouteKey), String>,
}

fn route_key(request: &CaseRequest) -> RouteKey {
    (request.route_name.clone(), request.cluster_name.clone())
}

impl Envoy {
    /// Starts one Envoy serving every case in `cases` with the release plugin.
    pub fn start(cases: &[Case]) -> Result<Self, String> {
        Self::start_build(cases, Build::Wasm)
    }

    /// Starts one Envoy serving every case in `cases` with the dynamic module (debug build).
    pub fn start_module(cases: &[Case]) -> Result<Self, String> {
        Self::start_build(cases, Build::Module)
    }

    fn start_build(cases: &[Case], build: Build) -> Result<Self, String> {
        let upstream = RecordingUpstream::start().map_err(|e| format!("upstream: {e}"))?;
        let module = match build {
            Build::Wasm => polycors_artifacts::plugin_wasm(),
            Build::Module => polycors_artifacts::envoy_module("debug"),
        };
        if !module.is_file() {
            return Err(format!(
                "{} is missing: build it with `cargo xtask build`",
                module.display()
            ));
        }
        let mut listeners: BTreeMap<Vec<u8>, String> = BTreeMap::new();
        let mut keys: BTreeMap<String, BTreeSet<RouteKey>> = BTreeMap::new();
        for case in cases {
            let json = case.plugin_json();
            let count = listeners.len();
            let name = listeners
                .entry(json)
                .or_insert_with(|| format!("config-{count}"))
                .clone();
            let set = keys.entry(name).or_default();
            set.extend(case.requests.iter().map(route_key));
        }
        let mut clusters: BTreeSet<String> = BTreeSet::from([DEFAULT_CLUSTER.to_owned()]);
        let mut routes = BTreeMap::new();
        let mut bootstrap = Bootstrap::default();
        for (json, name) in &listeners {
            let mut listener_routes = Vec::new();
            for (index, key) in keys[name].iter().enumerate() {
                if *key == (None, None) {
                    continue;
                }
                let cluster = key.1.clone().unwrap_or_else(|| DEFAULT_CLUSTER.into());
                clusters.insert(cluster.clone());
                let select = index.to_string();
                listener_routes.push(Route {
                    name: key.0.clone(),
                    match_headers: vec![(SELECT.into(), select.clone())],
                    remove_request_headers: vec![SELECT.into(), ADDED_BY_ENVOY.into()],
                    ..Route::to_cluster(&cluster)
                });
                routes.insert((name.clone(), key.clone()), select);
            }
            listener_routes.push(Route {
                remove_request_headers: vec![ADDED_BY_ENVOY.into()],
                ..Route::to_cluster(DEFAULT_CLUSTER)
            });
            bootstrap.listeners.push(Listener {
                name: name.clone(),
                address: None,
                filters: vec![{
                    let json = std::str::from_utf8(json).map_err(|e| e.to_string())?;
                    match build {
                        Build::Wasm => HttpFilter::wasm(&module, json),
                        Build::Module => HttpFilter::dynamic_module(&module, json),
                    }
                }],
                routes: listener_routes,
            });
        }
        bootstrap.clusters = clusters
            .into_iter()
            .map(|name| Cluster {
                name,
                address: upstream.address(),
            })
            .collect();
        let options = Options {
            // The plugin logs one line per request, with its reason for a rejection.
            component_log_level: Some(
                match build {
                    Build::Wasm => "wasm:debug",
                    Build::Module => "dynamic_modules:debug",
                }
                .into(),
            ),
            ..Options::default()
        };
        let envoy = EnvoyProcess::start(&bootstrap, &options).map_err(|e| e.to_string())?;
        Ok(Self {
            build,
            envoy,
            upstream,
            listeners,
            routes,
        })
    }

    /// The reason in the plugin's line for the request just sent: the first line after the
    /// `logged` ones already in Envoy's log (requests go one at a time). A request the host
    /// answers itself has no line; Envoy may write the line a moment after the response.
    fn plugin_reason(&self, logged: usize) -> Option<String> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        loop {
            let log = self.envoy.log();
            if let Some(line) = log.lines().filter(|l| l.contains(PLUGIN_LINE)).nth(logged) {
                return crate::reason_in_plugin_line(line).flatten();
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// Envoy's log so far (the plugin's warnings and errors are in it).
    pub fn log(&self) -> String {
        self.envoy.log()
    }

    fn outcome(&self, listener: &str, request: &CaseRequest) -> Result<Outcome, String> {
        let address = self
            .envoy
            .listener(listener)
            .ok_or_else(|| format!("no listener {listener}"))?;
        let mut headers: Vec<(Vec<u8>, Vec<u8>)> =
            vec![(b"host".to_vec(), request.authority.as_bytes().to_vec())];
        headers.extend(request.headers.iter().map(|line| {
            let (name, value) = line.pair();
            (name.into_bytes(), value)
        }));
        if let Some(select) = self.routes.get(&(listener.to_owned(), route_key(request))) {
            headers.push((SELECT.as_bytes().to_vec(), select.as_bytes().to_vec()));
        }
        self.upstream.expect(&request.upstream);
        let logged = self.envoy.log().matches(PLUGIN_LINE).count();
        let response = wire::exchange(address, &request.method, &request.path, &headers)
            .map_err(|e| format!("{}: {e}", request.name))?;
        let reason = self.plugin_reason(logged);
        let upstream_saw = self
            .upstream
            .saw()
            .map(|lines| normalise_headers(lines.iter().map(|(n, v)| (&n[..], &v[..]))));
        Ok(Outcome {
            request: request.name.clone(),
            answered_by: if upstream_saw.is_some() {
                "upstream"
            } else {
                "policy"
            },
            status: response.status,
            reason,
            headers: normalise_headers(response.headers.iter().map(|(n, v)| (&n[..], &v[..]))),
            body: crate::show(&response.body),
            upstream_saw,
        })
    }
}

impl Target for Envoy {
    fn name(&self) -> &'static str {
        match self.build {
            Build::Wasm => "envoy",
            Build::Module => "envoy-module",
        }
    }

    fn host(&self) -> &'static str {
        "envoy"
    }

    fn supports_rules(&self) -> bool {
        true
    }

    fn run(&mut self, case: &Case) -> Vec<Outcome> {
        let listener = self
            .listeners
            .get(&case.plugin_json())
            .unwrap_or_else(|| panic!("{}: Envoy was not started with this case", case.name))
            .clone();
        case.requests
            .iter()
            .map(|request| {
                self.outcome(&listener, request)
                    .unwrap_or_else(|e| panic!("{}: {e}\nEnvoy's log:\n{}", case.name, self.log()))
            })
            .collect()
    }
}
