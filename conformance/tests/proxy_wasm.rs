//! The proxy-wasm plugin in the wasmtime host, beyond the shared snapshots: configuration
//! loading, the response hook, and a randomized hostile-input run compared with the core.
//!
//! Needs the built plugin: `cargo xtask build` (the README's test command builds it first).

use std::sync::OnceLock;

use polycors::ScopedPolicies;
use polycors_conformance::targets::{self, Core, ProxyWasm};
use polycors_conformance::{CaseRequest, HeaderLine, Upstream, normalise_headers};
use polycors_wasm_host::{HostError, HttpRequest, HttpResponse, Plugin, join_like_envoy};

/// The plugin, compiled once for this test binary.
fn plugin() -> &'static Plugin {
    static PLUGIN: OnceLock<ProxyWasm> = OnceLock::new();
    PLUGIN
        .get_or_init(|| ProxyWasm::load().unwrap_or_else(|e| panic!("{e}")))
        .plugin()
}

fn cross_origin_get(origin: &str) -> HttpRequest {
    HttpRequest::new("GET", "http", "api.test", "/").header("origin", origin)
}

#[test]
fn empty_configuration_is_the_default_policy() {
    for configuration in [&b""[..], b"{}", b"  \n"] {
        let mut instance = plugin().instantiate(configuration).expect("configures");
        let exchange = instance
            .http_request(&cross_origin_get("http://anywhere.test"), |_| {
                HttpResponse::new(200)
            })
            .expect("no trap");
        assert_eq!(
            exchange
                .response
                .header_value("access-control-allow-origin"),
            Some(&b"*"[..]),
            "configuration {configuration:?}"
        );
    }
}

#[test]
fn invalid_configuration_fails_on_configure_and_logs_every_error() {
    let configuration = br#"{"allow_origins":["http://a.test/path"],"max_age":-1,"allow_origin":[],
        "_rules_":[{"_match_route_":["r"],"allow_methods":["GET POST"]}]}"#;
    match plugin().instantiate(configuration) {
        Err(HostError::ConfigureFailed { log }) => {
            let all = log.join("\n");
            assert!(all.contains("allow_origins[0]"), "{all}");
            assert!(all.contains("max_age"), "{all}");
            assert!(all.contains("did you mean `allow_origins`"), "{all}");
            assert!(
                all.contains("_rules_[0]") && all.contains("allow_methods[0]"),
                "{all}"
            );
            assert_eq!(log.len(), 4, "one line per error: {all}");
        }
        other => panic!("expected a configure failure, got {other:?}"),
    }
    for broken in [&b"{"[..], b"[1,2]", b"\xff\xfe", b"true"] {
        assert!(
            matches!(
                plugin().instantiate(broken),
                Err(HostError::ConfigureFailed { .. })
            ),
            "{broken:?} must be rejected"
        );
    }
}

#[test]
fn configuration_warnings_are_logged() {
    let instance = plugin()
        .instantiate(br#"{"allow_origins":["*"],"allow_credentials":true}"#)
        .expect("loads with a warning");
    assert!(
        instance
            .log()
            .iter()
            .any(|l| l.level == "warn" && l.message.contains("credentials")),
        "{:?}",
        instance.log()
    );
}

#[test]
fn the_local_reply_passes_the_response_hook_without_repeating_a_header() {
    let mut instance = plugin()
        .instantiate(br#"{"allow_origins":["http://a.test"],"expose_headers":["X-A"]}"#)
        .expect("configures");
    let preflight = HttpRequest::new("OPTIONS", "http", "api.test", "/")
        .header("origin", "http://a.test")
        .header("access-control-request-method", "GET");
    let exchange = instance
        .http_request(&preflight, |_| panic!("a preflight is never forwarded"))
        .expect("no trap");
    assert!(exchange.local_reply);
    let mut names: Vec<&[u8]> = exchange
        .response
        .headers
        .iter()
        .map(|(n, _)| &n[..])
        .collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "{:?}", exchange.response.headers);
    assert_eq!(
        exchange
            .response
            .header_value("access-control-expose-headers"),
        Some(&b"X-A"[..])
    );
}

#[test]
fn rejections_are_logged_with_their_reason_at_debug_level() {
    let mut instance = plugin()
        .instantiate_with_log_level(br#"{"allow_origins":["http://a.test"]}"#, 1)
        .expect("configures");
    let exchange = instance
        .http_request(&cross_origin_get("http://evil.test"), |_| {
            HttpResponse::new(200)
        })
        .expect("no trap");
    assert_eq!(exchange.response.status, 403);
    assert!(
        instance
            .log()
            .iter()
            .any(|l| l.level == "debug" && l.message.contains("http://evil.test")),
        "{:?}",
        instance.log()
    );
}

/// A small deterministic generator (xorshift64*), so a failure is reproducible from its seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Header-value bytes as Envoy can deliver them: anything but NUL, CR and LF.
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = self.below(max + 1);
        (0..len)
            .map(|_| {
                loop {
                    let b = self.next() as u8;
                    if !matches!(b, 0 | b'\r' | b'\n') {
                        break b;
                    }
                }
            })
            .collect()
    }
}

/// Envoy's default `max_request_headers_kb`.
const ENVOY_MAX_REQUEST_HEADERS: usize = 60 * 1024;

const HOSTILE_CONFIG: &str = r#"{
  "allow_origins": ["http://a.test", "https://b.test:8443", "null"],
  "allow_origin_patterns": ["http://*.p.test:[*]", "https://*.q.test:[80,8080]"],
  "allow_methods": ["GET", "POST", "PATCH"],
  "allow_headers": ["Content-Type", "X-Token"],
  "expose_headers": ["*"],
  "allow_credentials": true,
  "allow_private_network": true,
  "max_age": 600,
  "debug": true,
  "_rules_": [
    {"_match_route_": ["open"], "allow_origins": ["*"], "allow_methods": ["*"], "allow_headers": ["*"], "expose_headers": ["*"]},
    {"_match_domain_": ["*.svc.test"], "allow_origin_patterns": ["*"], "allow_credentials": true, "allow_headers": ["*"], "forward_disallowed_requests": true},
    {"_match_service_": ["skip.local"], "allow_origins": ["http://never.test"]}
  ]
}"#;

fn origin_value(random: &mut Random) -> Vec<u8> {
    let fixed = [
        "http://a.test",
        "https://b.test:8443",
        "null",
        "http://x.p.test:1234",
        "https://y.q.test:8080",
        "http://a.test/",
        "http://a.test:80",
        "HTTP://A.TEST",
        "http://evil.test",
        "http://a.test.evil.test",
        "",
        " ",
        "http://[::1]:8080",
        "http://[::1",
        "http://a.test:65536",
        "http://user@a.test",
        "*",
        "https://y.q.test",
        "http://.p.test",
        "http://x.p.test.",
        "http://api.test",
    ];
    match random.below(10) {
        0..=5 => random.pick(&fixed).as_bytes().to_vec(),
        6 => random.bytes(40),
        7 => {
            let mut v = b"http://".to_vec();
            v.extend(random.bytes(30));
            v
        }
        8 => {
            // Huge: up to 56 KiB of host.
            let mut v = b"http://".to_vec();
            v.extend(std::iter::repeat_n(b'a', random.below(56 * 1024)));
            v.extend_from_slice(b".p.test");
            v
        }
        _ => {
            let mut v = random.pick(&fixed).as_bytes().to_vec();
            v.push(0x80 + random.below(0x7f) as u8);
            v
        }
    }
}

fn request_headers_value(random: &mut Random) -> Vec<u8> {
    let names = [
        "content-type",
        "x-token",
        "X-Token",
        "authorization",
        "x-other",
        "",
        " ",
        "bad name",
        "\u{e9}",
    ];
    match random.below(6) {
        0 => random.bytes(100),
        1 => {
            // Many items: around the 64-item bound.
            let count = 50 + random.below(30);
            (0..count)
                .map(|i| format!("x-h{i}"))
                .collect::<Vec<_>>()
                .join(",")
                .into_bytes()
        }
        2 => vec![b'x'; 3000 + random.below(6000)],
        _ => {
            let count = random.below(6);
            let items: Vec<&str> = (0..count).map(|_| *random.pick(&names)).collect();
            let separator = *random.pick(&[",", ", ", " ,", ",,"]);
            items.join(separator).into_bytes()
        }
    }
}

fn random_request(random: &mut Random, index: usize) -> CaseRequest {
    let methods = [
        "GET", "POST", "OPTIONS", "OPTIONS", "OPTIONS", "PUT", "DELETE", "PATCH", "HEAD",
        "PROPFIND", "get",
    ];
    let authorities = [
        "api.test",
        "api.test:8080",
        "a.test",
        "x.svc.test",
        "x.svc.test:443",
        "API.TEST",
    ];
    let mut headers = Vec::new();
    let well_formed_preflight = random.below(3) == 0;
    if well_formed_preflight {
        // A well-formed preflight from an origin some policy allows, so that allowed preflights
        // are common enough to be compared too.
        let origin = *random.pick(&[
            "http://a.test",
            "https://b.test:8443",
            "http://x.p.test:1234",
            "http://any.test",
        ]);
        headers.push(HeaderLine::Text("origin".into(), origin.into()));
        headers.push(HeaderLine::Text(
            "access-control-request-method".into(),
            random.pick(&["GET", "POST", "PATCH"]).to_string(),
        ));
        if random.below(2) == 0 {
            headers.push(HeaderLine::Text(
                "access-control-request-headers".into(),
                random
                    .pick(&["content-type", "X-Token, content-type", "x-token"])
                    .to_string(),
            ));
        }
    }
    let lines = random.below(9);
    for _ in 0..lines {
        let line = match random.below(10) {
            0..=2 => HeaderLine::Bytes {
                name: "origin".into(),
                hex: origin_value(random),
            },
            3 => HeaderLine::Bytes {
                name: "access-control-request-method".into(),
                hex: random
                    .pick(&[
                        &b"GET"[..],
                        b"POST",
                        b"PUT",
                        b"patch",
                        b"",
                        b"GET POST",
                        b"\xff",
                    ])
                    .to_vec(),
            },
            4 | 5 => HeaderLine::Bytes {
                name: "access-control-request-headers".into(),
                hex: request_headers_value(random),
            },
            6 => HeaderLine::Bytes {
                name: "access-control-request-private-network".into(),
                hex: random
                    .pick(&[&b"true"[..], b"false", b"TRUE", b""])
                    .to_vec(),
            },
            7 => HeaderLine::Bytes {
                name: "sec-fetch-site".into(),
                hex: random
                    .pick(&[&b"same-origin"[..], b"cross-site", b"Same-Origin "])
                    .to_vec(),
            },
            _ => HeaderLine::Bytes {
                name: random
                    .pick(&["x-random", "cookie", "user-agent", "host-ish", "vary"])
                    .to_string(),
                hex: random.bytes(200),
            },
        };
        headers.push(line);
    }
    // Envoy rejects request headers over `max_request_headers_kb` (60 KiB by default) with a
    // 431 before any filter runs; stay within it.
    while headers.iter().map(|h| h.pair().1.len() + 64).sum::<usize>() > ENVOY_MAX_REQUEST_HEADERS {
        headers.pop();
    }
    let upstream_headers = [
        ("vary", "Accept-Encoding"),
        ("vary", "*"),
        ("vary", "origin"),
        ("access-control-allow-origin", "*"),
        ("access-control-max-age", "1"),
        ("x-cors-version", "0"),
        ("set-cookie", "a=b"),
        ("x-total", "3"),
        ("content-type", "text/plain"),
        ("Access-Control-Expose-Headers", "x-secret"),
    ];
    let upstream_count = random.below(5);
    let upstream = Upstream {
        status: *random.pick(&[200, 204, 404, 500]),
        headers: (0..upstream_count)
            .map(|_| {
                let (n, v) = random.pick(&upstream_headers);
                (n.to_string(), v.to_string())
            })
            .collect(),
        body: "upstream body".into(),
    };
    let method = if well_formed_preflight {
        "OPTIONS".to_owned()
    } else {
        random.pick(&methods).to_string()
    };
    CaseRequest {
        name: format!("hostile #{index}"),
        method,
        authority: random.pick(&authorities).to_string(),
        path: "/".into(),
        headers,
        route_name: random
            .pick(&[None, Some("open"), Some("other")])
            .map(str::to_owned),
        cluster_name: random
            .pick(&[None, Some("outbound|80||skip.local"), Some("garbage")])
            .map(str::to_owned),
        upstream,
        host_answers: Default::default(),
    }
}

/// 100,000 random and malformed requests through one plugin instance: no trap, every response
/// equal to the core's for the same input, and no memory growth: replaying the first 20,000
/// requests twice afterwards may grow the guest's memory by at most one page the first time
/// (the allocator's free lists settling) and not at all the second time (a leak of a few
/// bytes per request would grow it on every replay).
#[test]
fn hostile_inputs_never_trap_never_grow_memory_and_match_the_core() {
    const REQUESTS: usize = 100_000;
    const REPLAYED: usize = 20_000;
    const MEMORY_CEILING: usize = 4 << 20;
    let seed = std::env::var("POLYCORS_HOSTILE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_cafe_f00d_u64);
    let reference = ScopedPolicies::from_json(HOSTILE_CONFIG.as_bytes()).expect("valid");
    let mut instance = plugin()
        .instantiate_with_log_level(HOSTILE_CONFIG.as_bytes(), targets::DEBUG)
        .expect("configures");
    let mut kinds = [0usize; 3];
    let mut random = Random(seed);
    for index in 0..REQUESTS {
        let request = random_request(&mut random, index);
        let mut expected = Core::outcome(&reference, &request);
        if let Some(saw) = &mut expected.upstream_saw {
            // What the upstream receives is the request as Envoy's codec handed it on.
            let mut lines = vec![(b"host".to_vec(), request.authority.as_bytes().to_vec())];
            lines.extend(request.headers.iter().map(|h| {
                let (name, value) = h.pair();
                (name.into_bytes(), value)
            }));
            *saw = normalise_headers(
                join_like_envoy(&lines)
                    .iter()
                    .map(|(n, v)| (&n[..], &v[..])),
            );
        }
        let actual = ProxyWasm::outcome(&mut instance, &request)
            .unwrap_or_else(|e| panic!("seed {seed}, request {index}: {e}\n{request:?}"));
        assert_eq!(
            actual, expected,
            "seed {seed}, request {index}: {request:?}"
        );
        kinds[match (actual.answered_by, actual.status) {
            ("policy", 403) => 0,
            ("policy", _) => 1,
            _ => 2,
        }] += 1;
        if index % 1000 == 0 {
            instance.take_log();
        }
    }
    // The generator must exercise every kind of outcome, or the comparison proves little.
    assert!(
        kinds.iter().all(|&k| k > REQUESTS / 50),
        "403 / preflight / forwarded: {kinds:?}"
    );
    let high_water = instance.memory_size();
    assert!(
        high_water <= MEMORY_CEILING,
        "guest memory reached {high_water} bytes"
    );

    let mut replay = || {
        let mut random = Random(seed);
        for index in 0..REPLAYED {
            let request = random_request(&mut random, index);
            ProxyWasm::outcome(&mut instance, &request)
                .unwrap_or_else(|e| panic!("replay of request {index}: {e}"));
            if index % 1000 == 0 {
                instance.take_log();
            }
        }
        instance.memory_size()
    };
    const WASM_PAGE: usize = 64 << 10;
    let after_first = replay();
    assert!(
        after_first <= high_water + WASM_PAGE,
        "guest memory grew from {high_water} to {after_first} bytes replaying {REPLAYED} requests"
    );
    let after_second = replay();
    assert_eq!(
        after_second, after_first,
        "guest memory grew from {after_first} to {after_second} bytes on a second replay of {REPLAYED} requests: a leak"
    );
    eprintln!(
        "hostile run: 403 / preflight / forwarded = {kinds:?}, guest memory {high_water} bytes"
    );
}

/// Requests in the form browsers send allocate nothing in the plugin once it is warm: the
/// plugin counts its allocations (`polycors_allocations`), read before and after 10,000
/// requests of each kind: allowed actual (with a `Vary` to merge), allowed preflight, rejected,
/// without `Origin`.
#[test]
fn browser_form_requests_allocate_nothing_once_warm() {
    let config = polycors_artifacts::SEED_CONFIG.as_bytes();
    let mut instance = plugin().instantiate(config).expect("configures");
    let browser = |method: &str, origin: Option<&str>| {
        let mut request =
            HttpRequest::new(method, "http", "httpbin.example.com", "/anything/get?foo=1")
                .header(
                    "user-agent",
                    "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0.0.0",
                )
                .header("accept", "*/*")
                .header("accept-language", "en-US,en;q=0.9");
        if let Some(origin) = origin {
            request = request
                .header("origin", origin)
                .header("sec-fetch-mode", "cors")
                .header("sec-fetch-site", "cross-site");
        }
        request
    };
    let requests = [
        (
            "actual",
            browser("GET", Some("http://httpbin2.example.org:9090")),
        ),
        (
            "preflight",
            browser("OPTIONS", Some("http://httpbin2.example.org:9090"))
                .header("access-control-request-method", "POST")
                .header("access-control-request-headers", "content-type,token"),
        ),
        ("rejected", browser("GET", Some("http://evil.example"))),
        ("no origin", browser("GET", None)),
    ];
    let upstream = |_: &[(Vec<u8>, Vec<u8>)]| {
        HttpResponse::new(200)
            .header("content-type", "application/json")
            .header("vary", "Accept-Encoding")
            .body("{}")
    };
    for (kind, request) in &requests {
        for _ in 0..1_000 {
            instance.http_request(request, upstream).expect("no trap");
        }
        let before = instance
            .call_u64_export("polycors_allocations")
            .expect("no trap")
            .expect("the plugin counts its allocations");
        for _ in 0..10_000 {
            instance.http_request(request, upstream).expect("no trap");
        }
        let after = instance
            .call_u64_export("polycors_allocations")
            .expect("no trap")
            .expect("the plugin counts its allocations");
        assert_eq!(
            after - before,
            0,
            "{kind}: {} allocations in 10,000 requests",
            after - before
        );
    }
    assert!(
        instance
            .call_u64_export("polycors_allocations")
            .expect("no trap")
            .expect("counted")
            > 0,
        "the counter sees the plugin's start-up allocations"
    );
}
