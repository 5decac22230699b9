//! The full middleware path (request in, response out, trivial handler): polycors-actix against
//! actix-cors, with equivalent configurations and the same requests.
//!
//! `cargo bench -p polycors-actix --bench middleware`

use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::{App, HttpResponse, test, web};
use criterion::{Criterion, criterion_group, criterion_main};

const ORIGINS: [&str; 3] = [
    "https://app.example.com",
    "https://admin.example.com",
    "http://localhost:3000",
];

fn polycors_cors() -> polycors_actix::Cors {
    let policy = polycors::Policy::builder()
        .allow_origins(ORIGINS)
        .allow_methods(["GET", "POST", "PUT"])
        .allow_headers(["Content-Type", "Authorization", "X-Token"])
        .expose_headers(["X-Request-Id"])
        .allow_credentials(true)
        .max_age(600)
        .build()
        .expect("valid policy");
    polycors_actix::Cors::new(policy)
}

fn actix_cors() -> actix_cors::Cors {
    ORIGINS
        .iter()
        .fold(actix_cors::Cors::default(), |cors, origin| {
            cors.allowed_origin(origin)
        })
        .allowed_methods(["GET", "POST", "PUT"])
        .allowed_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .allowed_header("x-token")
        .expose_headers(["x-request-id"])
        .supports_credentials()
        .max_age(600)
}

/// The three requests: an allowed actual GET, an allowed preflight, a rejected origin.
fn request(kind: &str) -> test::TestRequest {
    let builder =
        test::TestRequest::with_uri("/items/1").insert_header((header::HOST, "api.example.com"));
    match kind {
        "actual" => builder.insert_header((header::ORIGIN, "https://admin.example.com")),
        "preflight" => builder
            .method(Method::OPTIONS)
            .insert_header((header::ORIGIN, "https://admin.example.com"))
            .insert_header((header::ACCESS_CONTROL_REQUEST_METHOD, "PUT"))
            .insert_header((
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "content-type,authorization",
            )),
        _ => builder.insert_header((header::ORIGIN, "https://evil.example")),
    }
}

macro_rules! bench_middleware {
    ($c:expr, $name:expr, $middleware:expr) => {{
        let system = actix_web::rt::System::new();
        let app = system.block_on(test::init_service(
            App::new()
                .wrap($middleware)
                .default_service(web::to(|| async {
                    HttpResponse::Ok().content_type("text/plain").body("ok")
                })),
        ));
        let mut group = $c.benchmark_group("actix");
        for kind in ["actual", "preflight", "rejected"] {
            group.bench_function(format!("{}/{kind}", $name), |b| {
                b.iter(|| {
                    let response: Result<ServiceResponse<_>, _> =
                        system.block_on(app.call(request(kind).to_request()));
                    std::hint::black_box(response.map(|r| r.status()))
                })
            });
        }
        group.finish();
    }};
}

fn middleware(c: &mut Criterion) {
    bench_middleware!(c, "polycors-actix", polycors_cors());
    bench_middleware!(c, "actix-cors", actix_cors());
}

criterion_group!(benches, middleware);
criterion_main!(benches);
