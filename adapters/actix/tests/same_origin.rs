//! Same-origin detection behind proxies: `Forwarded` / `X-Forwarded-*` count only when the
//! middleware is told to trust them (actix's `ConnectionInfo` is not used: it trusts them always).

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, test, web};
use polycors::{Policy, Verdict};
use polycors_actix::Cors;

async fn verdict(cors: Cors, headers: &[(&str, &str)]) -> (StatusCode, Option<Verdict>) {
    let app = test::init_service(
        App::new()
            .wrap(cors)
            .default_service(web::to(|| async { HttpResponse::Ok().finish() })),
    )
    .await;
    let mut request = test::TestRequest::default().insert_header(("host", "internal:8080"));
    for (name, value) in headers {
        request = request.append_header((*name, *value));
    }
    let response = test::call_service(&app, request.to_request()).await;
    let verdict = response.response().extensions().get::<Verdict>().copied();
    (response.status(), verdict)
}

fn cors() -> Cors {
    Cors::new(Policy::from_yaml("allow_origins: [https://other.test]").expect("valid"))
        .record_verdicts(true)
}

const FROM_PUBLIC: [(&str, &str); 1] = [("origin", "https://api.example.com")];
const X_FORWARDED: [(&str, &str); 3] = [
    ("origin", "https://api.example.com"),
    ("x-forwarded-host", "api.example.com"),
    ("x-forwarded-proto", "https"),
];
const FORWARDED: [(&str, &str); 2] = [
    ("origin", "https://api.example.com"),
    (
        "forwarded",
        "for=192.0.2.1;proto=https;host=\"api.example.com\", for=10.0.0.1",
    ),
];

#[actix_web::test]
async fn forwarding_headers_are_ignored_by_default() {
    for headers in [&FROM_PUBLIC[..], &X_FORWARDED, &FORWARDED] {
        let (status, verdict) = verdict(cors(), headers).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(matches!(verdict, Some(Verdict::Reject(_))), "{headers:?}");
    }
}

#[actix_web::test]
async fn trusted_forwarding_headers_make_the_request_same_origin() {
    for headers in [&X_FORWARDED[..], &FORWARDED] {
        let (status, verdict) = verdict(cors().trust_forwarded_headers(true), headers).await;
        assert_eq!(
            (status, verdict),
            (StatusCode::OK, Some(Verdict::NotCors)),
            "{headers:?}"
        );
    }
    let (status, _) = verdict(
        cors().trust_forwarded_headers(true),
        &[
            ("origin", "https://api.example.com"),
            ("x-forwarded-host", "elsewhere.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn verdicts_are_in_the_extensions_only_when_recorded() {
    let allowed = [("origin", "https://other.test")];
    let plain = Cors::new(Policy::from_yaml("allow_origins: [https://other.test]").unwrap());
    assert_eq!(verdict(plain, &allowed).await, (StatusCode::OK, None));
    assert_eq!(
        verdict(cors(), &allowed).await,
        (StatusCode::OK, Some(Verdict::Actual))
    );
    assert!(matches!(
        verdict(cors(), &FROM_PUBLIC).await,
        (StatusCode::FORBIDDEN, Some(Verdict::Reject(_)))
    ));
}
