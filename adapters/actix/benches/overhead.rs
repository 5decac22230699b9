//! What CORS middleware adds to an actix-web app: the same requests through no middleware,
//! actix-cors's `Cors` (the peer) and polycors-actix, to a trivial handler. Under criterion
//! the request is built in the untimed setup and the response dropped untimed; the
//! interleaved measurement times each request built, handled and dropped in turn. Overhead =
//! time with the middleware minus time without. `cargo xtask bench --quick` prints the overheads and
//! ratios.
//!
//! `cargo bench -p polycors-actix --bench overhead`; with `POLYCORS_COUNT="<case>
//! <implementation> <requests>"` in the environment, the binary only sends that many requests
//! through one app (request built and response dropped included), for instruction counts under
//! callgrind (`cargo xtask bench --instructions`).

#[path = "../../../core/benches/shared/cases.rs"]
mod cases;

use std::collections::HashSet;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{App, Error, HttpResponse, test, web};
use cases::{CASES, Case};
use criterion::{BatchSize, Criterion, criterion_group};

/// The request of `case`, as a server hands it on: its header values share the bytes it read
/// (a clone counts a reference) rather than copy them.
fn request(case: &Case) -> Request {
    let mut builder =
        test::TestRequest::with_uri("/items/1").method(case.method.parse().expect("a method"));
    for (name, value) in cases::received_headers(case) {
        let value = HeaderValue::from_maybe_shared(value);
        builder = builder.append_header((
            HeaderName::from_static(name),
            value.expect("a header value"),
        ));
    }
    builder.to_request()
}

/// actix-cors, configured as `cases::policy(case)`.
fn peer(case: &Case) -> actix_cors::Cors {
    let cors = if case.big {
        let exact: HashSet<String> = cases::big_origins().into_iter().collect();
        let suffixes = cases::big_suffixes();
        // actix-cors consults the function for origins not in its list: the same split.
        exact
            .iter()
            .fold(actix_cors::Cors::default(), |cors, origin| {
                cors.allowed_origin(origin)
            })
            .allowed_origin_fn(move |origin, _| {
                cases::matches_suffix_pattern(origin.as_bytes(), &suffixes)
            })
    } else {
        cases::ORIGINS
            .iter()
            .fold(actix_cors::Cors::default(), |cors, origin| {
                cors.allowed_origin(origin)
            })
    };
    cors.allowed_methods(cases::METHODS)
        .allowed_headers(cases::HEADERS)
        .expose_headers([cases::EXPOSE])
        .supports_credentials()
        .max_age(usize::try_from(cases::MAX_AGE).expect("small"))
}

/// Calls `app` and takes the response: every future here is ready at once.
fn call<S, B>(app: &S, request: Request) -> ServiceResponse<B>
where
    S: Service<Request, Response = ServiceResponse<B>, Error = Error>,
{
    let mut context = Context::from_waker(Waker::noop());
    let future = pin!(app.call(request));
    match future.poll(&mut context) {
        Poll::Ready(response) => response.expect("a response"),
        Poll::Pending => panic!("the app answers without waiting"),
    }
}

fn measure<S, B>(c: &mut Criterion, case: &Case, implementation: &str, app: S)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let mut group = c.benchmark_group(format!("overhead-actix-{}", case.name));
    group.bench_function(implementation, |b| {
        b.iter_batched(
            || request(case),
            |request| call(&app, request),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn ok() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Builds the app of `implementation` for `case` and hands it to `with`.
macro_rules! with_app {
    ($system:expr, $case:expr, $implementation:expr, |$app:ident| $with:expr) => {{
        let handler = || web::to(|| async { ok() });
        match $implementation {
            "none" => {
                let $app =
                    $system.block_on(test::init_service(App::new().default_service(handler())));
                $with
            }
            "peer" => {
                let $app = $system.block_on(test::init_service(
                    App::new().wrap(peer($case)).default_service(handler()),
                ));
                $with
            }
            _ => {
                let cors = polycors_actix::Cors::new(cases::policy($case));
                let $app = $system.block_on(test::init_service(
                    App::new().wrap(cors).default_service(handler()),
                ));
                $with
            }
        }
    }};
}

fn overhead(c: &mut Criterion) {
    let system = actix_web::rt::System::new();
    for case in &CASES {
        for implementation in ["none", "peer", "polycors"] {
            with_app!(system, case, implementation, |app| measure(
                c,
                case,
                implementation,
                app
            ));
        }
    }
}

/// A timer for [`cases::print_overheads`]: `n` requests of `case` through `app`.
fn timer<S, B>(app: S, case: &Case) -> impl FnMut(usize) -> Duration
where
    S: Service<Request, Response = ServiceResponse<B>, Error = Error>,
{
    move |n| {
        let start = Instant::now();
        for _ in 0..n {
            // Built just before it is handled, as a server builds it from the bytes it has
            // just read (the same work in every stack: it cancels out of the overhead).
            let request = request(case);
            // Dropped as a server drops it once written: its memory is reused by the next.
            drop(std::hint::black_box(call(&app, request)));
        }
        start.elapsed()
    }
}

fn main() {
    if let Some(rounds) = cases::overhead_rounds() {
        let system = actix_web::rt::System::new();
        for case in &CASES {
            let handler = || web::to(|| async { ok() });
            let none = system.block_on(test::init_service(App::new().default_service(handler())));
            let peer = system.block_on(test::init_service(
                App::new().wrap(peer(case)).default_service(handler()),
            ));
            let polycors = system.block_on(test::init_service(
                App::new()
                    .wrap(polycors_actix::Cors::new(cases::policy(case)))
                    .default_service(handler()),
            ));
            cases::print_overheads(
                "actix",
                case,
                rounds,
                [
                    &mut timer(none, case),
                    &mut timer(peer, case),
                    &mut timer(polycors, case),
                ],
            );
        }
        return;
    }
    if let Some((case, implementation, requests)) = cases::count_request() {
        let system = actix_web::rt::System::new();
        with_app!(system, case, implementation, |app| {
            for _ in 0..requests {
                std::hint::black_box(call(&app, request(case)));
            }
        });
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

criterion_group!(benches, overhead);
