//! The Envoy dynamic module in a real Envoy, beyond the conformance cases: an invalid
//! configuration is refused at load with the field named in Envoy's log, a panic inside the
//! filter becomes a 500 (Envoy keeps serving), and decisions are counted in Envoy's stats.

use std::collections::BTreeMap;

use polycors::counters::Counter;
use polycors_conformance::wire::exchange;
use polycors_envoy_runner::{Bootstrap, Envoy, EnvoyError, HttpFilter, Listener, Options, Route};

fn bootstrap(library: &std::path::Path, configuration: &str) -> Bootstrap {
    Bootstrap {
        listeners: vec![Listener {
            name: "module".into(),
            address: None,
            filters: vec![HttpFilter::dynamic_module(library, configuration)],
            routes: vec![Route::direct(200, "ok")],
        }],
        clusters: Vec::new(),
    }
}

fn module(path: std::path::PathBuf) -> std::path::PathBuf {
    assert!(
        path.is_file(),
        "{} is missing: `cargo xtask test` builds it",
        path.display()
    );
    path
}

fn send(
    envoy: &Envoy,
    method: &str,
    headers: &[(&str, &str)],
) -> polycors_conformance::wire::Response {
    let address = envoy.listener("module").expect("listener bound");
    let mut lines: Vec<(Vec<u8>, Vec<u8>)> = vec![(b"host".to_vec(), b"api.test".to_vec())];
    lines.extend(
        headers
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())),
    );
    exchange(address, method, "/", &lines).expect("Envoy answers")
}

#[test]
fn an_invalid_configuration_is_refused_naming_the_field() {
    let library = module(polycors_artifacts::envoy_module("debug"));
    let result = Envoy::start(
        &bootstrap(
            &library,
            r#"{"allow_origins": ["http://a.test/app"], "max_age": -1}"#,
        ),
        &Options::default(),
    );
    let log = match result {
        Err(EnvoyError::Exited { log, .. }) => log,
        Err(other) => panic!("expected Envoy to refuse the configuration, got: {other}"),
        Ok(envoy) => {
            envoy.stop();
            panic!("Envoy accepted an invalid configuration");
        }
    };
    assert!(
        log.contains(r#"allow_origins[0]: "http://a.test/app" is not an origin"#)
            && log.contains("max_age: must not be negative"),
        "{log}"
    );
}

#[test]
fn a_policy_needing_an_origin_predicate_is_refused() {
    let library = module(polycors_artifacts::envoy_module("debug"));
    let result = Envoy::start(
        &bootstrap(
            &library,
            r#"{"allow_origins": ["https://a.test"], "allow_origin_predicate": true}"#,
        ),
        &Options::default(),
    );
    match result {
        Err(EnvoyError::Exited { log, .. }) => assert!(
            log.contains(
                "polycors: invalid configuration: allow_origin_predicate: needs an origin predicate, application code that only polycors-tower and polycors-actix run"
            ),
            "{log}"
        ),
        Err(other) => panic!("expected Envoy to refuse the configuration, got: {other}"),
        Ok(envoy) => {
            envoy.stop();
            panic!("Envoy accepted a policy needing an origin predicate");
        }
    }
}

#[test]
fn a_panic_in_the_filter_is_a_500_and_envoy_keeps_serving() {
    let library = module(polycors_artifacts::envoy_module_panicking());
    let envoy = Envoy::start(
        &bootstrap(&library, r#"{"allow_origins": ["https://a.example"]}"#),
        &Options::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let response = send(
        &envoy,
        "GET",
        &[
            ("origin", "https://a.example"),
            ("x-polycors-test-panic", "1"),
        ],
    );
    assert_eq!(response.status, 500);
    assert_eq!(response.body, b"polycors: internal error");
    // The same Envoy, the next request: served as usual.
    let response = send(&envoy, "GET", &[("origin", "https://a.example")]);
    assert_eq!(response.status, 200);
    assert!(
        response
            .headers
            .iter()
            .any(|(n, v)| n == b"access-control-allow-origin" && v == b"https://a.example")
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !envoy
        .log()
        .contains("polycors: panic while deciding a request; answered 500")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no log line:\n{}",
            envoy.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    envoy.stop();
}

#[test]
fn decisions_are_counted_in_envoy_stats() {
    let library = module(polycors_artifacts::envoy_module("debug"));
    let envoy = Envoy::start(
        &bootstrap(
            &library,
            r#"{"allow_origins": ["https://a.example"], "allow_methods": ["GET", "POST"]}"#,
        ),
        &Options::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let good = ("origin", "https://a.example");
    send(
        &envoy,
        "OPTIONS",
        &[good, ("access-control-request-method", "POST")],
    );
    send(&envoy, "GET", &[good]);
    send(&envoy, "GET", &[good]);
    send(&envoy, "GET", &[]);
    send(&envoy, "GET", &[("origin", "https://evil.example")]);
    send(
        &envoy,
        "OPTIONS",
        &[good, ("access-control-request-method", "PUT")],
    );
    let mut expected: BTreeMap<String, u64> = Counter::ALL.iter().map(|c| (c.name(), 0)).collect();
    for (counter, n) in [
        (Counter::Preflight, 1),
        (Counter::Actual, 2),
        (Counter::NotCors, 1),
        (Counter::Rejected, 2),
        (
            Counter::RejectedBecause(polycors::Reason::OriginNotAllowed),
            1,
        ),
        (
            Counter::RejectedBecause(polycors::Reason::MethodNotAllowed),
            1,
        ),
    ] {
        expected.insert(counter.name(), n);
    }
    let stats = envoy
        .admin_get("/stats?filter=polycors")
        .expect("admin /stats");
    envoy.stop();
    // Envoy shows a dynamic module's counters under a prefix of its own; the names are ours.
    let shown: BTreeMap<String, u64> = stats
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(": ")?;
            let name = &name[name.find("polycors.")?..];
            Some((name.to_owned(), value.trim().parse().ok()?))
        })
        .collect();
    assert_eq!(shown, expected, "admin /stats:\n{stats}");
}
