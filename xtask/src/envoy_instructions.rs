//! `cargo xtask bench --envoy --instructions`: what CORS costs inside a real Envoy, in
//! instructions per request under callgrind, which do not move with the load of this shared
//! machine the way CPU times do.
//!
//! Each variant of the Envoy benchmark that runs native code (`bare`, `native`, `module-noop`,
//! `module-floor`, `module`, and `--extra NAME=FILE.so` builds) runs in its own Envoy (one
//! worker) under `valgrind --tool=callgrind`. For each request kind, over one keep-alive
//! connection: warm-up requests, then two windows of requests, each opened by zeroing
//! callgrind's counters (`callgrind_control -z`) and closed by reading them (`-e`). The
//! difference between the long and the short window in the worker thread (the thread that grew
//! most), per request, is Envoy's cost per request without what a window itself costs and
//! without the main thread's timers, which fire by the clock; a variant's overhead is that minus
//! `bare`'s. The proxy-wasm variants are left out: V8's generated code under
//! valgrind measures valgrind more than V8.
//!
//! Instructions are not time: a cache miss counts as one instruction. The CPU-time benchmark
//! (`cargo xtask bench --envoy --concurrent`) measures time; this one says, reproducibly,
//! how much work each filter does.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use polycors_envoy_runner::Options;

use crate::envoy_bench::{
    Connection, KINDS, browser_request, build_modules, check_answers, start_variant,
};
use crate::{callgrind, deps};

/// The variants whose code is native (the proxy-wasm ones are left out, see above).
const VARIANTS: [&str; 5] = ["bare", "native", "module-noop", "module-floor", "module"];
/// Requests before measuring: connection set up, first-use allocations.
const WARM_UP: usize = 200;
/// The two measured windows, in requests.
const WINDOWS: (usize, usize) = (200, 1200);

/// Instructions per request of `kind` in the Envoy `pid`, listening on `address`.
fn per_request(pid: u32, address: SocketAddr, kind: &str) -> Result<f64, String> {
    let request = browser_request(kind, "keep-alive");
    let mut connection = Connection::open(address)?;
    for _ in 0..WARM_UP {
        connection.exchange(&request)?;
    }
    let mut window = |requests: usize| -> Result<BTreeMap<u32, u64>, String> {
        callgrind::control(pid, &["-z"])?;
        for _ in 0..requests {
            connection.exchange(&request)?;
        }
        callgrind::counted(pid)
    };
    let short = window(WINDOWS.0)?;
    let long = window(WINDOWS.1)?;
    // The worker, which serves every request, is the thread that grew most; the main thread's
    // timers (stats flushes) run on wall-clock time, which load stretches, so they stay out.
    let grown = |thread: &u32| long[thread].saturating_sub(short.get(thread).copied().unwrap_or(0));
    let worker = long
        .keys()
        .max_by_key(|thread| grown(thread))
        .ok_or("callgrind counted no thread")?;
    Ok(grown(worker) as f64 / (WINDOWS.1 - WINDOWS.0) as f64)
}

/// Starts `variant`'s Envoy under callgrind and measures every kind of request through it.
fn measure(variant: &str, extra: &[(String, PathBuf)]) -> Result<BTreeMap<String, f64>, String> {
    let options = Options {
        start_timeout: Duration::from_secs(600),
        wrapper: vec![
            callgrind::valgrind().into(),
            "--tool=callgrind".into(),
            "--callgrind-out-file=/dev/null".into(),
        ],
        ..Options::default()
    };
    let (envoy, address) =
        start_variant(variant, extra, &options).map_err(|e| format!("under callgrind: {e}"))?;
    let pid = envoy.pid();
    let mut counts = BTreeMap::new();
    for kind in KINDS {
        let count = per_request(pid, address, kind).map_err(|e| format!("{variant}: {e}"))?;
        eprintln!("{variant} {kind}: {count:.0} instructions per request");
        counts.insert(kind.to_owned(), count);
    }
    envoy.stop();
    Ok(counts)
}

pub fn run(extra: &[(String, PathBuf)]) -> Result<(), String> {
    deps::envoy()?;
    deps::debian(
        &[("valgrind", "/usr/bin/valgrind")],
        "`cargo xtask bench --envoy --instructions`",
    )?;
    build_modules()?;
    if let Some((name, file)) = extra
        .iter()
        .find(|(_, file)| file.extension().is_none_or(|e| e != "so"))
    {
        return Err(format!(
            "--extra {name}={}: only dynamic modules (.so) are measured in instructions",
            file.display()
        ));
    }
    let variants: Vec<String> = VARIANTS
        .iter()
        .map(|v| (*v).to_owned())
        .chain(extra.iter().map(|(name, _)| name.clone()))
        .collect();

    // Every variant must do its job before it is measured (checked without valgrind).
    let mut envoys = BTreeMap::new();
    for variant in variants.iter().filter(|v| VARIANTS.contains(&v.as_str())) {
        let started = start_variant(variant, extra, &Options::default())?;
        envoys.insert(variant.clone(), started);
    }
    check_answers(&envoys)?;
    for (envoy, _) in envoys.into_values() {
        envoy.stop();
    }

    // Two Envoys at a time: valgrind runs each on one CPU.
    let mut counts: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for pair in variants.chunks(2) {
        let measured: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = pair
                .iter()
                .map(|variant| scope.spawn(move || (variant.clone(), measure(variant, extra))))
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        for (variant, result) in measured {
            counts.insert(variant, result?);
        }
    }

    println!(
        "Envoy {}, one worker, under callgrind; instructions per request over bare Envoy \
         (the worker thread; windows of {} and {} requests after {WARM_UP})",
        polycors_artifacts::ENVOY_VERSION,
        WINDOWS.0,
        WINDOWS.1
    );
    let others: Vec<&String> = variants.iter().filter(|v| *v != "bare").collect();
    let header: Vec<&str> = others.iter().map(|v| v.as_str()).collect();
    println!(
        "| request | bare | {} | module/native | module-floor/native |",
        header.join(" | ")
    );
    println!("|---|---|{}---|---|", "---|".repeat(others.len()));
    let mut lines = Vec::new();
    for kind in KINDS {
        let bare = counts["bare"][kind];
        let overhead = |v: &str| counts[v][kind] - bare;
        let cells: Vec<String> = others
            .iter()
            .map(|v| format!("{:.0}", overhead(v)))
            .collect();
        println!(
            "| {kind} | {bare:.0} | {} | {:.2} | {:.2} |",
            cells.join(" | "),
            overhead("module") / overhead("native"),
            overhead("module-floor") / overhead("native"),
        );
        lines.push(format!("envoy-instructions {kind} bare {bare:.0}"));
        for v in &others {
            lines.push(format!("envoy-instructions {kind} {v} {:.0}", overhead(v)));
        }
        for v in others.iter().filter(|v| v.as_str() != "native") {
            lines.push(format!(
                "envoy-instructions-ratio {kind} {v}/native {:.3}",
                overhead(v) / overhead("native")
            ));
        }
    }
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
