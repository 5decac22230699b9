//! Property tests: origin matching is anchored. No origin that merely contains an allowed
//! origin, or extends it with a suffix, a port or another scheme, is ever accepted.

use polycors::pattern::OriginPattern;
use polycors::{Policy, RequestView, Verdict};
use proptest::prelude::*;

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?"
}

fn host() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..4).prop_map(|labels| labels.join("."))
}

fn allowed(policy: &Policy, origin: &str) -> bool {
    let mut view = RequestView::new(b"GET");
    view.add_origin(origin.as_bytes());
    policy.evaluate(&view).verdict() == Verdict::Actual
}

proptest! {
    #[test]
    fn exact_origin_is_not_extended(host in host(), suffix in "[a-z0-9.-]{1,12}", port in 1u16.., prefix in "[a-z]{1,6}") {
        let origin = format!("https://{host}");
        let policy = Policy::builder().allow_origins([origin.clone()]).build().unwrap();
        prop_assert!(allowed(&policy, &origin));
        let o1 = format!("{origin}{suffix}");
        prop_assert!(!allowed(&policy, &o1));
        let o2 = format!("https://{prefix}{host}");
        prop_assert!(!allowed(&policy, &o2));
        let o3 = format!("{origin}:{port}");
        prop_assert!(port == 443 || !allowed(&policy, &o3));
        let o4 = format!("http://{host}");
        prop_assert!(!allowed(&policy, &o4));
        let o5 = format!("wss://{host}");
        prop_assert!(!allowed(&policy, &o5));
        let o6 = format!("{origin}.evil.com");
        prop_assert!(!allowed(&policy, &o6));
    }

    #[test]
    fn pattern_is_anchored(base in host(), sub in host(), evil in host(), port in 1u16..) {
        let pattern = OriginPattern::parse(&format!("https://*.{base}")).unwrap();
        let inside = format!("https://{sub}.{base}");
        prop_assert!(pattern.matches(inside.as_bytes()));
        // Appending labels is only a non-match when the result is not itself a subdomain of
        // `base` (e.g. `evil` = `base` makes `sub.base.base`, legitimately inside).
        let dot_base = format!(".{base}");
        let o7 = format!("{inside}.{evil}");
        prop_assert!(o7.ends_with(&dot_base) || !pattern.matches(o7.as_bytes()));
        let o7x = format!("{inside}.{evil}-x");
        prop_assert!(!pattern.matches(o7x.as_bytes()));
        let o8 = format!("https://{sub}.{base}-{evil}");
        prop_assert!(o8.ends_with(&dot_base) || !pattern.matches(o8.as_bytes()));
        let o9 = format!("http://{sub}.{base}");
        prop_assert!(!pattern.matches(o9.as_bytes()));
        let o10 = format!("{inside}:{port}");
        prop_assert!(port == 443 || !pattern.matches(o10.as_bytes()));
        let o11 = format!("https://{base}");
        prop_assert!(!pattern.matches(o11.as_bytes()));
        let o12 = format!("https://{evil}/{sub}.{base}");
        prop_assert!(!pattern.matches(o12.as_bytes()));
    }

    #[test]
    fn pattern_port_list_admits_only_listed_ports(base in host(), sub in host(), a in 1u16.., b in 1u16.., other in 1u16..) {
        let pattern = OriginPattern::parse(&format!("http://*.{base}:[{a},{b}]")).unwrap();
        let o13 = format!("http://{sub}.{base}:{a}");
        prop_assert!(pattern.matches(o13.as_bytes()));
        let o14 = format!("http://{sub}.{base}:{b}");
        prop_assert!(pattern.matches(o14.as_bytes()));
        let listed = other == a || other == b;
        let o_other = format!("http://{sub}.{base}:{other}");
        prop_assert_eq!(pattern.matches(o_other.as_bytes()), listed);
    }

    #[test]
    fn arbitrary_origin_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let policy = Policy::builder().allow_origin_patterns(["http://*.a.com:[*]"]).build().unwrap();
        let mut view = RequestView::new(b"GET");
        view.add_origin(&bytes);
        let _ = policy.evaluate(&view);
    }
}
