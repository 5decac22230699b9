//! Runs every case of `conformance/cases/` through every target and checks each against the same
//! snapshot (`conformance/snapshots/<case>.snap`). A target that disagrees fails with a diff.
//!
//! New or changed snapshots are reviewed with `cargo insta review` (or by renaming the
//! `.snap.new` files insta writes next to them); CI never writes snapshots.
//!
//! A request a host answers itself before any filter runs (`host_answers` in the case) must get
//! exactly that answer on that target, and is left out of that target's comparison.

use std::panic::{AssertUnwindSafe, catch_unwind};

use polycors_conformance::{Case, Outcome, Target, load_cases, snapshot_outcomes, targets};

/// The minimum number of requests the suite must send (the conformance issue's floor).
const MIN_REQUESTS: usize = 80;

/// Runs every case `target` supports; returns how many requests were sent.
fn check(target: &mut dyn Target, cases: &[Case]) -> usize {
    let mut requests = 0;
    let mut failures = Vec::new();
    for case in cases {
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
    let answered_by_host: Vec<bool> = case
        .requests
        .iter()
        .zip(&outcomes)
        .map(
            |(request, outcome)| match request.host_answers.get(target.host()) {
                None => false,
                Some(answer) => {
                    assert_host_answered(outcome, answer.status, &answer.why);
                    true
                }
            },
        )
        .collect();
    if !answered_by_host.contains(&true) {
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("../snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(case.description.trim());
        settings.bind(|| insta::assert_yaml_snapshot!(case.name.as_str(), outcomes));
        return;
    }
    let mut expected = snapshot_outcomes(case);
    assert_eq!(
        expected.len(),
        outcomes.len(),
        "the snapshot has every request"
    );
    let mut index = 0;
    expected.retain(|_| {
        index += 1;
        !answered_by_host[index - 1]
    });
    let actual: Vec<serde_yaml::Value> = outcomes
        .iter()
        .zip(&answered_by_host)
        .filter(|(_, by_host)| !**by_host)
        .map(|(o, _)| serde_yaml::to_value(o).expect("serialisable"))
        .collect();
    if actual != expected {
        let show = |v: &[serde_yaml::Value]| serde_yaml::to_string(v).unwrap_or_default();
        panic!(
            "differs from the snapshot (requests the host answers left out)\n--- snapshot\n{}\n+++ {}\n{}",
            show(&expected),
            target.name(),
            show(&actual)
        );
    }
}

/// The host, not the plugin, answered: the expected status, no `x-cors-version` (every answer
/// the policy writes has one), and the upstream never saw the request.
fn assert_host_answered(outcome: &Outcome, status: u16, why: &str) {
    let policy_wrote = outcome.headers.iter().any(|(n, _)| n == "x-cors-version");
    assert!(
        outcome.status == status && !policy_wrote && outcome.upstream_saw.is_none(),
        "{}: expected the host to answer {status} before the filter ({why}), got {outcome:?}",
        outcome.request
    );
}

#[test]
fn core_reference_matches_snapshots() {
    let requests = check(&mut targets::Core, &load_cases());
    assert!(
        requests >= MIN_REQUESTS,
        "the suite sends {requests} requests; it must send at least {MIN_REQUESTS}"
    );
}

#[test]
fn tower_matches_snapshots() {
    check(&mut targets::Tower::default(), &load_cases());
}

#[test]
fn actix_matches_snapshots() {
    check(&mut targets::Actix, &load_cases());
}

#[test]
fn proxy_wasm_matches_snapshots() {
    let mut target = targets::ProxyWasm::load().unwrap_or_else(|e| panic!("{e}"));
    check(&mut target, &load_cases());
}

#[test]
fn envoy_matches_snapshots() {
    let cases = load_cases();
    let mut target = targets::Envoy::start(&cases).unwrap_or_else(|e| panic!("{e}"));
    check(&mut target, &cases);
}

#[test]
fn envoy_module_matches_snapshots() {
    let cases = load_cases();
    let mut target = targets::Envoy::start_module(&cases).unwrap_or_else(|e| panic!("{e}"));
    check(&mut target, &cases);
}
