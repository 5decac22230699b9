//! The origin predicate: asked about unlisted origins only, with the request's head; what it
//! allows is reflected, what it refuses is rejected, and the other checks still apply.

#[path = "../../shared/origin_predicate_cases.rs"]
mod origin_predicate_cases;

use std::sync::Arc;

use actix_web::dev::RequestHead;
use actix_web::http::Method;
use actix_web::{App, HttpResponse, test, web};
use polycors::{OriginRef, Policy};
use polycors_actix::Cors;

use origin_predicate_cases::{
    Answer, Asked, CASES, Case, HOST, LISTED, POLICY, check_flag_without_predicate,
    check_predicate_alone, flagged_policy, note, refused_path, run_cases, tenant_api,
};

/// Sends `case` through `cors`; returns the status, `Access-Control-Allow-Origin` and `Vary`.
async fn send(cors: Cors, case: &Case) -> Answer {
    let app = test::init_service(
        App::new()
            .wrap(cors)
            .default_service(web::to(|| async { HttpResponse::Ok().finish() })),
    )
    .await;
    let mut request = test::TestRequest::default()
        .method(Method::from_bytes(case.method.as_bytes()).expect("a method"))
        .uri(case.path)
        .insert_header(("host", HOST));
    if let Some(origin) = case.origin {
        request = request.insert_header(("origin", origin));
    }
    if let Some(method) = case.request_method {
        request = request.insert_header(("access-control-request-method", method));
    }
    let response = test::call_service(&app, request.to_request()).await;
    let header = |name: &str| {
        let values: Vec<&str> = response
            .headers()
            .get_all(name)
            .map(|v| v.to_str().expect("ASCII"))
            .collect();
        values.join(",")
    };
    let allow_origin = Some(header("access-control-allow-origin")).filter(|v| !v.is_empty());
    (response.status().as_u16(), allow_origin, header("vary"))
}

fn recording_predicate(
    asked: &Asked,
) -> impl Fn(&OriginRef<'_>, &RequestHead) -> bool + Send + Sync + 'static {
    let asked = Arc::clone(asked);
    move |origin, head| {
        note(&asked, origin);
        tenant_api(origin, head.uri.path())
    }
}

#[actix_web::test]
async fn the_builders_predicate_decides_unlisted_origins() {
    let asked = Asked::default();
    let cors = Cors::builder()
        .allow_origins(["https://listed.test"])
        .allow_methods(["GET", "POST"])
        .allow_origin_predicate(recording_predicate(&asked))
        .build()
        .expect("valid");
    run_cases(&asked, async |case| send(cors.clone(), case).await).await;
}

#[actix_web::test]
async fn a_loaded_policy_takes_a_predicate_on_the_middleware() {
    let asked = Asked::default();
    let cors = Cors::new(Policy::from_yaml(POLICY).expect("valid"))
        .allow_origin_predicate(recording_predicate(&asked));
    run_cases(&asked, async |case| send(cors.clone(), case).await).await;
}

#[actix_web::test]
async fn without_allow_origins_the_predicate_alone_decides() {
    // Without a predicate, no allow_origins means `*`; with one, it does not.
    let asked = Asked::default();
    let cors = Cors::new(Policy::from_yaml("allow_methods: [GET]").expect("valid"))
        .allow_origin_predicate(recording_predicate(&asked));
    let refused = send(cors.clone(), &refused_path()).await;
    check_predicate_alone(refused, send(cors, &CASES[0]).await);
}

#[actix_web::test]
async fn a_policy_needing_a_predicate_without_one_rejects_unlisted_origins() {
    let cors = Cors::new(flagged_policy());
    let unlisted = send(cors.clone(), &CASES[0]).await;
    check_flag_without_predicate(unlisted, send(cors, &CASES[LISTED]).await);
}
