//! `polycors serve` (also `cargo xtask serve`): a local HTTP server that enforces a polycors
//! policy through the tower, actix-web or proxy-wasm adapter (in the wasmtime host or in a
//! real Envoy), in front of a built-in httpbin-like upstream, logging one line per request with
//! what the adapter decided.

mod actix_front;
mod envoy_front;
mod hyper_front;
mod log;
mod options;
mod upstream;

use polycors::{Policy, ScopedPolicies};
use polycors_envoy_runner::HttpFilter;
use polycors_wasm_host::Plugin;

pub use options::{Adapter, ServeArgs};

/// Runs the server until it is stopped.
pub fn run(options: &ServeArgs) -> Result<(), String> {
    log::set_quiet(options.quiet);
    let (policies, source) = options.policies()?;
    let announce = |address: std::net::SocketAddr| {
        let policy = if options.no_policy {
            "no policy (--no-policy)".to_owned()
        } else {
            format!("policy from {source}")
        };
        println!(
            "polycors serve: {} adapter, {policy}, listening on http://{address}",
            options.adapter.name()
        );
    };
    let plugin = || {
        options
            .wasm
            .clone()
            .unwrap_or_else(polycors_artifacts::plugin_wasm)
    };
    if matches!(options.adapter, Adapter::Envoy | Adapter::EnvoyModule) {
        let filter = (!options.no_policy).then(|| match options.adapter {
            Adapter::EnvoyModule => HttpFilter::dynamic_module(
                &polycors_artifacts::envoy_module("debug"),
                &policies.to_json(),
            ),
            _ => HttpFilter::wasm(&plugin(), &policies.to_json()),
        });
        return envoy_front::serve(options.listen, filter, announce);
    }

    let listener = std::net::TcpListener::bind(options.listen)
        .map_err(|e| format!("cannot listen on {}: {e}", options.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let announce = || announce(address);
    match (options.adapter, options.no_policy) {
        (Adapter::Actix, no_policy) => {
            let policy = if no_policy {
                None
            } else {
                Some(global_policy(&policies, Adapter::Actix)?)
            };
            announce();
            actix_front::serve(listener, policy).map_err(|e| e.to_string())
        }
        (_, true) => on_tokio(listener, announce, hyper_front::serve_plain),
        (Adapter::Tower, false) => {
            let policy = global_policy(&policies, Adapter::Tower)?;
            on_tokio(listener, announce, |listener| {
                hyper_front::serve_tower(listener, policy)
            })
        }
        (Adapter::ProxyWasm | Adapter::Envoy | Adapter::EnvoyModule, false) => {
            let plugin = Plugin::load(&plugin()).map_err(|e| e.to_string())?;
            // The plugin logs each request's line at debug level.
            let level = if options.quiet { 2 } else { 1 };
            let json = policies.to_json();
            // One configured instance per worker thread, as Envoy runs one VM per worker.
            let instances = (0..WORKERS)
                .map(|_| plugin.instantiate_with_log_level(json.as_bytes(), level))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            on_tokio(listener, announce, |listener| {
                hyper_front::serve_proxy_wasm(listener, instances)
            })
        }
    }
}

/// Runs a hyper front end on the tokio runtime, announcing once the listener is ready.
fn on_tokio<F, Fut>(
    listener: std::net::TcpListener,
    announce: impl FnOnce(),
    serve: F,
) -> Result<(), String>
where
    F: FnOnce(tokio::net::TcpListener) -> Fut,
    Fut: Future<Output = std::io::Result<()>>,
{
    runtime()?.block_on(async {
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        announce();
        serve(listener).await.map_err(|e| e.to_string())
    })
}

/// tower and actix-web take one policy: the configuration's global one.
fn global_policy(policies: &ScopedPolicies, adapter: Adapter) -> Result<Policy, String> {
    policies.global().cloned().ok_or_else(|| {
        format!(
            "the configuration has only `_rules_`, which the {} adapter does not select by; \
             give a top-level policy or use --adapter proxy-wasm or envoy",
            adapter.name()
        )
    })
}

/// Worker threads (and plugin instances) of the hyper front end.
pub(crate) const WORKERS: usize = 2;

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
}
