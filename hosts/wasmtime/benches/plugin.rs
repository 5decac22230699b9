//! Per-request time of the polycors proxy-wasm plugin inside this host (wasmtime, cranelift),
//! on the seed's configuration: an allowed actual request (forwarded, response fixed up), an
//! allowed preflight and a rejected origin (local replies passed through the response hook).
//!
//! `cargo xtask bench` (builds the plugin first), or `cargo bench -p polycors-wasm-host`.

use criterion::{Criterion, criterion_group, criterion_main};
use polycors_wasm_host::{HttpRequest, HttpResponse, Plugin};

fn request(kind: &str) -> HttpRequest {
    let request = HttpRequest::new(
        if kind == "actual" { "GET" } else { "OPTIONS" },
        "http",
        "httpbin.example.com",
        "/anything/get?foo=1",
    )
    .header("user-agent", "curl/8.0")
    .header("accept", "*/*");
    match kind {
        "actual" => request.header("origin", "http://httpbin2.example.org:9090"),
        "preflight" => request
            .header("origin", "http://httpbin2.example.org:9090")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,token"),
        _ => request
            .header("origin", "http://evil.example")
            .header("access-control-request-method", "GET"),
    }
}

fn plugin(c: &mut Criterion) {
    let plugin = Plugin::load(&polycors_artifacts::plugin_wasm()).unwrap_or_else(|e| panic!("{e}"));
    let mut instance = plugin
        .instantiate(polycors_artifacts::SEED_CONFIG.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let upstream = || {
        HttpResponse::new(200)
            .header("content-type", "application/json")
            .header("content-length", "2")
            .body(&b"{}"[..])
    };
    let mut group = c.benchmark_group("proxy-wasm");
    for kind in ["actual", "preflight", "rejected"] {
        let request = request(kind);
        group.bench_function(kind, |b| {
            b.iter(|| {
                let exchange = instance
                    .http_request(&request, |_| upstream())
                    .expect("no trap");
                std::hint::black_box(exchange.response.status)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, plugin);
criterion_main!(benches);
