//! `cargo xtask`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! One module per command family: [`deps`] installs what a fresh machine lacks, [`artifacts`]
//! builds and packages the plugins, [`mod@bench`] and [`envoy_bench`] measure, [`load`] and
//! [`fuzz`] stress, [`ci`] is what `.ci/run` runs.

#![forbid(unsafe_code)]

mod artifacts;
mod bench;
mod callgrind;
mod ci;
mod deps;
mod envoy_bench;
mod envoy_instructions;
mod fuzz;
mod load;
mod process;

use std::process::ExitCode;

use crate::process::{cargo, execute};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

  build          build every crate, the release proxy-wasm plugin and the no-op plugin (wasm32-wasip1)
  test [ARGS]    install what is missing (wasm target, Chromium, Envoy), build the plugins, then run
                 every test (ARGS go to `cargo test`)
  serve [ARGS]   run the local CORS server (`cargo xtask serve --help`)
  bench [ARGS]   the criterion benchmarks (ARGS go to criterion), then the middleware overheads
  bench --quick  core and middleware-overhead benchmarks only, short (under 3 minutes once built);
                 prints `overhead <framework> <case> <implementation> <ns>` and `overhead-ratio` lines
  bench --instructions
                 the core's and the same stacks' instructions per request under callgrind
                 (deterministic): `instructions core <case> <n>`, then the overheads
  bench --cache  the same stacks under callgrind's cache and branch simulation: per request over no
                 layer, `cache <framework> <case> <implementation> <event> <n>` for instructions,
                 L1i misses and conditional and indirect branch mispredicts
  bench --envoy [--seconds N] [--rounds N] [--concurrent]
                 the CORS cost inside a real Envoy: bare, native cors filter, no-op plugin, polycors
  bench --envoy --instructions
                 the native variants' instructions per request inside Envoy, under callgrind
  dist           put the release plugin, its sha256 and its OCI image (layout and .tar) in target/dist/
  e2e            the headless-browser end-to-end tests only (writes docs/browser-compat.md)
  fuzz [--seconds N]  run each cargo-fuzz target for N seconds (default 60; needs nightly)
  load [--seconds N]  load every adapter's `serve` with wrk (default 10 s per run), with and
                 without the policy; prints requests/s, p99, errors and resident memory
  load --instructions
                 the tower and actix servers' instructions per forwarded request with and without
                 the policy, under callgrind (deterministic), and where the difference goes
  deps           install every tool the commands above need (what `.ci/run` does first)
  ci             what CI runs on a clean clone: deps, fmt, clippy, doc, test, a short fuzz pass";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "build" => artifacts::build(),
        "test" => test(rest),
        "serve" => serve(rest),
        "bench" if rest.first().is_some_and(|a| a == "--envoy") => envoy_bench::run(&rest[1..]),
        "bench" if rest.first().is_some_and(|a| a == "--instructions") => bench::instructions(),
        "bench" if rest.first().is_some_and(|a| a == "--cache") => bench::cache(),
        "bench" => bench::run(rest),
        "dist" => artifacts::dist(),
        "e2e" => e2e(),
        "fuzz" => fuzz::run(rest),
        "load" if rest.first().is_some_and(|a| a == "--instructions") => load::instructions(),
        "load" => load::run(rest),
        "deps" => deps::all(),
        "ci" => ci::run(),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The README's test command: everything, the real-browser and real-Envoy tests included.
fn test(args: &[String]) -> Result<(), String> {
    deps::for_tests()?;
    artifacts::build_plugins()?;
    artifacts::build_panicking_module()?;
    execute(cargo().args(["test", "--workspace"]).args(args))
}

fn e2e() -> Result<(), String> {
    deps::for_tests()?;
    artifacts::build_plugins()?;
    execute(cargo().args(["test", "--package", "polycors-cli", "--test", "browser"]))
}

fn serve(args: &[String]) -> Result<(), String> {
    let adapter = args
        .windows(2)
        .find(|w| w[0] == "--adapter")
        .map(|w| w[1].as_str())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--adapter=")));
    let needs_plugin = matches!(
        adapter,
        Some("proxy-wasm" | "wasm" | "envoy" | "envoy-module")
    );
    if needs_plugin && !args.iter().any(|a| a.starts_with("--wasm")) {
        artifacts::build_plugins()?;
    }
    if matches!(adapter, Some("envoy" | "envoy-module")) {
        deps::envoy()?;
    }
    execute(
        cargo()
            .args(["run", "--quiet", "--package", "polycors-cli", "--", "serve"])
            .args(args),
    )
}
