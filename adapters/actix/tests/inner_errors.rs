//! An error returned by the wrapped service becomes a response later (actix-web's dispatcher
//! calls `Error::error_response`); that response gets the CORS headers too, or the browser could
//! not read it.

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, error, test, web};
use polycors::{Policy, Verdict};
use polycors_actix::Cors;

const POLICY: &str = "
allow_origins: [https://app.example.com]
allow_credentials: true
expose_headers: [x-request-id]
";

/// Every line of `name` in `response`.
fn lines(response: &HttpResponse, name: &str) -> Vec<String> {
    response
        .headers()
        .get_all(name)
        .map(|value| value.to_str().expect("text").to_owned())
        .collect()
}

/// The middleware in front of a service that fails every request.
async fn failing_app() -> impl Service<
    actix_http::Request,
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
> {
    test::init_service(
        App::new()
            .wrap_fn(|_request, _service| {
                std::future::ready(Err::<ServiceResponse, _>(error::ErrorServiceUnavailable(
                    "database down",
                )))
            })
            .wrap(Cors::new(Policy::from_yaml(POLICY).expect("valid")).record_verdicts(true))
            .default_service(web::to(|| async { HttpResponse::Ok().finish() })),
    )
    .await
}

#[actix_web::test]
async fn an_inner_error_gets_the_cors_headers_when_it_becomes_a_response() {
    let app = failing_app().await;
    let request = test::TestRequest::get()
        .uri("/items")
        .insert_header(("host", "api.example.com"))
        .insert_header(("origin", "https://app.example.com"))
        .to_request();
    let error = match app.call(request).await {
        Ok(response) => panic!("the inner error was swallowed: {}", response.status()),
        Err(error) => error,
    };
    // The dispatcher may ask for the response more than once: each one has each header once.
    for _ in 0..2 {
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            lines(&response, "access-control-allow-origin"),
            ["https://app.example.com"]
        );
        assert_eq!(
            lines(&response, "access-control-allow-credentials"),
            ["true"]
        );
        assert_eq!(
            lines(&response, "access-control-expose-headers"),
            ["x-request-id"]
        );
        assert_eq!(lines(&response, "vary"), ["Origin"]);
        assert_eq!(lines(&response, "x-cors-version").len(), 1);
        assert_eq!(
            response.extensions().get::<Verdict>().copied(),
            Some(Verdict::Actual)
        );
    }
}

#[actix_web::test]
async fn a_rejected_request_never_reaches_the_failing_service() {
    let app = failing_app().await;
    let request = test::TestRequest::get()
        .insert_header(("host", "api.example.com"))
        .insert_header(("origin", "https://evil.example"))
        .to_request();
    let response = app.call(request).await.expect("answered by the policy");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
