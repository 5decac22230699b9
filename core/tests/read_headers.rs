//! Property test: a view read by name for a policy (`Policy::read_headers`, as the tower and
//! actix-web adapters fill it from their hash maps) is decided by that policy as the view
//! built from every line (`RequestView::add_header`, as the proxy hosts fill it) is: the same
//! verdict and the same headers, whatever the lines, their order, repetitions and case.

use polycors::adapter::HeaderList;
use polycors::{Policy, RequestView};
use proptest::prelude::*;

const POLICIES: [&str; 4] = [
    "allow_origins: [https://a.example, 'null']\nallow_methods: [GET, PUT]\nallow_headers: [x-token]\nallow_credentials: true\ndebug: true",
    "allow_origins: ['*']\nallow_private_network: true\nallow_headers: ['*']",
    "allow_origins: [https://a.example]\nallow_origin_patterns: ['https://*.b.example']\nallow_methods: ['*']\nallow_private_network: true\nforward_disallowed_requests: true",
    "allow_origins: [https://a.example, http://api.example]\nexpose_headers: ['*']\nallow_credentials: true",
];

/// Each header the core may read, and values that exercise its checks, plus headers it never
/// reads.
const HEADERS: [(&str, &[&str]); 11] = [
    (
        "origin",
        &[
            "https://a.example",
            "null",
            "https://x.b.example",
            "https://evil.example",
            "http://api.example",
            "https://a.example,https://evil.example",
            "not an origin",
        ],
    ),
    ("host", &["api.example", "a.example", "x.b.example:443"]),
    (
        "access-control-request-method",
        &["PUT", "DELETE", "", "G T"],
    ),
    (
        "access-control-request-headers",
        &["x-token", "X-Token, content-type", "", "bad header"],
    ),
    ("access-control-request-private-network", &["true", "false"]),
    ("sec-fetch-site", &["same-origin", "cross-site"]),
    ("forwarded", &["host=a.example;proto=https", "for=1.2.3.4"]),
    ("x-forwarded-host", &["a.example", "x.b.example"]),
    ("x-forwarded-proto", &["https", "http"]),
    ("accept", &["*/*"]),
    ("user-agent", &["test"]),
];

/// A header line: which of [`HEADERS`], which value, and which letters are uppercase.
fn line() -> impl Strategy<Value = (String, &'static str)> {
    (0..HEADERS.len(), 0..8usize, any::<u64>()).prop_map(|(header, value, case)| {
        let (name, values) = HEADERS[header];
        let name = name
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if case >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect();
        (name, values[value % values.len()])
    })
}

fn view<'a>(
    method: &'a str,
    authority: Option<&'a str>,
    scheme: Option<&'a str>,
    trusted: bool,
) -> RequestView<'a> {
    let mut view = RequestView::new(method.as_bytes());
    if let Some(authority) = authority {
        view.set_authority(authority.as_bytes());
    }
    if let Some(scheme) = scheme {
        view.set_scheme(scheme.as_bytes());
    }
    if trusted {
        view.trust_forwarded_headers();
    }
    view
}

/// The decision's verdict and the headers it writes on a response with a `content-type`.
fn outcome(policy: &Policy, view: &RequestView<'_>) -> (String, HeaderList) {
    let decision = policy.evaluate(view);
    let mut list = HeaderList(vec![(b"content-type".to_vec(), b"text/plain".to_vec())]);
    decision.write_headers(&mut list.for_response(policy, decision.origin()));
    (format!("{:?}", decision.verdict()), list)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn reading_by_name_decides_as_every_line_does(
        policy in 0..POLICIES.len(),
        method in prop::sample::select(vec!["GET", "OPTIONS", "POST", "options"]),
        authority in prop::option::of(prop::sample::select(vec!["api.example", "a.example"])),
        scheme in prop::option::of(prop::sample::select(vec!["https", "http"])),
        trusted in any::<bool>(),
        lines in prop::collection::vec(line(), 0..8),
    ) {
        let policy = Policy::from_yaml(POLICIES[policy]).expect("a valid policy");

        let mut every_line = view(method, authority, scheme, trusted);
        for (name, value) in &lines {
            every_line.add_header(name.as_bytes(), value.as_bytes());
        }
        let mut by_name = view(method, authority, scheme, trusted);
        let mut asked = Vec::new();
        policy.read_headers(&mut by_name, |header| {
            asked.push(header);
            lines
                .iter()
                .filter(move |(name, _)| name.eq_ignore_ascii_case(header.name()))
                .map(|(_, value)| value.as_bytes())
        });

        prop_assert_eq!(outcome(&policy, &by_name), outcome(&policy, &every_line));
        let distinct: std::collections::HashSet<_> = asked.iter().collect();
        prop_assert_eq!(distinct.len(), asked.len(), "each header is asked for once: {:?}", asked);
    }
}

/// The names `policy` asks for to read a request with `method` and `lines`, after
/// `set_authority` when `authority` is given.
fn asked(
    policy: &str,
    method: &str,
    authority: Option<&str>,
    lines: &[(&str, &str)],
) -> Vec<&'static str> {
    let policy = Policy::from_yaml(policy).expect("a valid policy");
    let mut view = RequestView::new(method.as_bytes());
    if let Some(authority) = authority {
        view.set_authority(authority.as_bytes());
    }
    let mut asked = Vec::new();
    policy.read_headers(&mut view, |header| {
        asked.push(header.name());
        lines
            .iter()
            .filter(move |(name, _)| *name == header.name())
            .map(|(_, value)| value.as_bytes())
    });
    asked
}

#[test]
fn an_actual_request_asks_for_its_origin_and_host_only() {
    let origin = [("origin", "https://a.example"), ("accept", "*/*")];
    assert_eq!(asked(POLICIES[0], "GET", None, &origin), ["origin", "host"]);
    assert_eq!(
        asked(POLICIES[0], "GET", Some("api.example"), &origin),
        ["origin"],
        "an authority from the URI is not looked up again"
    );
    assert_eq!(
        asked(POLICIES[0], "GET", None, &[("accept", "*/*")]),
        ["origin"],
        "without an Origin, the authority is not needed"
    );
    assert_eq!(
        asked(POLICIES[0], "GET", None, &[("origin", "null")]),
        ["origin", "sec-fetch-site"],
        "a null origin is never compared with the authority"
    );
}

#[test]
fn a_preflight_asks_for_the_request_headers_its_policy_reads() {
    let lines = [
        ("origin", "https://a.example"),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", "x-token"),
    ];
    let preflight = [
        "origin",
        "access-control-request-method",
        "access-control-request-headers",
    ];
    assert_eq!(
        asked(POLICIES[0], "OPTIONS", Some("api"), &lines),
        preflight
    );
    assert_eq!(
        asked(POLICIES[1], "OPTIONS", Some("api"), &lines),
        [&preflight[..], &["access-control-request-private-network"]].concat(),
        "with allow_private_network"
    );
    assert_eq!(
        asked(POLICIES[1], "OPTIONS", Some("api"), &lines[..1]),
        ["origin", "access-control-request-method"],
        "an OPTIONS request without a method to request is not a preflight"
    );
}
