//! The requests both middleware adapters' decision-hook tests send, with the status and the
//! verdict each must get. Included with `#[path]` by `adapters/{tower,actix}/tests/on_decision.rs`.

use polycors::{Reason, Verdict};

/// The policy the sequence runs against.
pub const POLICY: &str = "allow_origins: [https://a.example]\nallow_methods: [GET, POST]";

/// One request: method, headers, expected status and verdict.
pub type Step = (
    &'static str,
    &'static [(&'static str, &'static str)],
    u16,
    Verdict,
);

/// The requests, in order.
pub const SEQUENCE: [Step; 5] = [
    (
        "OPTIONS",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "POST"),
        ],
        200,
        Verdict::Preflight,
    ),
    (
        "GET",
        &[("origin", "https://a.example")],
        200,
        Verdict::Actual,
    ),
    ("GET", &[], 200, Verdict::NotCors),
    (
        "GET",
        &[("origin", "https://evil.example")],
        403,
        Verdict::Reject(Reason::OriginNotAllowed),
    ),
    (
        "OPTIONS",
        &[
            ("origin", "https://a.example"),
            ("access-control-request-method", "PUT"),
        ],
        403,
        Verdict::Reject(Reason::MethodNotAllowed),
    ),
];
