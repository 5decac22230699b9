//! Every invalid configuration of `conformance/config-errors.yaml` is refused by every target
//! that loads configurations, with every error reported in the core's words: the core returns
//! them (loading as the gateways do, which refuse origin predicates); the plugin logs them and
//! fails `on_configure`, in the wasmtime host and in a real Envoy (which then refuses to start,
//! its log naming each field).

use polycors::ScopedPolicies;
use polycors_conformance::{ConfigErrorCase, load_config_errors};
use polycors_envoy_runner::{Bootstrap, Envoy, EnvoyError, HttpFilter, Listener, Options, Route};
use polycors_wasm_host::{HostError, Plugin};

fn cases() -> Vec<ConfigErrorCase> {
    let cases = load_config_errors();
    assert!(cases.len() >= 15, "the file has {} cases", cases.len());
    cases
}

#[test]
fn the_core_reports_every_error_in_order() {
    for case in cases() {
        let loaded = ScopedPolicies::from_json(&case.bytes())
            .and_then(ScopedPolicies::refuse_origin_predicates);
        let errors = match loaded {
            Ok(_) => panic!("{}: accepted", case.name),
            Err(invalid) => invalid
                .errors()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        };
        assert_eq!(errors, case.errors, "{}", case.name);
    }
}

#[test]
fn the_plugin_in_the_wasmtime_host_fails_to_configure_and_logs_every_error() {
    let plugin = Plugin::load(&polycors_artifacts::plugin_wasm()).unwrap_or_else(|e| panic!("{e}"));
    for case in cases() {
        match plugin.instantiate(&case.bytes()) {
            Err(HostError::ConfigureFailed { log }) => {
                let expected: Vec<String> = case
                    .errors
                    .iter()
                    .map(|e| format!("polycors: invalid configuration: {e}"))
                    .collect();
                assert_eq!(log, expected, "{}", case.name);
            }
            other => panic!("{}: expected a configure failure, got {other:?}", case.name),
        }
    }
}

/// Envoy with the plugin configured with `configuration`: it must refuse to start.
fn envoy_log(configuration: &[u8]) -> Result<String, String> {
    let text = String::from_utf8(configuration.to_vec()).map_err(|e| e.to_string())?;
    let bootstrap = Bootstrap {
        listeners: vec![Listener {
            name: "invalid".into(),
            address: None,
            filters: vec![HttpFilter::wasm(&polycors_artifacts::plugin_wasm(), &text)],
            routes: vec![Route::direct(200, "never")],
        }],
        clusters: vec![],
    };
    match Envoy::start(&bootstrap, &Options::default()) {
        Err(EnvoyError::Exited { log, .. }) => Ok(log),
        Err(other) => Err(other.to_string()),
        Ok(_) => Err("Envoy started".into()),
    }
}

#[test]
fn envoy_refuses_to_start_and_its_log_names_every_error() {
    let cases = cases();
    // Two Envoys at a time (this machine has two cores).
    let failures: Vec<String> = cases
        .chunks(2)
        .flat_map(|pair| {
            std::thread::scope(|scope| {
                let runs: Vec<_> = pair
                    .iter()
                    .map(|case| scope.spawn(move || (case, envoy_log(&case.bytes()))))
                    .collect();
                runs.into_iter()
                    .map(|run| run.join().expect("no panic"))
                    .filter_map(|(case, result)| match result {
                        Err(e) => Some(format!("{}: {e}", case.name)),
                        Ok(log) => {
                            let missing: Vec<&String> = case
                                .errors
                                .iter()
                                .filter(|e| !log.contains(e.as_str()))
                                .collect();
                            (!missing.is_empty()).then(|| {
                                format!("{}: Envoy's log lacks {missing:?}:\n{log}", case.name)
                            })
                        }
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
