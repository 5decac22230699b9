//! Runs every case of `conformance/cases/` through every target and checks each against the same
//! snapshot (`conformance/snapshots/<case>.snap`). A target that disagrees fails with a diff.
//!
//! New or changed snapshots are reviewed with `cargo insta review` (or by renaming the
//! `.snap.new` files insta writes next to them); CI never writes snapshots.

use std::panic::{AssertUnwindSafe, catch_unwind};

use polycors_conformance::{Case, Target, load_cases, targets};

/// The minimum number of requests the suite must send (the conformance issue's floor).
const MIN_REQUESTS: usize = 80;

/// Runs every case `target` supports; returns how many requests were sent.
fn check(target: &mut dyn Target) -> usize {
    let cases = load_cases();
    let mut requests = 0;
    let mut failures = Vec::new();
    for case in &cases {
        if case.plugin_config.is_some() && !target.supports_rules() {
            continue;
        }
        requests += case.requests.len();
        let result = catch_unwind(AssertUnwindSafe(|| assert_case(&mut *target, case)));
        if let Err(panic) = result {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {message}", case.name));
        }
    }
    assert!(
        failures.is_empty(),
        "target `{}` disagrees with {} of {} case snapshots:\n{}",
        target.name(),
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    requests
}

fn assert_case(target: &mut dyn Target, case: &Case) {
    let outcomes = target.run(case);
    assert_eq!(
        outcomes.len(),
        case.requests.len(),
        "one outcome per request"
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(case.description.trim());
    settings.bind(|| insta::assert_yaml_snapshot!(case.name.as_str(), outcomes));
}

#[test]
fn core_reference_matches_snapshots() {
    let requests = check(&mut targets::Core);
    assert!(
        requests >= MIN_REQUESTS,
        "the suite sends {requests} requests; it must send at least {MIN_REQUESTS}"
    );
}

#[test]
fn tower_matches_snapshots() {
    check(&mut targets::Tower::default());
}

#[test]
fn actix_matches_snapshots() {
    check(&mut targets::Actix);
}

#[test]
fn proxy_wasm_matches_snapshots() {
    let mut target = targets::ProxyWasm::load().unwrap_or_else(|e| panic!("{e}"));
    check(&mut target);
}
