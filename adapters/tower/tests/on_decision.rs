//! The decision hook: called once per request with the verdict, whatever the request.

#[path = "../../shared/decision_sequence.rs"]
mod decision_sequence;

mod support;

use std::sync::{Arc, Mutex};

use polycors::counters::Counter;
use polycors::{Policy, Verdict};
use polycors_tower::CorsLayer;

use decision_sequence::{POLICY, SEQUENCE};

#[tokio::test]
async fn every_request_reaches_the_hook_with_its_verdict() {
    let seen: Arc<Mutex<Vec<Verdict>>> = Arc::default();
    let record = Arc::clone(&seen);
    let layer = CorsLayer::new(Policy::from_yaml(POLICY).expect("valid"))
        .on_decision(move |verdict| record.lock().expect("not poisoned").push(verdict));
    for (method, headers, status, _) in SEQUENCE {
        let mut lines = vec![("host", "api.test")];
        lines.extend_from_slice(headers);
        let response = support::send(&layer, method, &lines).await;
        assert_eq!(response.status().as_u16(), status, "{method} {headers:?}");
    }
    let seen = seen.lock().expect("not poisoned").clone();
    assert_eq!(seen, SEQUENCE.map(|step| step.3));
    // The names the proxy-wasm plugin counts under.
    assert_eq!(
        Counter::for_verdict(seen[3])
            .1
            .map(Counter::name)
            .as_deref(),
        Some("polycors.rejected.origin_not_allowed")
    );
}
