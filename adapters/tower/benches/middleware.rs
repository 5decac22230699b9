//! The full middleware path (request in, response out, trivial inner service): polycors-tower
//! against tower-http's `CorsLayer`, with equivalent configurations and the same requests.
//!
//! `cargo bench -p polycors-tower --bench middleware`

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Method, Request, Response, header};
use http_body_util::Full;
use tower::{Layer, Service, ServiceExt, service_fn};

const ORIGINS: [&str; 3] = [
    "https://app.example.com",
    "https://admin.example.com",
    "http://localhost:3000",
];

fn polycors_layer() -> polycors_tower::CorsLayer {
    let policy = polycors::Policy::builder()
        .allow_origins(ORIGINS)
        .allow_methods(["GET", "POST", "PUT"])
        .allow_headers(["Content-Type", "Authorization", "X-Token"])
        .expose_headers(["X-Request-Id"])
        .allow_credentials(true)
        .max_age(600)
        .build()
        .expect("valid policy");
    polycors_tower::CorsLayer::new(policy)
}

fn tower_http_layer() -> tower_http::cors::CorsLayer {
    tower_http::cors::CorsLayer::new()
        .allow_origin(ORIGINS.map(HeaderValue::from_static))
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static("x-token"),
        ])
        .expose_headers([header::HeaderName::from_static("x-request-id")])
        .allow_credentials(true)
        .max_age(Duration::from_secs(600))
}

type Reply = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
type Upstream = tower::util::ServiceFn<fn(Request<Full<Bytes>>) -> Reply>;

/// The trivial inner service: a small text response.
fn upstream(_request: Request<Full<Bytes>>) -> Reply {
    std::future::ready(Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(b"ok")))
        .expect("valid response")))
}

/// The three requests: an allowed actual GET, an allowed preflight, a rejected origin.
fn request(kind: &str) -> Request<Full<Bytes>> {
    let builder = Request::builder()
        .uri("/items/1")
        .header(header::HOST, "api.example.com");
    let builder = match kind {
        "actual" => builder.header(header::ORIGIN, "https://admin.example.com"),
        "preflight" => builder
            .method(Method::OPTIONS)
            .header(header::ORIGIN, "https://admin.example.com")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "PUT")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "content-type,authorization",
            ),
        _ => builder.header(header::ORIGIN, "https://evil.example"),
    };
    builder
        .body(Full::new(Bytes::new()))
        .expect("valid request")
}

fn bench<L>(c: &mut Criterion, name: &str, layer: L)
where
    L: Layer<Upstream>,
    L::Service: Service<Request<Full<Bytes>>> + Clone,
    <L::Service as Service<Request<Full<Bytes>>>>::Error: std::fmt::Debug,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let service = layer.layer(service_fn(upstream as fn(_) -> Reply));
    let mut group = c.benchmark_group("tower");
    for kind in ["actual", "preflight", "rejected"] {
        group.bench_function(format!("{name}/{kind}"), |b| {
            b.iter(|| {
                let response = runtime
                    .block_on(service.clone().oneshot(request(kind)))
                    .expect("infallible");
                std::hint::black_box(response)
            })
        });
    }
    group.finish();
}

fn middleware(c: &mut Criterion) {
    bench(c, "polycors-tower", polycors_layer());
    bench(c, "tower-http", tower_http_layer());
}

criterion_group!(benches, middleware);
criterion_main!(benches);
