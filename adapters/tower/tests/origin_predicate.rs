//! The origin predicate, synchronous and asynchronous: asked about unlisted origins only, with
//! the request's parts; what it allows is reflected, what it refuses is rejected, and the other
//! checks still apply.

#[path = "../../shared/origin_predicate_cases.rs"]
mod origin_predicate_cases;

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use polycors::{OriginRef, Policy};
use polycors_tower::CorsLayer;
use tower::{Layer, Service, ServiceExt, service_fn};

use origin_predicate_cases::{
    Answer, Asked, CASES, Case, HOST, LISTED, POLICY, check_flag_without_predicate,
    check_predicate_alone, flagged_policy, note, refused_path, run_cases, tenant_api,
};

async fn ok(_: Request<()>) -> Result<Response<()>, Infallible> {
    Ok(Response::new(()))
}

/// Sends `case` through `layer`; returns the status, `Access-Control-Allow-Origin` and `Vary`.
async fn send(layer: &CorsLayer, case: &Case) -> Answer {
    send_to(layer.layer(service_fn(ok)), case).await
}

/// Sends `case` to `service`.
async fn send_to<S, B>(service: S, case: &Case) -> Answer
where
    S: Service<Request<()>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
{
    let mut request = Request::builder()
        .method(case.method)
        .uri(case.path)
        .header("host", HOST);
    if let Some(origin) = case.origin {
        request = request.header("origin", origin);
    }
    if let Some(method) = case.request_method {
        request = request.header("access-control-request-method", method);
    }
    let response = service
        .oneshot(request.body(()).expect("a request"))
        .await
        .expect("the service answers");
    let header = |name: &str| {
        let values: Vec<&str> = response
            .headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("ASCII"))
            .collect();
        values.join(",")
    };
    let allow_origin = Some(header("access-control-allow-origin")).filter(|v| !v.is_empty());
    (response.status().as_u16(), allow_origin, header("vary"))
}

fn recording_predicate(
    asked: &Asked,
) -> impl Fn(&polycors::OriginRef<'_>, &http::request::Parts) -> bool + Send + Sync + 'static {
    let asked = Arc::clone(asked);
    move |origin, parts| {
        note(&asked, origin);
        tenant_api(origin, parts.uri.path())
    }
}

#[tokio::test]
async fn the_builders_predicate_decides_unlisted_origins() {
    let asked = Asked::default();
    let layer = CorsLayer::builder()
        .allow_origins(["https://listed.test"])
        .allow_methods(["GET", "POST"])
        .allow_origin_predicate(recording_predicate(&asked))
        .build()
        .expect("valid");
    run_cases(&asked, async |case| send(&layer, case).await).await;
}

#[tokio::test]
async fn a_loaded_policy_takes_a_predicate_on_the_layer() {
    let asked = Asked::default();
    let layer = CorsLayer::new(Policy::from_yaml(POLICY).expect("valid"))
        .allow_origin_predicate(recording_predicate(&asked));
    run_cases(&asked, async |case| send(&layer, case).await).await;
}

#[tokio::test]
async fn without_allow_origins_the_predicate_alone_decides() {
    // Without a predicate, no allow_origins means `*`; with one, it does not.
    let asked = Asked::default();
    let layer = CorsLayer::new(Policy::from_yaml("allow_methods: [GET]").expect("valid"))
        .allow_origin_predicate(recording_predicate(&asked));
    let refused = send(&layer, &refused_path()).await;
    check_predicate_alone(refused, send(&layer, &CASES[0]).await);
}

#[tokio::test]
async fn a_policy_needing_a_predicate_without_one_rejects_unlisted_origins() {
    let layer = CorsLayer::new(flagged_policy());
    let unlisted = send(&layer, &CASES[0]).await;
    check_flag_without_predicate(unlisted, send(&layer, &CASES[LISTED]).await);
}

#[tokio::test]
async fn the_async_predicate_decides_unlisted_origins_after_waiting() {
    let asked = Asked::default();
    let record = Arc::clone(&asked);
    let layer = CorsLayer::new(Policy::from_yaml(POLICY).expect("valid"))
        .allow_origin_async_predicate(move |origin: OriginRef<'static>, parts| {
            note(&record, &origin);
            let path = parts.uri.path().to_owned();
            async move {
                // The answer comes after the response future has been polled once.
                tokio::task::yield_now().await;
                tenant_api(&origin, &path)
            }
        });
    run_cases(&asked, async |case| {
        send_to(layer.layer(service_fn(ok)), case).await
    })
    .await;
}

#[tokio::test]
async fn the_async_predicate_moves_the_ready_service_into_the_response_future() {
    // The inner service counts its calls: the request the predicate allows reaches it once,
    // through the clone that was ready when the layer's service was called.
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let inner = service_fn(move |_: Request<()>| {
        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ok(Request::new(()))
    });
    let layer = CorsLayer::new(Policy::from_yaml(POLICY).expect("valid"))
        .allow_origin_async_predicate(|origin: OriginRef<'static>, _parts| async move {
            origin.is_host_or_subdomain_of("tenants.test")
        });
    let mut service = layer.layer(inner);
    for (case, reached) in [(&CASES[0], 1), (&CASES[2], 1), (&CASES[LISTED], 2)] {
        let ready = service.ready().await.expect("ready");
        let answer = send_to(ready, case).await;
        assert_eq!(answer.0, case.status, "{:?}", case.origin);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), reached);
    }
}
