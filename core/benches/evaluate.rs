//! `Policy::evaluate` plus writing the response headers, for the request shapes that matter.
//! Run: `cargo bench -p polycors --bench evaluate`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use polycors::adapter::{FieldValue, ResponseHeaders};
use polycors::{Policy, RequestView};

/// A response sink that only touches the bytes, so the figures are the core's own cost.
struct Sink<'a> {
    upstream: &'static [(&'static [u8], &'static [u8])],
    policy: &'a Policy,
    origin: &'a [u8],
    written: usize,
}

impl ResponseHeaders for Sink<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (n, v) in self.upstream {
            f(n, v);
        }
    }
    fn remove_matching(&mut self, _matches: fn(&[u8]) -> bool) {}
    fn set(&mut self, name: &'static str, value: FieldValue<'_>) {
        self.written += name.len() + value.resolve(self.policy, self.origin).len();
    }
}

fn run(policy: &Policy, view: &RequestView<'_>) -> usize {
    let decision = policy.evaluate(view);
    let mut sink = Sink {
        upstream: &[(b"content-type", b"application/json")],
        policy,
        origin: decision.origin(),
        written: 0,
    };
    let status = decision.local_answer().map_or(0, |l| l.status.code());
    decision.write_headers(&mut sink);
    sink.written + usize::from(status)
}

fn seed_policy() -> Policy {
    Policy::builder()
        .allow_origins(["http://httpbin.example.net"])
        .allow_origin_patterns([
            "http://*.example.com:[*]",
            "http://*.example.org:[9090,8080]",
        ])
        .allow_methods(["GET", "POST", "PATCH"])
        .allow_headers(["Content-Type", "Token", "Authorization"])
        .expose_headers(["X-Custom-Header", "X-Env-UTM"])
        .allow_credentials(true)
        .max_age(3600)
        .build()
        .unwrap()
}

fn big_policy() -> Policy {
    let origins: Vec<String> = (0..100)
        .map(|i| format!("https://app{i}.example.com"))
        .collect();
    let patterns: Vec<String> = (0..20)
        .map(|i| format!("https://*.tenant{i}.example.org:[*]"))
        .collect();
    Policy::builder()
        .allow_origins(origins)
        .allow_origin_patterns(patterns)
        .allow_credentials(true)
        .build()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let seed = seed_policy();
    let big = big_policy();
    let mut group = c.benchmark_group("evaluate+headers");

    group.bench_function("not_cors", |b| {
        b.iter(|| {
            let mut view = RequestView::new(b"GET");
            view.set_scheme(b"http")
                .set_authority(b"httpbin.example.com");
            black_box(run(&seed, black_box(&view)))
        })
    });
    group.bench_function("actual_allowed", |b| {
        b.iter(|| {
            let mut view = RequestView::new(b"GET");
            view.set_scheme(b"http")
                .set_authority(b"httpbin.example.com")
                .add_origin(black_box(b"http://httpbin.example.net"));
            black_box(run(&seed, &view))
        })
    });
    group.bench_function("preflight_allowed_3_headers", |b| {
        b.iter(|| {
            let mut view = RequestView::new(b"OPTIONS");
            view.set_scheme(b"http")
                .set_authority(b"httpbin.example.com")
                .add_origin(black_box(b"http://httpbin2.example.org:9090"))
                .add_request_method(b"POST")
                .add_request_headers(black_box(b"authorization,content-type,token"));
            black_box(run(&seed, &view))
        })
    });
    group.bench_function("origin_rejected", |b| {
        b.iter(|| {
            let mut view = RequestView::new(b"GET");
            view.set_scheme(b"http")
                .set_authority(b"httpbin.example.com")
                .add_origin(black_box(b"http://evil.example.net"));
            black_box(run(&seed, &view))
        })
    });
    group.bench_function("pattern_among_100_exact_20_patterns", |b| {
        b.iter(|| {
            let mut view = RequestView::new(b"GET");
            view.set_scheme(b"https")
                .set_authority(b"api.example.com")
                .add_origin(black_box(b"https://eu.tenant19.example.org:8443"));
            black_box(run(&big, &view))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
