//! The requests both middleware adapters' origin-predicate tests send: what each must get, and
//! which origin (normalised) the predicate must be asked about. Included with `#[path]` by
//! `adapters/{tower,actix}/tests/origin_predicate.rs`.

use std::sync::{Arc, Mutex};

use polycors::{OriginRef, Policy};

/// The policy the cases run against; the predicate ([`tenant_api`]) is the adapter's.
pub const POLICY: &str = "allow_origins: [https://listed.test]\nallow_methods: [GET, POST]";

/// Every request's `Host`.
pub const HOST: &str = "api.test";

/// The predicate under test: HTTPS origins of `tenants.test` or its subdomains, on `/api/`
/// paths only (the path comes from the adapter's view of the request).
pub fn tenant_api(origin: &OriginRef<'_>, path: &str) -> bool {
    origin.scheme() == "https"
        && origin.is_host_or_subdomain_of("tenants.test")
        && path.starts_with("/api/")
}

/// One request and what it must get.
pub struct Case {
    pub method: &'static str,
    pub path: &'static str,
    /// The `Origin` header, if any.
    pub origin: Option<&'static str>,
    /// `Access-Control-Request-Method`, for a preflight.
    pub request_method: Option<&'static str>,
    pub status: u16,
    /// `Access-Control-Allow-Origin` (when present, `Vary` must list `origin` too).
    pub allow_origin: Option<&'static str>,
    /// The origin the predicate is asked about, if it is asked.
    pub asked: Option<&'static str>,
}

const fn get(path: &'static str, origin: Option<&'static str>) -> Case {
    Case {
        method: "GET",
        path,
        origin,
        request_method: None,
        status: 403,
        allow_origin: None,
        asked: None,
    }
}

const fn allowed(case: Case, allow_origin: &'static str) -> Case {
    Case {
        status: 200,
        allow_origin: Some(allow_origin),
        ..case
    }
}

const fn asked(case: Case, origin: &'static str) -> Case {
    Case {
        asked: Some(origin),
        ..case
    }
}

const fn preflight(origin: &'static str, method: &'static str) -> Case {
    Case {
        method: "OPTIONS",
        request_method: Some(method),
        ..get("/api/items", Some(origin))
    }
}

/// The cases, in order.
pub const CASES: [Case; 14] = [
    // Allowed by the predicate: the origin is reflected.
    asked(
        allowed(
            get("/api/items", Some("https://a.tenants.test")),
            "https://a.tenants.test",
        ),
        "https://a.tenants.test",
    ),
    // The predicate sees the request: the same origin elsewhere is refused.
    asked(
        get("/admin", Some("https://a.tenants.test")),
        "https://a.tenants.test",
    ),
    // Subdomains by label, not by string suffix or prefix.
    asked(
        get("/api/items", Some("https://evil-tenants.test")),
        "https://evil-tenants.test",
    ),
    asked(
        get("/api/items", Some("https://tenants.test.evil.net")),
        "https://tenants.test.evil.net",
    ),
    asked(
        get("/api/items", Some("http://a.tenants.test")),
        "http://a.tenants.test",
    ),
    // Normalised before it is asked; the response reflects the header as sent.
    asked(
        allowed(
            get("/api/items", Some("HTTPS://C.Tenants.TEST:443")),
            "HTTPS://C.Tenants.TEST:443",
        ),
        "https://c.tenants.test",
    ),
    // A listed origin never reaches the predicate.
    allowed(
        get("/api/items", Some("https://listed.test")),
        "https://listed.test",
    ),
    // Preflights: allowed by the predicate, and still checked for the method.
    asked(
        allowed(
            preflight("https://b.tenants.test", "POST"),
            "https://b.tenants.test",
        ),
        "https://b.tenants.test",
    ),
    asked(
        preflight("https://b.tenants.test", "PUT"),
        "https://b.tenants.test",
    ),
    // Never asked: `null`, an invalid origin, a same-origin request, no Origin at all.
    get("/api/items", Some("null")),
    get("/api/items", Some("https://a.tenants.test/path")),
    Case {
        status: 200,
        ..get("/api/items", Some("http://api.test"))
    },
    Case {
        status: 200,
        ..get("/api/items", None)
    },
    // A trailing dot makes another origin for browsers: not `tenants.test`.
    asked(
        get("/api/items", Some("https://tenants.test.")),
        "https://tenants.test.",
    ),
];

/// What an adapter got for a case: status, `Access-Control-Allow-Origin`, `Vary`.
pub type Answer = (u16, Option<String>, String);

/// The origins a predicate was asked about, in order.
pub type Asked = Arc<Mutex<Vec<String>>>;

/// Records that the predicate was asked about `origin`.
pub fn note(asked: &Asked, origin: &OriginRef<'_>) {
    asked
        .lock()
        .expect("not poisoned")
        .push(origin.as_str().to_owned());
}

/// Sends every case with `send` and [`check`]s its answer against what `asked` recorded.
pub async fn run_cases(asked: &Asked, send: impl AsyncFn(&Case) -> Answer) {
    for case in &CASES {
        asked.lock().expect("not poisoned").clear();
        let answer = send(case).await;
        check(case, answer, &asked.lock().expect("not poisoned"));
    }
}

/// [`POLICY`] with `allow_origin_predicate: true`.
pub fn flagged_policy() -> Policy {
    let policy =
        Policy::from_yaml(&format!("{POLICY}\nallow_origin_predicate: true")).expect("valid");
    assert!(policy.needs_origin_predicate());
    policy
}

/// A [`flagged_policy`] without a predicate: `unlisted` is the answer to the first case,
/// `listed` to a listed origin's request.
pub fn check_flag_without_predicate(unlisted: Answer, listed: Answer) {
    assert_eq!(unlisted.0, 403, "nothing allows the unlisted origin");
    assert_eq!(listed.0, 200, "listed origins still pass");
}

/// The case of a listed origin.
pub const LISTED: usize = 6;

/// Asserts that `answer` is what `case` must get, and that the predicate was asked about
/// `asked` (in order).
pub fn check(case: &Case, answer: Answer, asked: &[String]) {
    let (status, allow_origin, vary) = answer;
    let what = format!("{} {} Origin {:?}", case.method, case.path, case.origin);
    assert_eq!(status, case.status, "{what}");
    assert_eq!(allow_origin.as_deref(), case.allow_origin, "{what}");
    if allow_origin.is_some() {
        assert!(
            vary.to_ascii_lowercase().contains("origin"),
            "{what}: Vary {vary}"
        );
    }
    let expected: Vec<String> = case.asked.iter().map(|o| (*o).to_owned()).collect();
    assert_eq!(asked, expected, "{what}");
}

/// A policy without `allow_origins` given a predicate: `refused` is the answer to the first
/// case's origin on a path the predicate refuses, `allowed` to the first case.
pub fn check_predicate_alone(refused: Answer, allowed: Answer) {
    assert_eq!(refused.0, 403, "not `*`: the predicate refused");
    let (status, allow_origin, vary) = allowed;
    assert_eq!(
        (status, allow_origin.as_deref()),
        (200, Some("https://a.tenants.test"))
    );
    assert!(vary.eq_ignore_ascii_case("origin"), "{vary}");
}

/// A `/admin` request from the first case's origin: the predicate refuses that path.
pub const fn refused_path() -> Case {
    Case {
        path: "/admin",
        asked: Some("https://a.tenants.test"),
        allow_origin: None,
        status: 403,
        ..CASES[0]
    }
}
