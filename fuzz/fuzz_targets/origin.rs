//! Origin and pattern parsing. The input is `pattern \n origin`: the pattern is parsed (as an
//! origin pattern, and as an exact origin in `allow_origins`), the origin is matched. Checks
//! the anchoring: an origin that matches a pattern stops matching when a path or query is
//! appended or the scheme is prefixed; for a pattern without wildcards, when anything is
//! appended.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polycors::pattern::OriginPattern;
use polycors::{Policy, RequestView};

fuzz_target!(|data: &[u8]| {
    let (pattern, origin) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(pattern_text) = std::str::from_utf8(pattern) else {
        return;
    };
    if let Ok(parsed) = OriginPattern::parse(pattern_text) {
        if parsed.matches(origin) && !parsed.is_any() {
            let literal = !pattern_text.contains('*');
            let suffixes: &[&[u8]] = if literal {
                &[b"x", b".evil.test", b":1", b"/", b"?", b"."]
            } else {
                &[b"/", b"/x", b"?", b"#"]
            };
            for suffix in suffixes {
                let mut longer = origin.to_vec();
                longer.extend_from_slice(suffix);
                assert!(
                    !parsed.matches(&longer),
                    "{pattern_text:?} matches {:?} and {:?}",
                    String::from_utf8_lossy(origin),
                    String::from_utf8_lossy(&longer)
                );
            }
            let mut prefixed = b"x".to_vec();
            prefixed.extend_from_slice(origin);
            assert!(
                !parsed.matches(&prefixed),
                "{pattern_text:?} matches a longer scheme"
            );
        }
    }
    // The same text as an exact origin and as a pattern in a policy; then a request from
    // `origin` through each policy that loads.
    let policies = [
        Policy::builder().allow_origins([pattern_text]).build(),
        Policy::builder()
            .allow_origin_patterns([pattern_text])
            .build(),
    ];
    for policy in policies.into_iter().flatten() {
        let mut view = RequestView::new(b"GET");
        view.add_origin(origin)
            .set_scheme(b"http")
            .set_authority(b"api.test");
        let decision = policy.evaluate(&view);
        let _ = decision.verdict();
    }
});
