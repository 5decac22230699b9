//! A counting global allocator proves that evaluating allowed requests with the header values
//! browsers send allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use polycors::{Decision, Policy, RequestView};

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

#[test]
fn counter_sees_allocations() {
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);
}

#[test]
fn allowed_actual_request_evaluates_without_allocating() {
    let policy = policy();
    let count = allocations_during(|| {
        let mut view = RequestView::new(b"POST");
        view.set_scheme(b"https")
            .set_authority(b"api.example.com")
            .add_origin(b"https://app.example.com");
        let decision = policy.evaluate(&view);
        assert!(matches!(decision, Decision::Actual(_)));
        let decision = {
            let mut view = RequestView::new(b"GET");
            view.add_origin(b"https://x.example.org:8443");
            policy.evaluate(&view).kind()
        };
        assert_eq!(decision, "actual");
    });
    assert_eq!(count, 0);
}

#[test]
fn allowed_preflight_evaluates_without_allocating() {
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
            let decision = p.evaluate(&view);
            assert!(matches!(decision, Decision::Preflight(_)));
            assert_eq!(decision.local_response().unwrap().status, 200);
        }
    });
    assert_eq!(count, 0);
}
