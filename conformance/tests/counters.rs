//! The plugin's decision counters: one known sequence of requests, then exactly the expected
//! counts, in the wasmtime host's metrics and in a real Envoy's admin `/stats`.

use std::collections::BTreeMap;

use polycors::counters::Counter;
use polycors_envoy_runner::{Bootstrap, Envoy, HttpFilter, Listener, Options, Route};
use polycors_wasm_host::{HttpRequest, HttpResponse, Plugin};

/// A global policy, and a route (`lenient`) that forwards disallowed requests.
const SCOPED: &str = r#"{
  "allow_origins": ["https://a.example"], "allow_methods": ["GET", "POST"],
  "_rules_": [{"_match_route_": ["lenient"], "allow_origins": ["https://a.example"],
               "forward_disallowed_requests": true}]
}"#;
/// Rules only: a request no rule matches gets no policy.
const RULES_ONLY: &str = r#"{"_rules_": [{"_match_route_": ["elsewhere"]}]}"#;

/// One request: which configuration, its route, method and headers.
struct Sent {
    config: &'static str,
    route: Option<&'static str>,
    method: &'static str,
    headers: &'static [(&'static str, &'static str)],
}

const GOOD: (&str, &str) = ("origin", "https://a.example");
const EVIL: (&str, &str) = ("origin", "https://evil.example");

fn requests() -> Vec<Sent> {
    let sent = |config, route, method, headers| Sent {
        config,
        route,
        method,
        headers,
    };
    vec![
        sent(
            SCOPED,
            None,
            "OPTIONS",
            &[GOOD, ("access-control-request-method", "POST")],
        ),
        sent(
            SCOPED,
            None,
            "OPTIONS",
            &[GOOD, ("access-control-request-method", "GET")],
        ),
        sent(SCOPED, None, "GET", &[GOOD]),
        sent(SCOPED, None, "GET", &[]),
        sent(SCOPED, None, "GET", &[EVIL]),
        sent(SCOPED, None, "POST", &[EVIL]),
        sent(
            SCOPED,
            None,
            "OPTIONS",
            &[GOOD, ("access-control-request-method", "DELETE")],
        ),
        sent(SCOPED, None, "GET", &[("origin", "not an origin")]),
        sent(SCOPED, Some("lenient"), "GET", &[EVIL]),
        sent(RULES_ONLY, None, "GET", &[GOOD]),
        sent(RULES_ONLY, None, "GET", &[GOOD]),
    ]
}

/// What [`requests`] must count; every other counter stays 0.
fn expected() -> BTreeMap<String, i64> {
    use polycors::Reason as R;
    let mut counts: BTreeMap<String, i64> = Counter::ALL.iter().map(|c| (c.name(), 0)).collect();
    for (counter, n) in [
        (Counter::Preflight, 2),
        (Counter::Actual, 1),
        (Counter::NotCors, 1),
        (Counter::Rejected, 4),
        (Counter::RejectedBecause(R::OriginNotAllowed), 2),
        (Counter::RejectedBecause(R::MethodNotAllowed), 1),
        (Counter::RejectedBecause(R::InvalidOrigin), 1),
        (Counter::ForwardedDisallowed, 1),
        (Counter::DisallowedBecause(R::OriginNotAllowed), 1),
        (Counter::NoPolicy, 2),
    ] {
        counts.insert(counter.name(), n);
    }
    counts
}

#[test]
fn the_wasmtime_host_sees_exactly_the_expected_counts() {
    let module = polycors_artifacts::plugin_wasm();
    let plugin = Plugin::load(&module).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (build it with `cargo xtask build`)",
            module.display()
        )
    });
    let mut totals: BTreeMap<String, i64> = BTreeMap::new();
    for config in [SCOPED, RULES_ONLY] {
        let mut instance = plugin.instantiate(config.as_bytes()).expect("configures");
        for sent in requests().iter().filter(|s| s.config == config) {
            let mut request = HttpRequest::new(sent.method, "http", "api.test", "/");
            request.headers = sent
                .headers
                .iter()
                .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect();
            request.route_name = sent.route.map(|r| r.as_bytes().to_vec());
            instance
                .http_request(&request, |_| HttpResponse::new(200))
                .expect("no trap");
        }
        // Requests only count locally: the host sees nothing until the timer fires.
        assert!(instance.metrics().iter().all(|(_, value)| *value == 0));
        assert_eq!(instance.tick_period_ms(), Some(1000));
        instance.tick().expect("no trap");
        for (name, value) in instance.metrics() {
            *totals.entry(name).or_default() += value;
        }
    }
    assert_eq!(totals, expected());
}

#[test]
fn envoy_admin_stats_show_exactly_the_expected_counts() {
    let module = polycors_artifacts::plugin_wasm();
    assert!(
        module.is_file(),
        "{} is missing: build it with `cargo xtask build`",
        module.display()
    );
    let listener = |name: &str, config: &str| Listener {
        name: name.into(),
        address: None,
        filters: vec![HttpFilter::wasm(&module, config)],
        routes: vec![
            Route {
                name: Some("lenient".into()),
                match_headers: vec![("x-route".into(), "lenient".into())],
                ..Route::direct(200, "ok")
            },
            Route::direct(200, "ok"),
        ],
    };
    let bootstrap = Bootstrap {
        listeners: vec![
            listener("scoped", SCOPED),
            listener("rules-only", RULES_ONLY),
        ],
        clusters: Vec::new(),
    };
    let envoy = Envoy::start(&bootstrap, &Options::default()).unwrap_or_else(|e| {
        panic!("Envoy does not start: {e} (`cargo xtask test` installs Envoy 1.40)")
    });
    for sent in requests() {
        let name = if sent.config == SCOPED {
            "scoped"
        } else {
            "rules-only"
        };
        let address = envoy.listener(name).expect("listener bound");
        let mut headers: Vec<(Vec<u8>, Vec<u8>)> = vec![(b"host".to_vec(), b"api.test".to_vec())];
        headers.extend(
            sent.headers
                .iter()
                .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())),
        );
        if let Some(route) = sent.route {
            headers.push((b"x-route".to_vec(), route.as_bytes().to_vec()));
        }
        polycors_conformance::wire::exchange(address, sent.method, "/", &headers)
            .expect("Envoy answers");
    }
    // Envoy shows a wasm plugin's metrics under `wasmcustom.`, the plugin's name as defined.
    // The plugin hands its counts over on its 1 s timer: wait for them, at most 10 s.
    let read = || {
        let stats = envoy
            .admin_get("/stats?filter=polycors")
            .expect("admin /stats");
        let shown: BTreeMap<String, i64> = stats
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once(": ")?;
                let name = name.strip_prefix("wasmcustom.")?;
                Some((name.to_owned(), value.trim().parse().ok()?))
            })
            .collect();
        (shown, stats)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (mut shown, mut stats) = read();
    while shown != expected() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
        (shown, stats) = read();
    }
    // Counts stay exact after more ticks (nothing counted twice).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let (later, _) = read();
    envoy.stop();
    assert_eq!(shown, expected(), "admin /stats:\n{stats}");
    assert_eq!(later, expected(), "after more ticks");
}
