//! One log line per request: what the policy decided and why.

use std::sync::atomic::{AtomicBool, Ordering};

use polycors::{RequestView, RouteInfo, ScopedPolicies};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns the per-request log off (`--quiet`, for load tests).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether the per-request log is off.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// What the policy decides for a request, as a log fragment (`preflight`, `actual`,
/// `not-cors`, `reject: origin "…" is not allowed`, `no policy`). The adapter under test makes
/// the real decision; this is the core's answer for the same request, for the log.
pub fn decision(policies: &ScopedPolicies, method: &[u8], headers: &[(&[u8], &[u8])]) -> String {
    let authority = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(b"host"))
        .map(|(_, value)| *value);
    let route = RouteInfo {
        route_name: None,
        authority,
        cluster_name: None,
    };
    let Some(policy) = policies.select(&route) else {
        return "no policy".into();
    };
    // `serve` listens on plain HTTP; `add_header` takes the authority from `Host`.
    let mut view = RequestView::new(method);
    view.set_scheme(b"http");
    for (name, value) in headers {
        view.add_header(name, value);
    }
    let decision = policy.evaluate(&view);
    match decision.reason() {
        Some(reason) => format!("reject: {reason}"),
        None => decision.kind().to_owned(),
    }
}

/// The log line.
pub fn line(
    method: &str,
    target: &str,
    origin: Option<&[u8]>,
    decision: &str,
    status: u16,
) -> String {
    let origin = origin.map_or_else(
        || "-".to_owned(),
        |o| String::from_utf8_lossy(o).into_owned(),
    );
    format!("{method} {target} origin={origin} -> {decision} -> {status}")
}
