//! One test per rule of docs/behaviour.md §1–4, named after the rule it checks.

use polycors::adapter::HeaderList;
use polycors::error::ConfigErrorKind;
use polycors::{Config, Policy, Reason, RequestView, RouteInfo, ScopedPolicies, Verdict, Warning};

/// What a client would see: status (None = forwarded to upstream), headers, body.
struct Seen {
    decision: &'static str,
    status: Option<u16>,
    headers: HeaderList,
    body: String,
    reason: Option<String>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8(v.to_vec()).unwrap())
    }
    fn has(&self, name: &str) -> bool {
        self.headers.get(name).is_some()
    }
    fn cors_header_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .0
            .iter()
            .map(|(n, _)| String::from_utf8(n.clone()).unwrap())
            .filter(|n| n.starts_with("access-control-"))
            .collect();
        names.sort();
        names
    }
}

fn policy(yaml: &str) -> Policy {
    Policy::from_yaml(yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// Sends `method` with `headers` (and scheme http, authority api.test) through `policy`; a
/// forwarded request gets a response with `upstream` headers.
fn send(
    policy: &Policy,
    method: &str,
    headers: &[(&str, &[u8])],
    upstream: &[(&str, &str)],
) -> Seen {
    let mut view = RequestView::new(method.as_bytes());
    view.set_scheme(b"http").set_authority(b"api.test");
    for (name, value) in headers {
        view.add_header(name.as_bytes(), value);
    }
    let decision = policy.evaluate(&view);
    let (status, body, mut headers) = match decision.local_answer() {
        Some(local) => (
            Some(local.status.code()),
            local.body.into_owned(),
            HeaderList::default(),
        ),
        None => (
            None,
            String::new(),
            HeaderList(
                upstream
                    .iter()
                    .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
                    .collect(),
            ),
        ),
    };
    decision.write_headers(&mut headers.for_response(policy, decision.origin()));
    Seen {
        decision: decision.verdict().name(),
        status,
        headers,
        body,
        reason: decision.rejection().map(|r| r.to_string()),
    }
}

fn get(policy: &Policy, origin: &str) -> Seen {
    send(policy, "GET", &[("origin", origin.as_bytes())], &[])
}

fn preflight(policy: &Policy, origin: &str, method: &str, headers: Option<&str>) -> Seen {
    let mut h: Vec<(&str, &[u8])> = vec![
        ("origin", origin.as_bytes()),
        ("access-control-request-method", method.as_bytes()),
    ];
    if let Some(headers) = headers {
        h.push(("access-control-request-headers", headers.as_bytes()));
    }
    send(policy, "OPTIONS", &h, &[])
}

/// A preflight asking for private network access.
const PNA_PREFLIGHT: &[(&str, &[u8])] = &[
    ("origin", b"https://o.test"),
    ("access-control-request-method", b"GET"),
    ("access-control-request-private-network", b"true"),
];

fn with_pna(value: &[u8]) -> Vec<(&'static str, &[u8])> {
    let mut headers = PNA_PREFLIGHT.to_vec();
    headers[2].1 = value;
    headers
}

const SEED: &str = "
allow_origins: [http://httpbin.example.net]
allow_origin_patterns: ['http://*.example.com:[*]', 'http://*.example.org:[9090,8080]']
allow_methods: [GET, POST, PATCH]
allow_headers: [Content-Type, Token, Authorization]
expose_headers: [X-Custom-Header, X-Env-UTM]
allow_credentials: true
max_age: 3600
";

// ---------------------------------------------------------------- §1 defaults

#[test]
fn s1_default_allow_origins_is_star_when_nothing_is_configured() {
    let s = get(&Policy::default(), "https://anywhere.test");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
}

#[test]
fn s1_default_allow_origins_is_empty_with_credentials() {
    let s = get(&policy("allow_credentials: true"), "https://anywhere.test");
    assert_eq!(s.status, Some(403));
}

#[test]
fn s1_default_allow_origins_is_empty_when_patterns_are_given() {
    let p = policy("allow_origin_patterns: ['https://*.a.test']");
    assert_eq!(get(&p, "https://b.test").status, Some(403));
    assert_eq!(get(&p, "https://x.a.test").status, None);
}

#[test]
fn s1_default_allow_methods() {
    let s = preflight(&Policy::default(), "https://o.test", "PUT", None);
    assert_eq!(
        s.header("access-control-allow-methods").as_deref(),
        Some("GET,PUT,POST,DELETE,PATCH,OPTIONS")
    );
}

#[test]
fn s1_default_allow_headers() {
    let s = preflight(
        &Policy::default(),
        "https://o.test",
        "PUT",
        Some("content-type"),
    );
    assert_eq!(
        s.header("access-control-allow-headers").as_deref(),
        Some(
            "DNT,X-CustomHeader,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Authorization"
        )
    );
}

#[test]
fn s1_default_expose_headers_sends_no_header() {
    assert!(!get(&Policy::default(), "https://o.test").has("access-control-expose-headers"));
}

#[test]
fn s1_default_allow_credentials_is_false() {
    let p = policy("allow_origins: [https://o.test]");
    assert!(!get(&p, "https://o.test").has("access-control-allow-credentials"));
}

#[test]
fn s1_default_max_age_is_86400() {
    let s = preflight(&Policy::default(), "https://o.test", "GET", None);
    assert_eq!(s.header("access-control-max-age").as_deref(), Some("86400"));
}

#[test]
fn s1_max_age_zero_is_sent_as_zero() {
    let s = preflight(&policy("max_age: 0"), "https://o.test", "GET", None);
    assert_eq!(s.header("access-control-max-age").as_deref(), Some("0"));
}

#[test]
fn s1_negative_max_age_is_an_error() {
    let e = Policy::from_yaml("max_age: -1").unwrap_err();
    assert_eq!(e.errors()[0].kind(), &ConfigErrorKind::NegativeMaxAge);
}

#[test]
fn s1_allow_private_network_off_ignores_the_request_header() {
    let s = send(&Policy::default(), "OPTIONS", PNA_PREFLIGHT, &[]);
    assert_eq!((s.status, s.reason.as_deref()), (Some(200), None));
    assert!(!s.has("access-control-allow-private-network"));
    assert!(
        !s.header("vary")
            .unwrap_or_default()
            .contains("Private-Network")
    );
}

#[test]
fn s1_list_field_accepts_one_comma_separated_string() {
    let s = preflight(
        &policy("allow_methods: GET, POST"),
        "https://o.test",
        "POST",
        None,
    );
    assert_eq!(
        s.header("access-control-allow-methods").as_deref(),
        Some("GET,POST")
    );
}

#[test]
fn s1_list_items_are_split_trimmed_and_empty_items_ignored() {
    let p = policy("allow_headers: [' X-A , X-B', '', ' ,X-C']");
    let s = preflight(&p, "https://o.test", "GET", Some("x-c"));
    assert_eq!(
        s.header("access-control-allow-headers").as_deref(),
        Some("X-A,X-B,X-C")
    );
}

#[test]
fn s1_duplicates_are_removed_keeping_first_seen_order() {
    let p = policy("allow_methods: [POST, GET, post, GET]");
    let s = preflight(&p, "https://o.test", "GET", None);
    assert_eq!(
        s.header("access-control-allow-methods").as_deref(),
        Some("POST,GET")
    );
    assert_eq!(p.warnings().len(), 2);
}

#[test]
fn s1_max_age_accepts_a_string_of_digits() {
    let s = preflight(&policy("max_age: '600'"), "https://o.test", "GET", None);
    assert_eq!(s.header("access-control-max-age").as_deref(), Some("600"));
}

#[test]
fn s1_allow_credentials_accepts_true_false_strings_in_any_case() {
    let p = policy("allow_origins: [https://o.test]\nallow_credentials: 'True'");
    assert_eq!(
        get(&p, "https://o.test")
            .header("access-control-allow-credentials")
            .as_deref(),
        Some("true")
    );
}

#[test]
fn s1_wrong_type_is_an_error() {
    let e = Policy::from_yaml("allow_credentials: 1\nmax_age: [1]").unwrap_err();
    assert_eq!(e.errors().len(), 2);
    assert_eq!(
        e.errors()[0].to_string(),
        "allow_credentials: expected true or false, found a number"
    );
    assert_eq!(
        e.errors()[1].to_string(),
        "max_age: expected a whole number of seconds, found a list"
    );
}

#[test]
fn s1_configured_methods_are_uppercased() {
    let p = policy("allow_methods: [patch]");
    let s = preflight(&p, "https://o.test", "PATCH", None);
    assert_eq!(s.status, Some(200));
    assert_eq!(
        s.header("access-control-allow-methods").as_deref(),
        Some("PATCH")
    );
}

#[test]
fn s1_star_in_a_list_makes_the_whole_list_the_wildcard_and_warns() {
    let p = policy("allow_methods: [GET, '*']");
    let s = preflight(&p, "https://o.test", "PROPFIND", None);
    assert_eq!(
        s.header("access-control-allow-methods").as_deref(),
        Some("PROPFIND")
    );
    assert!(matches!(p.warnings(), [Warning::RedundantItem { .. }]));
}

#[test]
fn s1_unknown_key_is_an_error_with_did_you_mean() {
    let e = Policy::from_yaml("allow_origin: ['*']").unwrap_err();
    assert_eq!(
        e.to_string(),
        "allow_origin: unknown field, did you mean `allow_origins`?"
    );
}

#[test]
fn s1_keys_starting_with_underscore_are_ignored() {
    assert!(Policy::from_yaml("_plugin_id_: 7\n_rules_: []\nmax_age: 5").is_ok());
}

#[test]
fn s1_every_error_names_field_and_item_index() {
    let e = Policy::from_yaml("allow_origins: [http://ok.test, http://a.com/path]").unwrap_err();
    assert_eq!(
        e.to_string(),
        "allow_origins[1]: \"http://a.com/path\" is not an origin: an origin has no path; remove everything after the host and port"
    );
}

#[test]
fn s1_configuration_with_an_error_is_never_half_applied() {
    assert!(Policy::from_yaml("allow_origins: [http://ok.test]\nallow_methods: ['G T']").is_err());
}

#[test]
fn s1_warnings_for_probably_wrong_configurations() {
    let p = policy(
        "allow_origins: ['null', http://a.test]\nallow_origin_patterns: ['*']\nexpose_headers: '*'\nallow_credentials: true\nmax_age: 9000",
    );
    assert_eq!(
        p.warnings(),
        [
            Warning::CredentialsWithAnyPattern,
            Warning::NullOriginAllowed,
            Warning::InsecureOriginWithCredentials {
                origin: "http://a.test".into()
            },
            Warning::ExposeAllWithCredentials,
            Warning::MaxAgeAboveBrowserCap { max_age: 9000 },
        ]
    );
    let p = policy("allow_origins: ['*']\nallow_credentials: true");
    assert_eq!(p.warnings(), [Warning::CredentialsWithAnyOrigin]);
}

#[test]
fn s1_every_boolean_field_accepts_true_false_strings() {
    let p = policy(
        "allow_origins: [https://a.test]\nallow_private_network: 'TRUE'\nforward_disallowed_requests: 'true'\ndebug: ' True '",
    );
    let config = p.config();
    assert!(config.allow_private_network && config.forward_disallowed_requests && config.debug);
    let p =
        policy("allow_credentials: 'false'\nforward_disallowed_requests: 'False'\ndebug: 'FALSE'");
    assert!(!p.config().allow_credentials && !p.config().forward_disallowed_requests);
    for field in [
        "allow_credentials",
        "allow_private_network",
        "forward_disallowed_requests",
        "debug",
    ] {
        let e = Policy::from_yaml(&format!("{field}: 'yes'")).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{field}: expected true or false, found a string")
        );
    }
}

#[test]
fn s1_empty_allow_origins_without_patterns_is_an_error() {
    // `[]`, `""` and an unset variable (`allow_origins:` with nothing) alike.
    for yaml in [
        "allow_origins: []",
        "allow_origins: ''",
        "allow_origins:",
        "allow_origins: ' , '",
        "allow_origins: []\nallow_origin_patterns: []",
    ] {
        let e = Policy::from_yaml(yaml).unwrap_err();
        assert_eq!(e.errors()[0].kind(), &ConfigErrorKind::NoOrigins, "{yaml}");
        assert_eq!(
            e.to_string(),
            "allow_origins: is empty and allow_origin_patterns has nothing, so no origin could be allowed; list the origins, or write \"*\" to allow every origin",
            "{yaml}"
        );
    }
    let p = policy("allow_origins: []\nallow_origin_patterns: ['https://*.a.test']");
    assert!(!p.is_wildcard());
    assert_eq!(get(&p, "https://x.a.test").status, None);
    assert_eq!(get(&p, "https://b.test").status, Some(403));
    // Absent is still the default (`*` without credentials).
    assert!(policy("max_age: 5").is_wildcard());
}

#[test]
fn s1_negative_max_age_error_says_to_use_zero() {
    let e = Policy::from_yaml("max_age: -5").unwrap_err();
    assert_eq!(
        e.to_string(),
        "max_age: must not be negative; use 0 to disable preflight caching"
    );
}

#[test]
fn s1_max_age_above_600_is_warned_with_the_browser_caps() {
    assert!(policy("max_age: 600").warnings().is_empty());
    let p = policy("max_age: 601");
    assert_eq!(
        p.warnings(),
        [Warning::MaxAgeAboveBrowserCap { max_age: 601 }]
    );
    assert_eq!(
        p.warnings()[0].to_string(),
        "max_age: 601 is above 600; browsers cap it (WebKit at 600 seconds, Chromium at 7200, Firefox at 86400), so use at most 600 for the same caching everywhere"
    );
    // The seed's default (86400) is not warned about: it is not the user's choice.
    assert!(Policy::default().warnings().is_empty());
}

#[test]
fn s1_pattern_star_that_is_not_a_whole_label_is_warned_with_a_suggestion() {
    let p = policy("allow_origin_patterns: ['https://*.a.test', 'http://*example.com:[*]']");
    assert_eq!(
        p.warnings()[0].to_string(),
        "allow_origin_patterns[1]: in \"http://*example.com:[*]\", \"*\" is not a whole label, so it also matches \"http://evilexample.com\"; write \"http://*.example.com:[*]\" to match subdomains only"
    );
    assert_eq!(p.warnings().len(), 1);
    // What the warning says is true: the pattern matches the other domain.
    assert_eq!(get(&p, "http://evilexample.com").status, None);
    let p = policy("allow_origin_patterns: ['https://api-*.a.test']");
    assert_eq!(
        p.warnings()[0].to_string(),
        "allow_origin_patterns[0]: in \"https://api-*.a.test\", \"*\" is not a whole label, so it also matches \"https://api-evil.a.test\"; make sure every origin it matches is yours"
    );
}

#[test]
fn s1_forbidden_request_header_names_in_allow_headers_are_warned() {
    let p = policy("allow_headers: [Content-Type, Cookie, sec-fetch-mode, Proxy-Authorization]");
    let shown: Vec<String> = p.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "allow_headers[1]: \"Cookie\" is a header browsers never let a page send (a forbidden request header), so allowing it changes nothing; remove it",
            "allow_headers[2]: \"sec-fetch-mode\" is a header browsers never let a page send (a forbidden request header), so allowing it changes nothing; remove it",
            "allow_headers[3]: \"Proxy-Authorization\" is a header browsers never let a page send (a forbidden request header), so allowing it changes nothing; remove it",
        ]
    );
    // The seed's defaults (with DNT and Keep-Alive, both forbidden) are exempt.
    assert!(Policy::default().warnings().is_empty());
    // Written by the user, they are not.
    let p = policy("allow_headers: [DNT]");
    assert!(matches!(
        p.warnings(),
        [Warning::ForbiddenRequestHeader { name, .. }] if name == "DNT"
    ));
}

#[test]
fn s1_access_control_names_in_allow_or_expose_headers_are_warned() {
    let p = policy(
        "allow_headers: [Access-Control-Allow-Origin, Access-Control-Request-Method]\nexpose_headers: [X-Id, access-control-allow-credentials]",
    );
    let shown: Vec<String> = p.warnings().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "allow_headers[0]: \"Access-Control-Allow-Origin\" is a CORS header, which belongs on responses: a page that sends it has a bug that allowing it only hides; remove it (and fix the page)",
            // A request header of the protocol itself: the browser's to send, never the page's.
            "allow_headers[1]: \"Access-Control-Request-Method\" is a header browsers never let a page send (a forbidden request header), so allowing it changes nothing; remove it",
            "expose_headers[1]: \"access-control-allow-credentials\" is a CORS header: the policy writes those itself and removes the application's, so there is nothing to expose; remove it",
        ]
    );
}

// ---------------------------------------------------------------- §1.1 origins

#[test]
fn s1_1_origins_compare_after_normalisation() {
    let p = policy("allow_origins: ['HTTP://App.Test:80/', 'https://b.test:443']");
    assert_eq!(get(&p, "http://app.test").status, None);
    assert_eq!(get(&p, "https://b.test").status, None);
    assert_eq!(get(&p, "http://app.test:8080").status, Some(403));
}

#[test]
fn s1_1_request_origin_in_other_case_matches_and_is_echoed_as_sent() {
    let p = policy("allow_origins: ['http://app.test']");
    let s = get(&p, "http://APP.test:80");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("http://APP.test:80")
    );
}

#[test]
fn s1_1_ipv6_hosts_are_supported() {
    let p = policy("allow_origins: ['http://[::1]:8080']");
    assert_eq!(get(&p, "http://[::1]:8080").status, None);
    assert_eq!(get(&p, "http://[::1]:8081").status, Some(403));
}

#[test]
fn s1_1_paths_queries_fragments_userinfo_and_wildcards_are_errors() {
    for bad in [
        "http://a.test/x",
        "http://a.test?q",
        "http://a.test#f",
        "http://u@a.test",
        "http://*.a.test",
    ] {
        let e = Policy::from_yaml(&format!("allow_origins: ['{bad}']")).unwrap_err();
        assert!(
            matches!(e.errors()[0].kind(), ConfigErrorKind::InvalidOrigin { .. }),
            "{bad}: {e}"
        );
    }
}

#[test]
fn s1_1_null_is_accepted_warned_and_matches_request_null() {
    let p = policy("allow_origins: ['null']");
    assert!(p.warnings().contains(&Warning::NullOriginAllowed));
    let s = get(&p, "null");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("null")
    );
    assert_eq!(
        get(&policy("allow_origins: ['https://a.test']"), "null").status,
        Some(403)
    );
}

#[test]
fn s1_1_star_matches_null_and_answers_star() {
    let s = get(&policy("allow_origins: ['*']"), "null");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
}

#[test]
fn s1_1_request_origin_with_trailing_slash_or_empty_is_invalid() {
    let p = Policy::default();
    for origin in ["http://a.test/", ""] {
        let s = get(&p, origin);
        assert_eq!(s.status, Some(403), "{origin:?}");
        assert!(s.reason.unwrap().contains("is not a serialized origin"));
    }
}

#[test]
fn s1_1_ipv6_hosts_compare_in_canonical_form() {
    let p = policy("allow_origins: ['http://[0:0:0:0:0:0:0:1]:9090']");
    let s = get(&p, "http://[::1]:9090");
    assert_eq!(s.status, None);
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("http://[::1]:9090")
    );
    assert_eq!(get(&p, "http://[::2]:9090").status, Some(403));
    let p =
        policy("allow_origins: ['http://[::1]']\nallow_origin_patterns: ['https://[0::0:1]:[*]']");
    assert_eq!(get(&p, "http://[0:0::1]").status, None);
    assert_eq!(get(&p, "https://[::1]:8443").status, None);
    let e = Policy::from_yaml("allow_origins: ['http://[1:2]']").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("allow_origins[0]: \"http://[1:2]\" is not an origin")
    );
}

#[test]
fn s1_1_request_origin_port_must_be_1_to_5_digits_without_leading_zero() {
    let p = policy("allow_origins: ['http://a.test:9090', 'http://a.test:8']");
    assert_eq!(get(&p, "http://a.test:9090").status, None);
    assert_eq!(get(&p, "http://a.test:8").status, None);
    for origin in [
        "http://a.test:09090",
        "http://a.test:08",
        "http://a.test:000009090",
        "http://a.test:123456",
        "http://a.test:65536",
    ] {
        let s = get(&p, origin);
        assert_eq!(s.status, Some(403), "{origin}");
        assert_eq!(
            s.reason,
            Some(format!("origin \"{origin}\" is not a serialized origin"))
        );
    }
    let e = Policy::from_yaml("allow_origins: ['http://a.test:0808']").unwrap_err();
    assert_eq!(
        e.to_string(),
        "allow_origins[0]: \"http://a.test:0808\" is not an origin: the port must be 1 to 5 digits without a leading zero, at most 65535"
    );
}

// ---------------------------------------------------------------- §1.2 patterns

#[test]
fn s1_2_pattern_wildcard_spans_labels_and_needs_one_character() {
    let p = policy("allow_origin_patterns: ['http://*.example.com']");
    assert_eq!(get(&p, "http://a.b.example.com").status, None);
    assert_eq!(get(&p, "http://example.com").status, Some(403));
}

#[test]
fn s1_2_port_list_compares_effective_port() {
    let p = policy("allow_origin_patterns: ['http://*.a.com:[80,8080]']");
    assert_eq!(get(&p, "http://x.a.com").status, None);
    assert_eq!(get(&p, "http://x.a.com:8080").status, None);
    assert_eq!(get(&p, "http://x.a.com:9090").status, Some(403));
}

#[test]
fn s1_2_without_port_spec_only_the_default_port_matches() {
    let p = policy("allow_origin_patterns: ['http://*.a.com']");
    assert_eq!(get(&p, "http://x.a.com:80").status, None);
    assert_eq!(get(&p, "http://x.a.com:8080").status, Some(403));
}

#[test]
fn s1_2_any_port_spec() {
    let p = policy("allow_origin_patterns: ['http://*.a.com:[*]']");
    assert_eq!(get(&p, "http://x.a.com:1234").status, None);
    assert_eq!(get(&p, "http://x.a.com").status, None);
}

#[test]
fn s1_2_match_is_anchored_on_the_whole_origin() {
    let p = policy("allow_origin_patterns: ['http://*.example.com']");
    for origin in [
        "http://a.example.com.evil.com",
        "http://a.example.com:8080",
        "https://a.example.com",
    ] {
        assert_eq!(get(&p, origin).status, Some(403), "{origin}");
    }
}

#[test]
fn s1_2_single_star_matches_every_origin_except_null() {
    let p = policy("allow_origin_patterns: ['*']");
    let s = get(&p, "https://x.test:9");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("https://x.test:9")
    );
    assert_eq!(get(&p, "null").status, Some(403));
}

#[test]
fn s1_2_malformed_patterns_are_errors() {
    for bad in [
        "http://*.a.com:[80",
        "http://*.a.com:[x]",
        "http://*.a.com:[70000]",
        "http://*.a.com/p",
    ] {
        let e = Policy::from_yaml(&format!("allow_origin_patterns: ['{bad}']")).unwrap_err();
        assert!(
            e.errors()[0]
                .to_string()
                .starts_with("allow_origin_patterns[0]:"),
            "{e}"
        );
    }
}

// ---------------------------------------------------------------- §1.3 credentials and *

#[test]
fn s1_2_star_port_is_an_error_suggesting_bracketed_star() {
    let e = Policy::from_yaml("allow_origin_patterns: ['https://a.test', 'http://*.a.test:*']")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "allow_origin_patterns[1]: \"http://*.a.test:*\" is not an origin pattern: any port is written \":[*]\", not \":*\""
    );
}

#[test]
fn s1_3_credentials_with_star_origin_answers_star_without_credentials() {
    let p = policy("allow_origins: ['*']\nallow_credentials: true");
    let s = get(&p, "https://x.test");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(!s.has("access-control-allow-credentials"));
}

#[test]
fn s1_3_pattern_star_with_credentials_reflects_the_origin() {
    let p = policy("allow_origin_patterns: ['*']\nallow_credentials: true");
    let s = get(&p, "https://x.test");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("https://x.test")
    );
    assert_eq!(
        s.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
}

// ---------------------------------------------------------------- §2 classification

#[test]
fn s2_1_no_origin_is_not_cors() {
    let s = send(&policy(SEED), "GET", &[], &[]);
    assert_eq!((s.decision, s.status), ("not-cors", None));
    assert!(s.cors_header_names().is_empty());
}

#[test]
fn s2_2_same_origin_is_not_cors() {
    let p = policy("allow_origins: [https://other.test]");
    let s = send(&p, "GET", &[("origin", b"http://api.test")], &[]);
    assert_eq!(s.decision, "not-cors");
    let s = send(&p, "GET", &[("origin", b"http://api.test:80")], &[]);
    assert_eq!(s.decision, "not-cors");
    let s = send(&p, "GET", &[("origin", b"https://api.test")], &[]);
    assert_eq!(s.status, Some(403));
}

#[test]
fn s2_2_same_origin_without_known_scheme_compares_host_and_explicit_port() {
    let p = policy("allow_origins: [https://other.test]");
    let check = |authority: &[u8], origin: &[u8]| {
        let mut view = RequestView::new(b"GET");
        view.set_authority(authority).add_origin(origin);
        p.evaluate(&view).verdict().name()
    };
    assert_eq!(
        check(b"api.test:8443", b"https://api.test:8443"),
        "not-cors"
    );
    assert_eq!(check(b"API.test", b"http://api.test"), "not-cors");
    assert_eq!(check(b"api.test", b"http://api.test:80"), "reject");
    assert_eq!(check(b"[::1]:3000", b"http://[::1]:3000"), "not-cors");
}

#[test]
fn s2_2_null_origin_with_sec_fetch_site_same_origin_is_not_cors() {
    // A same-origin form post under `Referrer-Policy: no-referrer`.
    let p = policy("allow_origins: [https://a.test]");
    let headers: &[(&str, &[u8])] = &[("origin", b"null"), ("sec-fetch-site", b"same-origin")];
    let s = send(&p, "POST", headers, &[("access-control-allow-origin", "*")]);
    assert_eq!((s.decision, s.status), ("not-cors", None));
    assert!(s.cors_header_names().is_empty());
    assert_eq!(s.header("vary").as_deref(), Some("Origin"));
    // Anything else with `null` is still a CORS request from an opaque origin.
    for site in [&b"same-site"[..], b"cross-site", b"none"] {
        let s = send(
            &p,
            "POST",
            &[("origin", b"null"), ("sec-fetch-site", site)],
            &[],
        );
        assert_eq!(s.status, Some(403), "{site:?}");
    }
    let twice: &[(&str, &[u8])] = &[
        ("origin", b"null"),
        ("sec-fetch-site", b"same-origin"),
        ("sec-fetch-site", b"cross-site"),
    ];
    assert_eq!(send(&p, "POST", twice, &[]).status, Some(403));
    // Only `null`: a real origin with the header is still checked.
    let spoofed: &[(&str, &[u8])] = &[
        ("origin", b"https://evil.test"),
        ("sec-fetch-site", b"same-origin"),
    ];
    assert_eq!(send(&p, "POST", spoofed, &[]).status, Some(403));
}

#[test]
fn s2_2_same_origin_options_with_acrm_is_forwarded_not_answered() {
    let s = send(
        &policy("allow_origins: [https://other.test]"),
        "OPTIONS",
        &[
            ("origin", b"http://api.test"),
            ("access-control-request-method", b"DELETE"),
        ],
        &[],
    );
    assert_eq!((s.decision, s.status), ("not-cors", None));
}

#[test]
fn s2_3_more_than_one_origin_is_invalid() {
    let s = send(
        &Policy::default(),
        "GET",
        &[("origin", b"https://a.test"), ("origin", b"https://a.test")],
        &[],
    );
    assert_eq!(s.status, Some(403));
    assert_eq!(s.reason.as_deref(), Some("more than one Origin header"));
}

#[test]
fn s2_3_origin_that_is_not_a_serialized_origin_is_invalid() {
    for origin in [
        &b"a.test"[..],
        b"http://a.test/path",
        b"http://\xff.test",
        b"http://a test",
    ] {
        let s = send(&Policy::default(), "GET", &[("origin", origin)], &[]);
        assert_eq!(s.status, Some(403));
    }
}

#[test]
fn s2_4_options_with_non_empty_acrm_is_a_preflight() {
    let s = preflight(&Policy::default(), "https://a.test", "GET", None);
    assert_eq!((s.decision, s.status), ("preflight", Some(200)));
}

#[test]
fn s2_4_methods_are_case_sensitive_so_lowercase_options_is_not_a_preflight() {
    let p = policy("allow_methods: ['*']");
    let s = send(
        &p,
        "options",
        &[
            ("origin", b"https://a.test"),
            ("access-control-request-method", b"GET"),
        ],
        &[],
    );
    assert_eq!((s.decision, s.status), ("actual", None));
}

#[test]
fn s2_5_options_without_acrm_is_an_actual_request() {
    let s = send(
        &Policy::default(),
        "OPTIONS",
        &[("origin", b"https://a.test")],
        &[],
    );
    assert_eq!((s.decision, s.status), ("actual", None));
    let s = send(
        &Policy::default(),
        "OPTIONS",
        &[
            ("origin", b"https://a.test"),
            ("access-control-request-method", b""),
        ],
        &[],
    );
    assert_eq!(s.decision, "actual");
}

// ---------------------------------------------------------------- §3 checks

#[test]
fn s3_origin_exact_list_then_patterns() {
    let p = policy(SEED);
    assert_eq!(get(&p, "http://httpbin.example.net").status, None);
    assert_eq!(get(&p, "http://x.example.org:9090").status, None);
    let s = get(&p, "http://evil.test");
    assert_eq!(s.status, Some(403));
    assert_eq!(
        s.reason.as_deref(),
        Some("origin \"http://evil.test\" is not allowed")
    );
}

#[test]
fn s3_method_must_be_allowed_for_preflight_and_actual() {
    let p = policy(SEED);
    let s = preflight(&p, "http://httpbin.example.net", "DELETE", None);
    assert_eq!(
        s.reason.as_deref(),
        Some("method \"DELETE\" is not allowed")
    );
    let s = send(&p, "PUT", &[("origin", b"http://httpbin.example.net")], &[]);
    assert_eq!(s.status, Some(403));
}

#[test]
fn s3_method_compares_case_sensitively() {
    let p = policy("allow_methods: [PATCH]");
    assert_eq!(
        preflight(&p, "https://a.test", "patch", None).status,
        Some(403)
    );
}

#[test]
fn s3_head_is_allowed_whenever_get_is() {
    let p = policy("allow_methods: [GET]");
    assert_eq!(
        send(&p, "HEAD", &[("origin", b"https://a.test")], &[]).status,
        None
    );
    assert_eq!(
        preflight(&p, "https://a.test", "HEAD", None).status,
        Some(200)
    );
    let p = policy("allow_methods: [POST]");
    assert_eq!(
        send(&p, "HEAD", &[("origin", b"https://a.test")], &[]).status,
        Some(403)
    );
}

#[test]
fn s3_request_headers_lines_are_joined_trimmed_and_compared_case_insensitively() {
    let p = policy("allow_headers: [Content-Type, Token]");
    let s = send(
        &p,
        "OPTIONS",
        &[
            ("origin", b"https://a.test"),
            ("access-control-request-method", b"POST"),
            ("access-control-request-headers", b" content-type ,, "),
            ("access-control-request-headers", b"TOKEN"),
        ],
        &[],
    );
    assert_eq!(s.status, Some(200));
}

#[test]
fn s3_every_requested_header_must_be_allowed() {
    let s = preflight(
        &policy(SEED),
        "http://httpbin.example.net",
        "GET",
        Some("Token, TokenView"),
    );
    assert_eq!(s.status, Some(403));
    assert_eq!(
        s.reason.as_deref(),
        Some("header \"TokenView\" is not allowed")
    );
}

#[test]
fn s3_star_allows_any_requested_header() {
    let p = policy("allow_headers: '*'");
    assert_eq!(
        preflight(
            &p,
            "https://a.test",
            "GET",
            Some("x-anything, authorization")
        )
        .status,
        Some(200)
    );
}

#[test]
fn s3_more_than_64_requested_headers_fail() {
    let p = policy("allow_headers: '*'");
    let names: Vec<String> = (0..65).map(|i| format!("x-h{i}")).collect();
    let s = preflight(&p, "https://a.test", "GET", Some(&names.join(",")));
    assert_eq!(s.status, Some(403));
    assert_eq!(
        s.reason.as_deref(),
        Some("Access-Control-Request-Headers names more than 64 headers")
    );
    let s = preflight(&p, "https://a.test", "GET", Some(&names[..64].join(",")));
    assert_eq!(s.status, Some(200));
}

#[test]
fn s3_request_headers_longer_than_4_kib_fail() {
    let p = policy("allow_headers: '*'");
    let long = format!("x-{}", "a".repeat(4095));
    let s = preflight(&p, "https://a.test", "GET", Some(&long));
    assert_eq!(
        s.reason.as_deref(),
        Some("Access-Control-Request-Headers is longer than 4096 bytes")
    );
}

#[test]
fn s3_requested_header_that_is_not_a_name_fails() {
    let p = policy("allow_headers: '*'");
    let s = send(
        &p,
        "OPTIONS",
        &[
            ("origin", b"https://a.test"),
            ("access-control-request-method", b"GET"),
            ("access-control-request-headers", b"x-ok, x-\xffbad"),
        ],
        &[],
    );
    assert_eq!(s.status, Some(403));
}

#[test]
fn s3_requested_method_that_is_not_a_token_fails() {
    let s = preflight(
        &policy("allow_methods: '*'"),
        "https://a.test",
        "GE T",
        None,
    );
    assert_eq!(s.status, Some(403));
}

#[test]
fn s3_private_network_is_granted_when_on_and_only_true_asks() {
    let p = policy("allow_private_network: true");
    let s = send(&p, "OPTIONS", PNA_PREFLIGHT, &[]);
    assert_eq!(s.status, Some(200));
    assert_eq!(
        s.header("access-control-allow-private-network").as_deref(),
        Some("true")
    );
    for value in [&b" TRUE\t"[..], b"True"] {
        let s = send(&p, "OPTIONS", &with_pna(value), &[]);
        assert!(s.has("access-control-allow-private-network"), "{value:?}");
    }
    for value in [&b"false"[..], b"1", b"", b"true,true"] {
        let s = send(&p, "OPTIONS", &with_pna(value), &[]);
        assert_eq!(s.status, Some(200), "{value:?}");
        assert!(!s.has("access-control-allow-private-network"), "{value:?}");
    }
    // A preflight that fails another check is still 403, with or without the request header.
    let mut failing = with_pna(b"true");
    failing[1].1 = b"PROPFIND";
    assert_eq!(send(&p, "OPTIONS", &failing, &[]).status, Some(403));
}

#[test]
fn s3_empty_request_header_items_do_not_count_toward_64() {
    let p = policy("allow_headers: '*'");
    let names: Vec<String> = (0..64).map(|i| format!("x-h{i}")).collect();
    let sparse = names.join(",,  ,");
    let s = preflight(&p, "https://a.test", "GET", Some(&sparse));
    assert_eq!(s.status, Some(200));
    assert_eq!(
        s.header("access-control-allow-headers"),
        Some(names.join(","))
    );
}

#[test]
fn s3_forward_disallowed_requests_forwards_failing_actual_requests_only() {
    let p = policy(
        "allow_origins: [https://a.test]\nallow_methods: [GET, POST]\nforward_disallowed_requests: true\ndebug: true",
    );
    let upstream = &[
        ("access-control-allow-origin", "*"),
        ("access-control-allow-credentials", "true"),
        ("vary", "Accept-Encoding"),
    ];
    type Headers<'a> = &'a [(&'a str, &'a [u8])];
    let cases: [(&str, Headers<'_>, Reason); 4] = [
        (
            "GET",
            &[("origin", b"https://evil.test")],
            Reason::OriginNotAllowed,
        ),
        (
            "PUT",
            &[("origin", b"https://a.test")],
            Reason::MethodNotAllowed,
        ),
        (
            "GET",
            &[("origin", b"https://a.test/")],
            Reason::InvalidOrigin,
        ),
        (
            "POST",
            &[("origin", b"https://a.test"), ("origin", b"https://a.test")],
            Reason::MultipleOrigins,
        ),
    ];
    for (method, headers, reason) in cases {
        let s = send(&p, method, headers, upstream);
        assert_eq!((s.decision, s.status), ("disallowed", None), "{reason:?}");
        assert!(s.cors_header_names().is_empty(), "{reason:?}");
        assert_eq!(s.header("vary").as_deref(), Some("Accept-Encoding,Origin"));
        assert_eq!(s.header("x-cors-version").as_deref(), Some("1.0.0"));
        assert!(!s.has("x-cors-reason") && !s.has("content-type"));
        assert!(s.reason.is_some());
        let mut view = RequestView::new(method.as_bytes());
        for (name, value) in headers {
            view.add_header(name.as_bytes(), value);
        }
        assert_eq!(p.evaluate(&view).verdict(), Verdict::Disallowed(reason));
    }
    // Preflights that fail are still answered 403.
    let s = preflight(&p, "https://evil.test", "GET", None);
    assert_eq!((s.decision, s.status), ("reject", Some(403)));
    let s = preflight(&p, "https://a.test", "PUT", None);
    assert_eq!(s.status, Some(403));
    // Allowed requests are unchanged.
    let s = get(&p, "https://a.test");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("https://a.test")
    );
}

#[test]
fn s3_forward_disallowed_requests_with_a_wildcard_policy_sends_no_star() {
    let p =
        policy("allow_methods: [GET]\nexpose_headers: [X-Id]\nforward_disallowed_requests: true");
    assert!(p.is_wildcard());
    let s = send(
        &p,
        "DELETE",
        &[("origin", b"https://o.test")],
        &[("x-id", "1")],
    );
    assert_eq!((s.decision, s.status), ("disallowed", None));
    assert!(s.cors_header_names().is_empty());
    // The response depends on the Origin, unlike the wildcard policy's others: it varies on it.
    assert_eq!(s.header("vary").as_deref(), Some("Origin"));
    let s = get(&p, "https://o.test");
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(!s.has("vary"));
}

// ---------------------------------------------------------------- §4 responses

#[test]
fn s4_every_handled_response_gets_x_cors_version_replacing_upstream() {
    let p = policy(SEED);
    let s = send(&p, "GET", &[], &[("x-cors-version", "9")]);
    assert_eq!(
        s.headers.get_all("x-cors-version").collect::<Vec<_>>(),
        [b"1.0.0"]
    );
    assert_eq!(
        preflight(&p, "http://httpbin.example.net", "GET", None)
            .header("x-cors-version")
            .as_deref(),
        Some("1.0.0")
    );
    assert_eq!(
        get(&p, "http://evil.test")
            .header("x-cors-version")
            .as_deref(),
        Some("1.0.0")
    );
}

#[test]
fn s4_upstream_access_control_headers_are_removed() {
    let upstream = [
        ("access-control-allow-origin", "https://evil.test"),
        ("Access-Control-Allow-Headers", "*"),
        ("access-control-max-age", "1"),
        ("x-app", "1"),
    ];
    let s = send(
        &policy("allow_origins: [https://a.test]"),
        "GET",
        &[],
        &upstream,
    );
    assert!(s.cors_header_names().is_empty());
    assert!(s.has("x-app"));
    let s = send(
        &policy("allow_origins: [https://a.test]"),
        "GET",
        &[("origin", b"https://a.test")],
        &upstream,
    );
    assert_eq!(s.cors_header_names(), ["access-control-allow-origin"]);
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("https://a.test")
    );
}

#[test]
fn s4_wildcard_policy_sends_star_on_every_forwarded_response_and_no_vary_origin() {
    let p = policy("allow_origins: ['*']\nexpose_headers: [X-A]");
    let s = send(&p, "GET", &[], &[]);
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        s.header("access-control-expose-headers").as_deref(),
        Some("X-A")
    );
    assert!(!s.has("vary"));
    let s = get(&p, "https://x.test");
    assert!(!s.has("vary"));
}

#[test]
fn s4_other_policies_vary_on_origin_on_every_response() {
    let p = policy("allow_origins: [https://a.test]");
    assert_eq!(
        send(&p, "GET", &[], &[]).header("vary").as_deref(),
        Some("Origin")
    );
    assert_eq!(
        get(&p, "https://a.test").header("vary").as_deref(),
        Some("Origin")
    );
    assert_eq!(
        get(&p, "https://b.test").header("vary").as_deref(),
        Some("Origin")
    );
}

#[test]
fn s4_preflight_shaped_responses_also_vary_on_request_method_and_headers() {
    let p = policy("allow_origins: [https://a.test]");
    let want = Some("Origin,Access-Control-Request-Method,Access-Control-Request-Headers");
    assert_eq!(
        preflight(&p, "https://a.test", "GET", None)
            .header("vary")
            .as_deref(),
        want
    );
    assert_eq!(
        preflight(&p, "https://b.test", "GET", None)
            .header("vary")
            .as_deref(),
        want
    );
    let w = preflight(&Policy::default(), "https://a.test", "GET", None);
    assert_eq!(
        w.header("vary").as_deref(),
        Some("Access-Control-Request-Method,Access-Control-Request-Headers")
    );
}

#[test]
fn s4_private_network_policies_also_vary_on_request_private_network() {
    let p = policy("allow_origins: [https://a.test]\nallow_private_network: true");
    assert_eq!(
        preflight(&p, "https://a.test", "GET", None)
            .header("vary")
            .as_deref(),
        Some(
            "Origin,Access-Control-Request-Method,Access-Control-Request-Headers,Access-Control-Request-Private-Network"
        )
    );
}

#[test]
fn s4_vary_is_merged_without_duplicates() {
    let p = policy("allow_origins: [https://a.test]");
    // Origin already listed: nothing to add, the upstream lines stay exactly as sent.
    let s = send(
        &p,
        "GET",
        &[],
        &[
            ("Vary", "Accept-Encoding, origin"),
            ("vary", "accept-encoding"),
        ],
    );
    assert_eq!(
        s.headers.get_all("vary").collect::<Vec<_>>(),
        [&b"Accept-Encoding, origin"[..], b"accept-encoding"]
    );
    // Something to add: all lines merge into one, each token once.
    let s = send(
        &p,
        "GET",
        &[],
        &[
            ("vary", "Accept-Encoding"),
            ("vary", "Cookie, accept-encoding"),
        ],
    );
    assert_eq!(
        s.headers.get_all("vary").collect::<Vec<_>>(),
        [b"Accept-Encoding,Cookie,Origin"]
    );
}

#[test]
fn s4_vary_star_is_never_touched() {
    let p = policy("allow_origins: [https://a.test]");
    let s = send(&p, "GET", &[], &[("vary", "*")]);
    assert_eq!(s.headers.get_all("vary").collect::<Vec<_>>(), [b"*"]);
}

#[test]
fn s4_invalid_is_403_text_plain_with_body_and_no_access_control_headers() {
    let s = get(&policy(SEED), "http://evil.test");
    assert_eq!(s.status, Some(403));
    assert_eq!(s.body, "Invalid CORS request");
    assert_eq!(s.header("content-type").as_deref(), Some("text/plain"));
    assert!(s.cors_header_names().is_empty());
    assert_eq!(s.header("vary").as_deref(), Some("Origin"));
}

#[test]
fn s4_preflight_ok_is_200_with_empty_body_and_the_seed_headers() {
    let s = preflight(
        &policy(SEED),
        "http://httpbin2.example.org:9090",
        "POST",
        Some("Content-Type, Token"),
    );
    assert_eq!((s.status, s.body.as_str()), (Some(200), ""));
    assert_eq!(
        s.header("access-control-allow-origin").as_deref(),
        Some("http://httpbin2.example.org:9090")
    );
    assert_eq!(
        s.header("access-control-allow-methods").as_deref(),
        Some("GET,POST,PATCH")
    );
    assert_eq!(
        s.header("access-control-allow-headers").as_deref(),
        Some("Content-Type,Token,Authorization")
    );
    assert_eq!(
        s.header("access-control-expose-headers").as_deref(),
        Some("X-Custom-Header,X-Env-UTM")
    );
    assert_eq!(
        s.header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    assert_eq!(s.header("access-control-max-age").as_deref(), Some("3600"));
    assert!(!s.has("access-control-allow-private-network"));
}

#[test]
fn s4_actual_ok_keeps_upstream_status_and_adds_origin_expose_credentials_vary() {
    let s = send(
        &policy(SEED),
        "GET",
        &[("origin", b"http://httpbin2.example.org:9090")],
        &[("content-type", "application/json")],
    );
    assert_eq!(s.status, None);
    assert_eq!(
        s.cors_header_names(),
        [
            "access-control-allow-credentials",
            "access-control-allow-origin",
            "access-control-expose-headers"
        ]
    );
    assert_eq!(s.header("vary").as_deref(), Some("Origin"));
    assert_eq!(
        s.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[test]
fn s4_acam_for_star_echoes_the_requested_method() {
    let s = preflight(
        &policy("allow_methods: '*'"),
        "https://a.test",
        "PROPFIND",
        None,
    );
    assert_eq!(
        s.header("access-control-allow-methods").as_deref(),
        Some("PROPFIND")
    );
}

#[test]
fn s4_acah_for_star_echoes_requested_headers_normalised() {
    let p = policy("allow_headers: '*'");
    let s = preflight(&p, "https://a.test", "GET", Some(" Authorization ,, x-b"));
    assert_eq!(
        s.header("access-control-allow-headers").as_deref(),
        Some("Authorization,x-b")
    );
}

#[test]
fn s4_acah_is_omitted_for_star_when_no_headers_were_requested() {
    let s = preflight(&policy("allow_headers: '*'"), "https://a.test", "GET", None);
    assert!(!s.has("access-control-allow-headers"));
    let s = preflight(
        &policy("allow_headers: '*'"),
        "https://a.test",
        "GET",
        Some(" , "),
    );
    assert!(!s.has("access-control-allow-headers"));
}

#[test]
fn s4_acah_configured_list_is_sent_even_without_requested_headers() {
    let s = preflight(
        &policy("allow_headers: [X-A]"),
        "https://a.test",
        "GET",
        None,
    );
    assert_eq!(
        s.header("access-control-allow-headers").as_deref(),
        Some("X-A")
    );
}

#[test]
fn s4_aceh_star_without_credentials_is_star() {
    let s = get(
        &policy("allow_origins: [https://a.test]\nexpose_headers: '*'"),
        "https://a.test",
    );
    assert_eq!(
        s.header("access-control-expose-headers").as_deref(),
        Some("*")
    );
}

#[test]
fn s4_aceh_star_with_credentials_lists_the_response_header_names() {
    let p = policy("allow_origins: [https://a.test]\nexpose_headers: '*'\nallow_credentials: true");
    let s = send(
        &p,
        "GET",
        &[("origin", b"https://a.test")],
        &[
            ("Content-Type", "text/html"),
            ("X-Request-Id", "1"),
            ("set-cookie", "a=b"),
            ("x-request-id", "2"),
            ("Cache-Control", "no-store"),
            ("access-control-allow-origin", "x"),
            ("ETag", "\"1\""),
        ],
    );
    assert_eq!(
        s.header("access-control-expose-headers").as_deref(),
        Some("x-request-id,etag")
    );
    let s = send(
        &p,
        "GET",
        &[("origin", b"https://a.test")],
        &[("content-type", "text/html")],
    );
    assert!(!s.has("access-control-expose-headers"));
    let s = preflight(&p, "https://a.test", "GET", None);
    assert!(!s.has("access-control-expose-headers"));
    // proxy-wasm header maps carry `:status`; a pseudo-header is never listed.
    let s = send(
        &p,
        "GET",
        &[("origin", b"https://a.test")],
        &[(":status", "200"), ("x-total", "3")],
    );
    assert_eq!(
        s.header("access-control-expose-headers").as_deref(),
        Some("x-total")
    );
}

#[test]
fn s4_debug_appends_the_reason_to_the_403_body() {
    let p = policy("allow_headers: [Content-Type]\ndebug: true");
    let s = preflight(&p, "https://a.test", "GET", Some("x-token"));
    assert_eq!(
        s.body,
        "Invalid CORS request: header \"x-token\" is not allowed"
    );
}

#[test]
fn s4_debug_sends_the_reason_as_x_cors_reason_on_403_only() {
    let p = policy("allow_headers: [Content-Type]\ndebug: true");
    let s = preflight(&p, "https://a.test", "GET", Some("x-token"));
    assert_eq!(
        s.header("x-cors-reason").as_deref(),
        Some("header \"x-token\" is not allowed")
    );
    let s = send(&p, "GET", &[("origin", b"https://\xff\n\"x")], &[]);
    assert_eq!(
        s.header("x-cors-reason").as_deref(),
        Some("origin \"https://\\xff\\n\\\"x\" is not a serialized origin")
    );
    assert!(!preflight(&p, "https://a.test", "GET", None).has("x-cors-reason"));
    let quiet = policy("allow_headers: [Content-Type]");
    assert!(!preflight(&quiet, "https://a.test", "GET", Some("x-token")).has("x-cors-reason"));
}

#[test]
fn s4_debug_body_escapes_request_bytes() {
    let p = policy("allow_origins: [https://a.test]\ndebug: true");
    let s = send(&p, "GET", &[("origin", b"https://\xff\n\"x")], &[]);
    assert_eq!(
        s.body,
        "Invalid CORS request: origin \"https://\\xff\\n\\\"x\" is not a serialized origin"
    );
}

#[test]
fn s4_apply_is_idempotent() {
    let p = policy(SEED);
    let mut view = RequestView::new(b"GET");
    view.add_origin(b"http://a.example.com");
    let d = p.evaluate(&view);
    let mut once = HeaderList(vec![(b"vary".to_vec(), b"Cookie".to_vec())]);
    d.write_headers(&mut once.for_response(&p, d.origin()));
    let mut twice = once.clone();
    d.write_headers(&mut twice.for_response(&p, d.origin()));
    assert_eq!(once, twice);
}

/// The core adds (without looking) only names the response does not have: a name it sets that
/// the response has, in any case, is replaced, so each ends up on one line.
#[test]
fn s4_headers_the_response_has_are_replaced_in_any_case() {
    let p = policy("allow_origins: [http://a.example.com]\ndebug: true");
    let lines = |list: &HeaderList, name: &str| list.get_all(name).count();
    let mut view = RequestView::new(b"GET");
    view.add_origin(b"http://a.example.com");
    let allowed = p.evaluate(&view);
    let mut response = HeaderList(vec![
        (b"X-CORS-Version".to_vec(), b"0.1".to_vec()),
        (b"Access-Control-Allow-Origin".to_vec(), b"*".to_vec()),
        (b"VARY".to_vec(), b"Cookie".to_vec()),
    ]);
    allowed.write_headers(&mut response.for_response(&p, allowed.origin()));
    for name in ["x-cors-version", "access-control-allow-origin", "vary"] {
        assert_eq!(lines(&response, name), 1, "{name} in {response:?}");
    }
    assert_eq!(response.get("vary"), Some(&b"Cookie,Origin"[..]));

    let mut view = RequestView::new(b"GET");
    view.add_origin(b"http://evil.test");
    let rejected = p.evaluate(&view);
    let mut answer = HeaderList(vec![
        (b"Content-Type".to_vec(), b"text/html".to_vec()),
        (b"X-Cors-Reason".to_vec(), b"stale".to_vec()),
    ]);
    rejected.write_headers(&mut answer.for_response(&p, rejected.origin()));
    for name in ["x-cors-version", "content-type", "x-cors-reason"] {
        assert_eq!(lines(&answer, name), 1, "{name} in {answer:?}");
    }
    assert_eq!(answer.get("content-type"), Some(&b"text/plain"[..]));
}

#[test]
fn a_rejection_names_the_request_value_at_fault() {
    let p = policy(SEED);
    let mut view = RequestView::new(b"GET");
    view.add_origin(b"http://evil.test");
    let decision = p.evaluate(&view);
    assert_eq!(
        decision.verdict(),
        Verdict::Reject(Reason::OriginNotAllowed)
    );
    let rejection = decision.rejection().expect("rejected");
    assert_eq!(rejection.value(), b"http://evil.test");
    assert_eq!(
        rejection.to_string(),
        "origin \"http://evil.test\" is not allowed"
    );
    assert_eq!(decision.forwarded(), None);
}

#[test]
fn config_round_trips_through_serialize() {
    let p = policy(SEED);
    let json = serde_json::to_vec(p.config()).unwrap();
    assert_eq!(Config::from_json(&json).unwrap(), *p.config());
}

#[test]
fn s1_every_error_is_reported_at_once_in_document_order() {
    let err = polycors::Policy::from_json(
        br#"{"allow_origins":["http://a.test/path"],"max_age":-1,"allow_origin":[],"allow_methods":["GET POST"]}"#,
    )
    .unwrap_err();
    let fields: Vec<String> = err
        .errors()
        .iter()
        .map(|e| e.location().to_string())
        .collect();
    assert_eq!(
        fields,
        [
            "allow_origins[0]",
            "max_age",
            "allow_origin",
            "allow_methods[0]"
        ],
        "{err}"
    );
}

// ---------------------------------------------------------------- §5 hosts: scoped policies

fn route<'a>(name: &'a str, authority: &'a str, cluster: &'a str) -> RouteInfo<'a> {
    RouteInfo {
        route_name: Some(name.as_bytes()),
        authority: Some(authority.as_bytes()),
        cluster_name: Some(cluster.as_bytes()),
    }
}

fn selected(scoped: &ScopedPolicies, r: &RouteInfo<'_>) -> Option<Vec<String>> {
    scoped
        .select(r)
        .map(|p| p.config().allow_origins.clone().unwrap_or_default())
}

const CONFIG: &str = r#"{
    "allow_origins": ["http://global.com"],
    "_rules_": [
        {"_match_route_": ["r1"], "allow_origins": ["http://route.com"]},
        {"_match_route_prefix_": ["api-"], "allow_origins": ["http://prefix.com"]},
        {"_match_domain_": ["*.example.com", "admin*", "exact.net"], "allow_origins": ["http://domain.com"]},
        {"_match_service_": ["svc.ns.svc.cluster.local:8080"], "allow_origins": ["http://svcport.com"]},
        {"_match_service_": ["other.ns.svc.cluster.local"], "allow_origins": ["http://svc.com"]},
        {"_match_route_": ["both"], "_match_service_": ["x.local"], "allow_origins": ["http://both.com"]}
    ]
}"#;

#[test]
fn s5_rules_select_the_first_match_then_the_global_policy() {
    let s = ScopedPolicies::from_json(CONFIG.as_bytes()).unwrap();
    let pick = |r| selected(&s, &r).unwrap()[0].clone();
    assert_eq!(pick(route("r1", "a.example.com", "")), "http://route.com");
    assert_eq!(pick(route("api-v1", "", "")), "http://prefix.com");
    assert_eq!(
        pick(route("x", "a.example.com:8080", "")),
        "http://domain.com"
    );
    assert_eq!(pick(route("x", "ADMIN.corp", "")), "http://domain.com");
    assert_eq!(pick(route("x", "exact.net", "")), "http://domain.com");
    assert_eq!(pick(route("x", "notexact.net", "")), "http://global.com");
    assert_eq!(
        pick(route("x", "", "outbound|8080||svc.ns.svc.cluster.local")),
        "http://svcport.com"
    );
    assert_eq!(
        pick(route("x", "", "outbound|9090||svc.ns.svc.cluster.local")),
        "http://global.com"
    );
    assert_eq!(
        pick(route("x", "", "outbound|1||other.ns.svc.cluster.local")),
        "http://svc.com"
    );
    assert_eq!(
        pick(route("both", "", "outbound|80||x.local")),
        "http://both.com"
    );
    assert_eq!(
        pick(route("both", "", "outbound|80||y.local")),
        "http://global.com"
    );
}

#[test]
fn s5_rules_do_not_inherit_global_fields() {
    let s = ScopedPolicies::from_json(
        br#"{"allow_credentials": true, "allow_origins": ["https://g.com"],
             "_rules_": [{"_match_route_": "r", "max_age": 5}]}"#,
    )
    .unwrap();
    let p = s.select(&route("r", "", "")).unwrap();
    assert!(!p.config().allow_credentials);
    assert!(p.is_wildcard());
}

#[test]
fn s5_only_underscore_keys_means_no_global_policy() {
    let s = ScopedPolicies::from_json(br#"{"_rules_": [{"_match_route_": ["r"]}]}"#).unwrap();
    assert!(s.global().is_none());
    assert!(s.select(&route("other", "", "")).is_none());
    assert!(s.select(&route("r", "", "")).is_some());
}

#[test]
fn s5_an_empty_configuration_is_the_default_global_policy() {
    for doc in [&b""[..], b"{}", b"null"] {
        let s = ScopedPolicies::from_json(doc).unwrap();
        assert!(s.global().unwrap().is_wildcard());
    }
}

#[test]
fn s5_rule_errors_name_the_rule() {
    let err = ScopedPolicies::from_json(
        br#"{"_rules_": [{"_match_route_": ["a"]}, {"allow_origins": ["x"]}, {"_match_service_": ["s:abc"]}]}"#,
    )
    .unwrap_err();
    let messages: Vec<String> = err.errors().iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(messages[0].starts_with("_rules_[1].allow_origins[0]: \"x\" is not an origin"));
    assert!(messages[1].starts_with("_rules_[1]: a rule needs at least one of"));
    assert!(messages[2].starts_with("_rules_[2]._match_service_[0]: \"s:abc\""));
}

#[test]
fn s5_rules_must_be_a_list() {
    let err = ScopedPolicies::from_json(br#"{"_rules_": {"a": 1}}"#).unwrap_err();
    assert_eq!(
        err.to_string(),
        "_rules_: expected a list of rules, found a mapping"
    );
}

#[test]
fn s1_commas_inside_a_port_list_never_split() {
    let p = policy("allow_origin_patterns: 'http://*.a.test:[80,8080], https://*.b.test:[*]'");
    assert_eq!(
        p.config().allow_origin_patterns,
        ["http://*.a.test:[80,8080]", "https://*.b.test:[*]"]
    );
    assert_eq!(get(&p, "http://x.a.test:8080").status, None);
}
