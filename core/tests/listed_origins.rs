//! `FixedValues::listed_origin`: an adapter's own value for an origin the policy lists, byte
//! for byte, and no value for any other origin or another policy's decision.

use polycors::adapter::{FixedValues, LISTED_ORIGIN_VALUES};
use polycors::{Decision, Policy, RequestView};

fn decide<'r>(policy: &Policy, origin: &'r str) -> Decision<'r> {
    let mut view = RequestView::new(b"GET");
    view.set_authority(b"api.example");
    view.add_header(b"origin", origin.as_bytes());
    policy.evaluate(&view)
}

fn listed<'f>(fixed: &'f FixedValues<String>, decision: &Decision<'_>) -> Option<&'f str> {
    fixed.listed_origin(decision).map(String::as_str)
}

#[test]
fn only_origins_listed_byte_for_byte_have_values() {
    let policy = Policy::from_yaml(
        "allow_origins: [https://a.example, 'https://b.example:443', http://c.example:8080]\n\
         allow_origin_patterns: ['https://*.p.example']",
    )
    .expect("valid");
    let fixed = FixedValues::new(&policy, |value| Some(value.to_owned()));
    let cases = [
        ("https://a.example", Some("https://a.example")),
        // Listed in another form: the normalised one is the listed value.
        ("https://b.example", Some("https://b.example")),
        ("http://c.example:8080", Some("http://c.example:8080")),
        // Allowed, but not as sent: the request's value is echoed.
        ("https://A.example", None),
        ("https://x.p.example", None),
        ("https://evil.example", None),
    ];
    for (origin, expected) in cases {
        assert_eq!(
            listed(&fixed, &decide(&policy, origin)),
            expected,
            "{origin}"
        );
    }
    // The same origins in another order: another policy's numbers are not this one's.
    let other = Policy::from_yaml("allow_origins: [http://c.example:8080, https://a.example]")
        .expect("valid");
    assert_eq!(listed(&fixed, &decide(&other, "https://a.example")), None);
    assert_eq!(
        listed(&fixed, &decide(&other, "http://c.example:8080")),
        None
    );
}

#[test]
fn values_are_built_for_the_first_origins_only() {
    let origins: Vec<String> = (0..=LISTED_ORIGIN_VALUES)
        .map(|i| format!("https://o{i}.example"))
        .collect();
    let policy =
        Policy::from_yaml(&format!("allow_origins: [{}]", origins.join(", "))).expect("valid");
    let fixed = FixedValues::new(&policy, |value| Some(value.to_owned()));
    let first = &origins[0];
    let last_with_value = &origins[LISTED_ORIGIN_VALUES - 1];
    let past = &origins[LISTED_ORIGIN_VALUES];
    assert_eq!(
        listed(&fixed, &decide(&policy, first)),
        Some(first.as_str())
    );
    assert_eq!(
        listed(&fixed, &decide(&policy, last_with_value)),
        Some(last_with_value.as_str())
    );
    let decision = decide(&policy, past);
    assert_eq!(
        decision.verdict(),
        polycors::Verdict::Actual,
        "still allowed"
    );
    assert_eq!(listed(&fixed, &decision), None);
}
