//! `Policy::evaluate` on arbitrary requests, against a few fixed policies. The input is a
//! request in text: the first line is the method, then `name: value` lines (any bytes).
//!
//! Differential checks: evaluation is deterministic; applying a decision twice writes the same
//! headers as applying it once; a preflight allowed for a set of requested headers stays allowed
//! for every subset (each item dropped in turn); a request without Origin is never CORS; an
//! origin predicate is asked at most once, about a normalised origin, and a refusing one
//! changes nothing.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use polycors::adapter::HeaderList;
use polycors::{Decision, Policy, RequestView, Verdict};

fn policies() -> &'static [Policy] {
    static POLICIES: OnceLock<Vec<Policy>> = OnceLock::new();
    POLICIES.get_or_init(|| {
        [
            "{}",
            "allow_origins: ['*']\nallow_methods: ['*']\nallow_headers: ['*']\nexpose_headers: ['*']",
            "allow_origin_patterns: ['*']\nallow_credentials: true\nallow_headers: ['*']\nexpose_headers: ['*']\nallow_private_network: true",
            "allow_origins: [http://a.test, 'null', 'http://[::1]:8080']\nallow_origin_patterns: ['http://*.p.test:[*]', 'https://*.q.test:[80,8080]']\nallow_methods: [GET, PATCH]\nallow_headers: [X-Token, Content-Type]\nallow_credentials: true\nmax_age: 0\ndebug: true",
            "allow_origins: [http://a.test, 'http://[0::1]:8080']\nallow_methods: [GET]\nforward_disallowed_requests: true\ndebug: true",
            "allow_origins: [http://a.test]\nallow_origin_patterns: ['http://*.p.test']\nallow_origin_predicate: true\nallow_credentials: true",
        ]
        .iter()
        .map(|yaml| Policy::from_yaml(yaml).expect("valid fuzz policy"))
        .collect()
    })
}

fn parse(data: &[u8]) -> (&[u8], Vec<(&[u8], &[u8])>) {
    let mut lines = data.split(|&b| b == b'\n');
    let method = lines.next().unwrap_or_default();
    let headers = lines
        .filter_map(|line| {
            let at = line.iter().position(|&b| b == b':')?;
            let value = &line[at + 1..];
            let value = value.strip_prefix(b" ").unwrap_or(value);
            Some((&line[..at], value))
        })
        .collect();
    (method, headers)
}

fn view<'a>(method: &'a [u8], headers: &[(&[u8], &'a [u8])]) -> RequestView<'a> {
    let mut view = RequestView::new(method);
    view.set_scheme(b"http").set_authority(b"api.test");
    for (name, value) in headers {
        view.add_header(name, value);
    }
    view
}

fn applied(policy: &Policy, decision: &Decision<'_>, times: usize) -> HeaderList {
    let mut headers = HeaderList(vec![
        (b"vary".to_vec(), b"Accept-Encoding".to_vec()),
        (b"access-control-allow-origin".to_vec(), b"*".to_vec()),
        (b"x-total".to_vec(), b"1".to_vec()),
    ]);
    for _ in 0..times {
        decision.write_headers(&mut headers.for_response(policy, decision.origin()));
    }
    headers
}

fuzz_target!(|data: &[u8]| {
    let (method, headers) = parse(data);
    for policy in policies() {
        let request = view(method, &headers);
        let decision = policy.evaluate(&request);
        let again = policy.evaluate(&request);
        assert_eq!(decision, again, "deterministic");
        assert_eq!(
            applied(policy, &decision, 1),
            applied(policy, &decision, 2),
            "writing the headers is idempotent"
        );
        let _ = decision.action();
        if policy.needs_origin_predicate() {
            let asked = std::cell::Cell::new(0);
            let refusing = policy.evaluate_with(&request, |origin| {
                asked.set(asked.get() + 1);
                let text = origin.as_str();
                assert_eq!(
                    text,
                    text.to_ascii_lowercase(),
                    "normalised: {text}"
                );
                let prefix = format!("{}://{}", origin.scheme(), origin.host());
                assert!(text.starts_with(&prefix), "{text} {prefix}");
                false
            });
            assert!(asked.get() <= 1, "asked {} times", asked.get());
            assert_eq!(refusing, decision, "a refusing predicate changes nothing");
            if asked.get() == 1 {
                let allowing = policy.evaluate_with(&request, |_| true);
                assert_ne!(
                    allowing.verdict(),
                    Verdict::Reject(polycors::Reason::OriginNotAllowed)
                );
            }
        }
        // Forwarding disallowed requests: only preflights are ever answered 403.
        if policy.config().forward_disallowed_requests && !request.is_preflight_shaped() {
            assert!(decision.local_answer().is_none(), "{:?}", decision.verdict());
        }
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(b"origin"))
        {
            assert_eq!(decision.verdict(), Verdict::NotCors);
        }
        // Subsets of allowed requested headers stay allowed.
        if decision.verdict() == Verdict::Preflight {
            let requested: Vec<&[u8]> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(b"access-control-request-headers"))
                .flat_map(|(_, v)| v.split(|&b| b == b','))
                .collect();
            for skip in 0..requested.len() {
                let subset: Vec<u8> = requested
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, item)| *item)
                    .collect::<Vec<_>>()
                    .join(&b","[..]);
                let mut fewer: Vec<(&[u8], &[u8])> = headers
                    .iter()
                    .filter(|(n, _)| !n.eq_ignore_ascii_case(b"access-control-request-headers"))
                    .copied()
                    .collect();
                fewer.push((b"access-control-request-headers", &subset));
                let smaller = policy.evaluate(&view(method, &fewer));
                assert!(
                    smaller.verdict() == Verdict::Preflight,
                    "allowed with {:?}, rejected without item {skip}: {:?}",
                    String::from_utf8_lossy(&requested.join(&b","[..])),
                    smaller.rejection().map(|r| r.to_string())
                );
            }
        }
    }
});
