//! One log line per request: what the adapter decided, the policy it used, and the status.
//!
//! The line is `METHOD TARGET origin=ORIGIN -> DECISION [POLICY] -> STATUS`. tower and actix-web
//! report the [`Verdict`] they put in the response's extensions; the proxy-wasm plugin (in the
//! wasmtime host or in Envoy) logs the same line itself at debug level, with the rejection's
//! details appended.

use std::sync::atomic::{AtomicBool, Ordering};

use polycors::Verdict;

static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns the per-request log off (`--quiet`, for load tests).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether the per-request log is off.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// The decision part of a line: `actual [global]`, `reject: origin-not-allowed [global]`, or
/// `no policy` when the adapter reported none.
pub fn decision(verdict: Option<Verdict>) -> String {
    match verdict {
        Some(verdict) => format!("{verdict} [global]"),
        None => "no policy".into(),
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

/// The plugin's own per-request line (`polycors request: ...`, logged at debug level) in a
/// message of its log, if it is one.
pub fn plugin_line(message: &str) -> Option<&str> {
    message
        .find(PLUGIN_LINE)
        .map(|at| message[at + PLUGIN_LINE.len()..].trim_end())
}

const PLUGIN_LINE: &str = "polycors request: ";
