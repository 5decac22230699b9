//! Copied answers: a local answer copied from another request's with the same `answer_key`,
//! with `write_answer_origin`, is exactly the answer written in full, for every pair of
//! requests here under every policy here; and answers that echo request values have no key.

use polycors::adapter::HeaderList;
use polycors::{Decision, Policy, RequestView, Verdict};

const POLICIES: [&str; 9] = [
    "allow_origins: [https://a.example, https://b.example]\nallow_methods: [GET, PUT]\n\
     allow_headers: [x-one, x-two]\nexpose_headers: [x-id]\nallow_credentials: true\nmax_age: 60",
    "allow_origins: ['*']\nallow_methods: [GET, PUT]\nallow_headers: [x-one]",
    "allow_origins: [https://a.example, https://b.example]\nallow_methods: ['*']\n\
     allow_headers: ['*']\nexpose_headers: ['*']\nallow_credentials: true",
    "allow_origins: [https://a.example, https://b.example]\ndebug: true",
    "allow_origins: [https://a.example, https://b.example]\nallow_private_network: true\n\
     allow_headers: [x-one]",
    "allow_origin_patterns: ['https://*.example']\nexpose_headers: ['*']",
    "allow_origins: [https://a.example]\nforward_disallowed_requests: true",
    "allow_origins: [https://a.example, https://b.example]\nallow_methods: [GET, PUT]\n\
     allow_headers: ['*']",
    "allow_origins: [https://a.example, https://b.example]\nallow_methods: ['*']\n\
     allow_headers: [x-one, x-two]",
];

/// Method, then header lines.
type Request = (&'static str, &'static [(&'static str, &'static str)]);

const REQUESTS: [Request; 12] = [
    (
        "OPTIONS",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "PUT"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://b.example"),
            ("access-control-request-method", "PUT"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://b.example"),
            ("access-control-request-method", "GET"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-one"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://b.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "x-two,x-one"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://b.example"),
            ("access-control-request-method", "GET"),
            ("access-control-request-private-network", "true"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "DELETE"),
        ],
    ),
    (
        "OPTIONS",
        &[
            ("origin", "not an origin"),
            ("access-control-request-method", "GET"),
        ],
    ),
    ("GET", &[("origin", "https://evil.example")]),
    ("DELETE", &[("origin", "https://b.example")]),
    (
        "GET",
        &[
            ("origin", "https://a.example"),
            ("origin", "https://b.example"),
        ],
    ),
];

fn view(request: &Request) -> RequestView<'static> {
    let mut view = RequestView::new(request.0.as_bytes());
    view.set_authority(b"api.example");
    for (name, value) in request.1 {
        view.add_header(name.as_bytes(), value.as_bytes());
    }
    view
}

/// The answer written in full onto a response without headers.
fn full(policy: &Policy, decision: &Decision<'_>) -> HeaderList {
    let mut list = HeaderList::default();
    decision.write_headers(&mut list.for_response(policy, decision.origin()));
    list
}

fn sorted(mut list: HeaderList) -> Vec<(Vec<u8>, Vec<u8>)> {
    list.0.sort();
    list.0
}

#[test]
fn a_copied_answer_is_the_answer_written_in_full() {
    let mut pairs = 0;
    for text in POLICIES {
        let policy = Policy::from_yaml(text).expect("valid");
        for first in &REQUESTS {
            let first_view = view(first);
            let first_decision = policy.evaluate(&first_view);
            let Some(key) = first_decision.answer_key() else {
                continue;
            };
            assert!(first_decision.local_answer().is_some(), "{text}: {first:?}");
            let template = full(&policy, &first_decision);
            for second in &REQUESTS {
                let second_view = view(second);
                let second_decision = policy.evaluate(&second_view);
                if second_decision.answer_key() != Some(key) {
                    continue;
                }
                let mut copy = template.clone();
                second_decision
                    .write_answer_origin(&mut copy.for_response(&policy, second_decision.origin()));
                assert_eq!(
                    sorted(copy),
                    sorted(full(&policy, &second_decision)),
                    "{text}\nfirst {first:?}\nsecond {second:?}"
                );
                pairs += 1;
            }
        }
    }
    // Pairs with different origins, methods, headers and reasons were compared.
    assert!(pairs > 100, "only {pairs} pairs");
}

#[test]
fn answers_that_echo_request_values_have_no_key() {
    // `*` methods and headers, `*` headers alone, `*` methods alone.
    let echoing =
        [POLICIES[2], POLICIES[7], POLICIES[8]].map(|text| Policy::from_yaml(text).expect("valid"));
    let debug = Policy::from_yaml(POLICIES[3]).expect("valid");
    let mut checked = 0;
    for request in &REQUESTS {
        let view = view(request);
        // `*` methods echo the requested method; `*` headers echo requested headers.
        let requests_headers = request
            .1
            .iter()
            .any(|(name, _)| *name == "access-control-request-headers");
        for (i, policy) in echoing.iter().enumerate() {
            let decision = policy.evaluate(&view);
            if decision.verdict() == Verdict::Preflight && (i != 1 || requests_headers) {
                assert_eq!(decision.answer_key(), None, "{i} {request:?}");
                checked += 1;
            }
        }
        let decision = debug.evaluate(&view);
        if matches!(decision.verdict(), Verdict::Reject(_)) {
            assert_eq!(decision.answer_key(), None, "{request:?}");
            checked += 1;
        }
        // Forwarded requests are not answered locally.
        for policy in echoing.iter().chain([&debug]) {
            let decision = policy.evaluate(&view);
            if decision.local_answer().is_none() {
                assert_eq!(decision.answer_key(), None, "{request:?}");
            }
        }
    }
    assert!(checked >= 12, "only {checked} answers checked");
}
