//! The decision hook: called once per request with the verdict, whatever the request.

#[path = "../../shared/decision_sequence.rs"]
mod decision_sequence;

use std::sync::{Arc, Mutex};

use actix_web::http::Method;
use actix_web::{App, HttpResponse, test, web};
use polycors::{Policy, Verdict};
use polycors_actix::Cors;

use decision_sequence::{POLICY, SEQUENCE};

#[actix_web::test]
async fn every_request_reaches_the_hook_with_its_verdict() {
    let seen: Arc<Mutex<Vec<Verdict>>> = Arc::default();
    let record = Arc::clone(&seen);
    let cors = Cors::new(Policy::from_yaml(POLICY).expect("valid"))
        .on_decision(move |verdict| record.lock().expect("not poisoned").push(verdict));
    let app = test::init_service(
        App::new()
            .wrap(cors)
            .default_service(web::to(|| async { HttpResponse::Ok().finish() })),
    )
    .await;
    for (method, headers, status, _) in SEQUENCE {
        let mut request = test::TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).expect("a method"))
            .insert_header(("host", "api.test"));
        for (name, value) in headers {
            request = request.append_header((*name, *value));
        }
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status().as_u16(), status, "{method} {headers:?}");
    }
    assert_eq!(
        *seen.lock().expect("not poisoned"),
        SEQUENCE.map(|step| step.3)
    );
}
