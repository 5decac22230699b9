//! Same-origin detection behind proxies: `Forwarded` / `X-Forwarded-*` count only when the
//! layer is told to trust them.

mod support;

use http::StatusCode;
use polycors::{Policy, Verdict};
use polycors_tower::CorsLayer;

async fn verdict(layer: CorsLayer, headers: &[(&str, &str)]) -> (StatusCode, Option<Verdict>) {
    let mut lines = vec![("host", "internal:8080")];
    lines.extend_from_slice(headers);
    let response = support::send(&layer, "GET", &lines).await;
    (
        response.status(),
        response.extensions().get::<Verdict>().copied(),
    )
}

fn layer() -> CorsLayer {
    CorsLayer::new(Policy::from_yaml("allow_origins: [https://other.test]").expect("valid"))
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

#[tokio::test]
async fn forwarding_headers_are_ignored_by_default() {
    for headers in [&FROM_PUBLIC[..], &X_FORWARDED, &FORWARDED] {
        let (status, verdict) = verdict(layer(), headers).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(matches!(verdict, Some(Verdict::Reject(_))), "{headers:?}");
    }
}

#[tokio::test]
async fn trusted_forwarding_headers_make_the_request_same_origin() {
    for headers in [&X_FORWARDED[..], &FORWARDED] {
        let (status, verdict) = verdict(layer().trust_forwarded_headers(true), headers).await;
        assert_eq!(
            (status, verdict),
            (StatusCode::OK, Some(Verdict::NotCors)),
            "{headers:?}"
        );
    }
    // Trusted, but naming another host: still cross-origin.
    let (status, _) = verdict(
        layer().trust_forwarded_headers(true),
        &[
            ("origin", "https://api.example.com"),
            ("x-forwarded-host", "elsewhere.example.com"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn verdicts_are_in_the_extensions_only_when_recorded() {
    let allowed = [("origin", "https://other.test")];
    let plain = CorsLayer::new(Policy::from_yaml("allow_origins: [https://other.test]").unwrap());
    assert_eq!(verdict(plain, &allowed).await, (StatusCode::OK, None));
    assert_eq!(
        verdict(layer(), &allowed).await,
        (StatusCode::OK, Some(Verdict::Actual))
    );
    // A local answer records it too.
    assert!(matches!(
        verdict(layer(), &FROM_PUBLIC).await,
        (StatusCode::FORBIDDEN, Some(Verdict::Reject(_)))
    ));
}
