//! Configuration parsing: JSON and YAML, plain policies and Higress `_rules_`. Never a panic;
//! every failure is an error that names where; a document that loads once loads the same way
//! again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polycors::{Policy, ScopedPolicies};

fuzz_target!(|data: &[u8]| {
    let json = Policy::from_json(data);
    let scoped = ScopedPolicies::from_json(data);
    if let Err(invalid) = &json {
        assert!(!invalid.errors().is_empty(), "an error without errors");
        let _ = invalid.to_string();
    }
    if let Ok(policy) = &json {
        // Loading is deterministic.
        let again = Policy::from_json(data).expect("loaded once, loads again");
        assert_eq!(policy.config(), again.config());
    }
    if let Ok(scoped) = &scoped {
        let _ = scoped.warnings().count();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        match Policy::from_yaml(text) {
            Ok(policy) => {
                let _ = policy.warnings();
            }
            Err(invalid) => assert!(!invalid.errors().is_empty()),
        }
        let _ = ScopedPolicies::from_yaml(text);
    }
});
