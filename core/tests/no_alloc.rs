//! A counting global allocator proves that deciding and writing the headers allocates nothing
//! for requests whose header values are in the form browsers send: allowed, rejected and
//! non-CORS requests, preflights and actual requests, `Vary` merged into a response that
//! already has one, and `_rules_` selection.

#[path = "../benches/shared/cases.rs"]
mod cases;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use polycors::adapter::{FieldValue, HeaderField, ResponseHeaders};
use polycors::{Decision, Policy, RequestView, RouteInfo, Scope, ScopedPolicies, Verdict};

struct Counting;

thread_local! {
    /// Allocations made by this thread (the test harness allocates on others).
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: delegates to the system allocator and only counts.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// A response that already has headers (`Vary: Accept-Encoding` among them), written to
/// without allocating: the bytes written are only summed.
struct ByteSink<'a> {
    existing: [(&'static [u8], &'static [u8]); 3],
    removed: [bool; 3],
    policy: &'a Policy,
    origin: &'a [u8],
    written: usize,
    names: usize,
}

impl<'a> ByteSink<'a> {
    fn new(policy: &'a Policy, origin: &'a [u8]) -> Self {
        Self {
            existing: [
                (b"content-type", b"application/json"),
                (b"vary", b"Accept-Encoding"),
                (b"access-control-allow-origin", b"*"),
            ],
            removed: [false; 3],
            policy,
            origin,
            written: 0,
            names: 0,
        }
    }
}

impl ResponseHeaders for ByteSink<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for ((name, value), removed) in self.existing.iter().zip(self.removed) {
            if !removed {
                f(name, value);
            }
        }
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        for ((name, _), removed) in self.existing.iter().zip(&mut self.removed) {
            *removed |= matches(name);
        }
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let name = field.name();
        self.names += 1;
        self.written += name.len() + value.resolve(self.policy, self.origin).len();
    }
}

fn policy() -> Policy {
    let mut origins: Vec<String> = (0..100)
        .map(|i| format!("https://app{i}.example.com"))
        .collect();
    origins.push("https://app.example.com".into());
    Policy::builder()
        .allow_origins(origins)
        .allow_origin_patterns(["https://*.example.org:[*]"])
        .allow_methods(["GET", "POST", "PUT"])
        .allow_headers(["Content-Type", "X-Token", "X-Trace"])
        .expose_headers(["X-Request-Id"])
        .allow_credentials(true)
        .build()
        .unwrap()
}

/// Decides and writes the headers; returns the verdict and how many headers were set.
fn decide_and_write(policy: &Policy, view: &RequestView<'_>) -> (Verdict, usize) {
    let decision: Decision<'_> = policy.evaluate(view);
    if let Some(answer) = decision.local_answer() {
        assert!(!answer.body.is_empty() || answer.status.code() == 200);
    }
    let mut sink = ByteSink::new(policy, decision.origin());
    match decision.forwarded() {
        Some(forwarded) => forwarded.write_headers(&mut sink),
        None => decision.write_headers(&mut sink),
    }
    assert!(sink.written > 0);
    (decision.verdict(), sink.names)
}

#[test]
fn counter_sees_allocations() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);
}

#[test]
fn allowed_actual_requests_decide_and_write_without_allocating() {
    let policy = policy();
    let count = allocations_during(|| {
        let mut view = RequestView::new(b"POST");
        view.set_scheme(b"https")
            .set_authority(b"api.example.com")
            .add_origin(b"https://app.example.com");
        let (verdict, names) = decide_and_write(&policy, &view);
        assert_eq!((verdict, names), (Verdict::Actual, 5));
        let mut view = RequestView::new(b"GET");
        view.add_origin(b"https://x.example.org:8443");
        assert_eq!(decide_and_write(&policy, &view).0, Verdict::Actual);
    });
    assert_eq!(count, 0);
}

#[test]
fn allowed_preflights_decide_and_write_without_allocating() {
    let policy = policy();
    let wildcard_headers = Policy::builder()
        .allow_origins(["https://app.example.com"])
        .allow_headers(["*"])
        .allow_methods(["*"])
        .build()
        .unwrap();
    let count = allocations_during(|| {
        for p in [&policy, &wildcard_headers] {
            let mut view = RequestView::new(b"OPTIONS");
            view.set_scheme(b"https")
                .set_authority(b"api.example.com")
                .add_origin(b"https://app.example.com")
                .add_request_method(b"PUT")
                .add_request_headers(b"content-type,x-token,x-trace");
            assert_eq!(decide_and_write(p, &view).0, Verdict::Preflight);
        }
    });
    assert_eq!(count, 0);
}

#[test]
fn rejections_and_non_cors_requests_decide_and_write_without_allocating() {
    let policy = policy();
    let count = allocations_during(|| {
        let mut view = RequestView::new(b"GET");
        view.add_origin(b"https://evil.example.net");
        assert!(matches!(
            decide_and_write(&policy, &view).0,
            Verdict::Reject(_)
        ));
        let mut view = RequestView::new(b"OPTIONS");
        view.add_origin(b"https://app.example.com")
            .add_request_method(b"DELETE");
        assert!(matches!(
            decide_and_write(&policy, &view).0,
            Verdict::Reject(_)
        ));
        let mut view = RequestView::new(b"OPTIONS");
        view.add_origin(b"https://app.example.com")
            .add_request_method(b"GET")
            .add_request_headers(b"x-not-allowed");
        assert!(matches!(
            decide_and_write(&policy, &view).0,
            Verdict::Reject(_)
        ));
        let view = RequestView::new(b"GET");
        assert_eq!(decide_and_write(&policy, &view).0, Verdict::NotCors);
    });
    assert_eq!(count, 0);
}

#[test]
fn every_benchmark_case_decides_and_writes_without_allocating() {
    let forward = Policy::builder()
        .allow_origins(cases::ORIGINS)
        .forward_disallowed_requests(true)
        .build()
        .unwrap();
    let policies: Vec<(Policy, Option<&cases::Case>)> = cases::CASES
        .iter()
        .map(|case| (cases::policy(case), Some(case)))
        .chain([(forward, None)])
        .collect();
    let rejected = &cases::CASES[2];
    let mut verdicts = Vec::with_capacity(policies.len());
    let count = allocations_during(|| {
        for (policy, case) in &policies {
            let case = case.unwrap_or(rejected);
            let mut view = RequestView::new(case.method.as_bytes());
            view.set_authority(cases::HOST.as_bytes());
            if let Some(origin) = case.origin {
                view.add_origin(origin.as_bytes());
            }
            if let Some((method, headers)) = case.preflight {
                view.add_request_method(method.as_bytes())
                    .add_request_headers(headers.as_bytes());
            }
            // The sink's response has a `Vary` to merge into and an `access-control-*` to strip.
            verdicts.push(decide_and_write(policy, &view).0);
        }
    });
    assert_eq!(count, 0);
    assert!(matches!(
        verdicts[..],
        [
            Verdict::Actual,
            Verdict::Preflight,
            Verdict::Reject(_),
            Verdict::NotCors,
            Verdict::Actual,
            Verdict::Disallowed(_)
        ]
    ));
}

#[test]
fn rule_selection_does_not_allocate() {
    let scoped = ScopedPolicies::from_json(
        br#"{"_rules_": [
            {"_match_route_": ["a"], "allow_origins": ["https://a.test"]},
            {"_match_domain_": ["*.example.com"], "allow_origins": ["https://d.test"]},
            {"_match_service_": ["svc.ns.svc.cluster.local:8080"], "allow_origins": ["https://s.test"]}
        ]}"#,
    )
    .unwrap();
    let count = allocations_during(|| {
        let route = RouteInfo {
            route_name: Some(b"other"),
            authority: Some(b"API.Example.com:8443"),
            cluster_name: Some(b"outbound|8080||svc.ns.svc.cluster.local"),
        };
        let (scope, _) = scoped.select_scoped(&route).expect("a rule matches");
        assert_eq!(scope, Scope::Rule(1));
        let route = RouteInfo {
            route_name: Some(b"other"),
            authority: Some(b"x.test"),
            cluster_name: Some(b"outbound|8080||svc.ns.svc.cluster.local"),
        };
        assert!(scoped.select(&route).is_some());
    });
    assert_eq!(count, 0);
}
