//! What a CORS layer adds to a tower stack: the same requests through no layer, tower-http's
//! `CorsLayer` (the peer) and polycors-tower, to a trivial handler. Under criterion the
//! request is built in the untimed setup and the response dropped untimed; the interleaved
//! measurement times each request built, handled and dropped in turn. Overhead = time with a
//! layer minus time without. `cargo xtask bench --quick` prints the overheads and ratios.
//!
//! `cargo bench -p polycors-tower --bench overhead`; with `POLYCORS_COUNT="<case>
//! <implementation> <requests>"` in the environment, the binary only sends that many requests
//! through one stack (request built and response dropped included), for instruction counts
//! under callgrind (`cargo xtask bench --instructions`).

#[path = "../../../core/benches/shared/cases.rs"]
mod cases;

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use cases::{CASES, Case};
use criterion::{BatchSize, Criterion, criterion_group};
use http::{HeaderName, HeaderValue, Method, Request, Response, Uri, header};
use http_body_util::Full;
use tower::{Layer, Service};
use tower_http::cors::AllowOrigin;

type Reply = std::future::Ready<Result<Response<Full<Bytes>>, Infallible>>;
type Handler = tower::util::ServiceFn<fn(Request<Full<Bytes>>) -> Reply>;

/// The trivial handler: a small text response.
fn handler(_request: Request<Full<Bytes>>) -> Reply {
    std::future::ready(Ok(Response::builder()
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(b"ok")))
        .expect("valid response")))
}

/// The request of `case`, as a server hands it on: its header values share the bytes it read
/// (a clone counts a reference) rather than copy them, and its map is made large enough at
/// once. Its own allocations are then the same few in every stack, whatever the allocator's
/// state.
fn request(case: &Case) -> Request<Full<Bytes>> {
    let mut request = Request::new(Full::new(Bytes::new()));
    *request.method_mut() = Method::from_bytes(case.method.as_bytes()).expect("a method");
    *request.uri_mut() = Uri::from_static("/items/1");
    let headers = request.headers_mut();
    headers.reserve(16);
    for (name, value) in cases::received_headers(case) {
        let value = HeaderValue::from_maybe_shared(value);
        headers.append(
            HeaderName::from_static(name),
            value.expect("a header value"),
        );
    }
    request
}

/// tower-http's layer, configured as `cases::policy(case)`.
fn peer(case: &Case) -> tower_http::cors::CorsLayer {
    let origins = if case.big {
        let exact: HashSet<HeaderValue> = cases::big_origins()
            .iter()
            .map(|o| HeaderValue::from_str(o).expect("a header value"))
            .collect();
        let suffixes = cases::big_suffixes();
        AllowOrigin::predicate(move |origin, _| {
            exact.contains(origin) || cases::matches_suffix_pattern(origin.as_bytes(), &suffixes)
        })
    } else {
        AllowOrigin::list(cases::ORIGINS.map(HeaderValue::from_static))
    };
    tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(cases::METHODS.map(|m| Method::from_bytes(m.as_bytes()).expect("a method")))
        .allow_headers(cases::HEADERS.map(HeaderName::from_static))
        .expose_headers([HeaderName::from_static(cases::EXPOSE)])
        .allow_credentials(true)
        .max_age(Duration::from_secs(cases::MAX_AGE))
}

/// Calls `service` and takes the response: every future here is ready at once.
fn call<S>(service: &mut S, request: Request<Full<Bytes>>) -> S::Response
where
    S: Service<Request<Full<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    let mut context = Context::from_waker(Waker::noop());
    let future = pin!(service.call(request));
    match future.poll(&mut context) {
        Poll::Ready(response) => response.expect("infallible"),
        Poll::Pending => panic!("the stack answers without waiting"),
    }
}

fn measure<S>(c: &mut Criterion, case: &Case, implementation: &str, mut service: S)
where
    S: Service<Request<Full<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    let mut group = c.benchmark_group(format!("overhead-tower-{}", case.name));
    group.bench_function(implementation, |b| {
        b.iter_batched(
            || request(case),
            |request| call(&mut service, request),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn handler_service() -> Handler {
    tower::service_fn(handler as fn(_) -> Reply)
}

fn overhead(c: &mut Criterion) {
    for case in &CASES {
        measure(c, case, "none", handler_service());
        measure(c, case, "peer", peer(case).layer(handler_service()));
        let layer = polycors_tower::CorsLayer::new(cases::policy(case));
        measure(c, case, "polycors", layer.layer(handler_service()));
    }
}

/// Sends `requests` requests of `case` through `service`.
fn send<S>(mut service: S, case: &Case, requests: usize)
where
    S: Service<Request<Full<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    for _ in 0..requests {
        std::hint::black_box(call(&mut service, request(case)));
    }
}

/// A timer for [`cases::print_overheads`]: `n` requests of `case` through `service`.
fn timer<S>(mut service: S, case: &Case) -> impl FnMut(usize) -> Duration
where
    S: Service<Request<Full<Bytes>>>,
    S::Error: std::fmt::Debug,
{
    move |n| {
        let start = Instant::now();
        for _ in 0..n {
            // Built just before it is handled, as a server builds it from the bytes it has
            // just read (the same work in every stack: it cancels out of the overhead).
            let request = request(case);
            // Dropped as a server drops it once written: its memory is reused by the next.
            drop(std::hint::black_box(call(&mut service, request)));
        }
        start.elapsed()
    }
}

fn main() {
    if let Some(rounds) = cases::overhead_rounds() {
        for case in &CASES {
            let layer = polycors_tower::CorsLayer::new(cases::policy(case));
            cases::print_overheads(
                "tower",
                case,
                rounds,
                [
                    &mut timer(handler_service(), case),
                    &mut timer(peer(case).layer(handler_service()), case),
                    &mut timer(layer.layer(handler_service()), case),
                ],
            );
        }
        return;
    }
    if let Some((case, implementation, requests)) = cases::count_request() {
        match implementation {
            "none" => send(handler_service(), case, requests),
            "peer" => send(peer(case).layer(handler_service()), case, requests),
            _ => {
                let layer = polycors_tower::CorsLayer::new(cases::policy(case));
                send(layer.layer(handler_service()), case, requests);
            }
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}

criterion_group!(benches, overhead);
