//! The decision hook: called once per request with the verdict, whatever the request.

#[path = "../../shared/decision_sequence.rs"]
mod decision_sequence;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use polycors::counters::Counter;
use polycors::{Policy, Verdict};
use polycors_tower::CorsLayer;
use tower::{Layer, ServiceExt, service_fn};

use decision_sequence::{POLICY, SEQUENCE};

#[tokio::test]
async fn every_request_reaches_the_hook_with_its_verdict() {
    let seen: Arc<Mutex<Vec<Verdict>>> = Arc::default();
    let record = Arc::clone(&seen);
    let layer = CorsLayer::new(Policy::from_yaml(POLICY).expect("valid"))
        .on_decision(move |verdict| record.lock().expect("not poisoned").push(verdict));
    for (method, headers, status, _) in SEQUENCE {
        let service = layer.layer(service_fn(|_: Request<()>| async {
            Ok::<_, Infallible>(Response::new(()))
        }));
        let mut request = Request::builder()
            .method(method)
            .uri("/")
            .header("host", "api.test");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = service
            .oneshot(request.body(()).expect("a request"))
            .await
            .expect("infallible");
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
