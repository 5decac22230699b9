//! The policy's fixed values and listed origins reach responses over the process's interned
//! bytes.

#[path = "../../shared/fixed_values.rs"]
mod fixed_values;

use actix_web::http::Method;
use actix_web::{App, HttpResponse, test, web};
use polycors::Policy;
use polycors_actix::Cors;

use fixed_values::{ACTUAL, FIXED, POLICY, PREFLIGHT, assert_interned};

#[actix_web::test]
async fn fixed_values_are_the_interned_bytes() {
    let cors = Cors::new(Policy::from_yaml(POLICY).expect("valid"));
    let app = test::init_service(
        App::new()
            .wrap(cors)
            .default_service(web::to(|| async { HttpResponse::Ok().finish() })),
    )
    .await;
    // Twice: the second response clones the same values.
    for _ in 0..2 {
        let mut request = test::TestRequest::default().method(Method::OPTIONS);
        for header in PREFLIGHT {
            request = request.insert_header(header);
        }
        let response = test::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 200);
        for (name, expected) in FIXED {
            let value = response.headers().get(name).expect(name);
            assert_interned(name, value.as_bytes(), expected);
        }
        let mut request = test::TestRequest::default();
        for header in ACTUAL {
            request = request.insert_header(header);
        }
        let response = test::call_service(&app, request.to_request()).await;
        let value = response
            .headers()
            .get(FIXED[0].0)
            .expect("an allowed origin");
        assert_interned(FIXED[0].0, value.as_bytes(), FIXED[0].1);
    }
}
