//! The core's own cost: `Policy::evaluate` plus writing the response headers to a sink that
//! only touches the bytes, for the cases every overhead benchmark shares (`shared/cases.rs`).
//! Run: `cargo bench -p polycors --bench evaluate` (or `cargo xtask bench --quick`). With
//! `POLYCORS_COUNT="<case> polycors <requests>"` in the environment, the binary only runs that
//! many evaluations, for instruction counts under callgrind (`cargo xtask bench
//! --instructions`).

#[path = "shared/cases.rs"]
mod cases;

use std::hint::black_box;

use cases::{CASES, Case};
use criterion::{Criterion, criterion_group};
use polycors::adapter::{FieldValue, HeaderField, ResponseHeaders};
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
    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let name = field.name();
        self.written += name.len() + value.resolve(self.policy, self.origin).len();
    }
}

fn run(policy: &Policy, case: &Case) -> usize {
    let mut view = RequestView::new(case.method.as_bytes());
    view.set_authority(black_box(cases::HOST.as_bytes()));
    if let Some(origin) = case.origin {
        view.add_origin(black_box(origin.as_bytes()));
    }
    if let Some((method, headers)) = case.preflight {
        view.add_request_method(black_box(method.as_bytes()))
            .add_request_headers(black_box(headers.as_bytes()));
    }
    let decision = policy.evaluate(&view);
    let mut sink = Sink {
        // A forwarded response as the trivial handler returns it.
        upstream: &[(b"content-type", b"text/plain")],
        policy,
        origin: decision.origin(),
        written: 0,
    };
    let status = decision.local_answer().map_or(0, |l| l.status.code());
    decision.write_headers(&mut sink);
    sink.written + usize::from(status)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("core");
    for case in &CASES {
        let policy = cases::policy(case);
        group.bench_function(case.name, |b| b.iter(|| black_box(run(&policy, case))));
    }
    group.finish();
}

criterion_group!(benches, bench);

fn main() {
    if let Some((case, _, requests)) = cases::count_request() {
        let policy = cases::policy(case);
        for _ in 0..requests {
            black_box(run(&policy, case));
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
