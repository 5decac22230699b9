//! `cargo xtask`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! ```text
//! cargo xtask build            every crate, plus the release proxy-wasm plugin
//! cargo xtask test [ARGS]      every test, the proxy-wasm conformance included (the README's test command)
//! cargo xtask serve [ARGS]     the main job: a local server enforcing a policy (see --help)
//! cargo xtask bench [ARGS]     the criterion benchmarks
//! cargo xtask dist             the release .wasm and its sha256 in target/dist/
//! cargo xtask e2e              the headless-Chromium end-to-end tests (part of `test`)
//! cargo xtask fuzz --seconds N each cargo-fuzz target for N seconds (nightly)
//! cargo xtask load [--seconds N] wrk against `serve` on every adapter, with and without the policy
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sha2::{Digest, Sha256};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

  build          build every crate and the release proxy-wasm plugin (wasm32-wasip1)
  test [ARGS]    build the plugin, then run every test (ARGS go to `cargo test`)
  serve [ARGS]   run the local CORS server (`cargo xtask serve --help`)
  bench [ARGS]   run the criterion benchmarks (ARGS go to criterion)
  dist           put the release plugin and its sha256 in target/dist/
  e2e            the headless-Chromium end-to-end tests only (writes docs/browser-compat.md)
  fuzz [--seconds N]  run each cargo-fuzz target for N seconds (default 60; needs nightly)
  load [--seconds N]  load every adapter's `serve` with wrk (default 10 s per run), with and
                 without the policy; prints requests/s, p99, errors and resident memory";

const WASM_TARGET: &str = "wasm32-wasip1";
const WASM_PROFILE: &str = "release-wasm";
const PLUGIN_FILE: &str = "polycors_proxy_wasm.wasm";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "build" => build(),
        "test" => test(rest),
        "serve" => serve(rest),
        "bench" => bench(rest),
        "dist" => dist(),
        "e2e" => e2e(),
        "fuzz" => fuzz(rest),
        "load" => load(rest),
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

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The release plugin's path.
fn plugin_path() -> PathBuf {
    target_dir()
        .join(WASM_TARGET)
        .join(WASM_PROFILE)
        .join(PLUGIN_FILE)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs `command`, echoing it; a failure names the command.
fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command
            .get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    eprintln!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Installs the wasm target with rustup if it is missing.
fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(output) if output.status.success() => {
            if String::from_utf8_lossy(&output.stdout)
                .lines()
                .any(|l| l.trim() == WASM_TARGET)
            {
                return Ok(());
            }
            run(Command::new("rustup").args(["target", "add", WASM_TARGET])).map_err(|e| {
                format!(
                    "{e}\nthe proxy-wasm plugin needs the {WASM_TARGET} target: \
                     install it with `rustup target add {WASM_TARGET}`"
                )
            })
        }
        // No rustup: the toolchain may still have the target; the build will say if not.
        _ => Ok(()),
    }
}

/// Builds the release plugin; returns its path.
fn build_plugin() -> Result<PathBuf, String> {
    ensure_wasm_target()?;
    run(cargo().args([
        "build",
        "--package",
        "polycors-proxy-wasm",
        "--target",
        WASM_TARGET,
        "--profile",
        WASM_PROFILE,
    ]))
    .map_err(|e| {
        format!("{e}\nif the {WASM_TARGET} target is missing: `rustup target add {WASM_TARGET}`")
    })?;
    let path = plugin_path();
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    eprintln!("plugin: {} ({size} bytes)", path.display());
    Ok(path)
}

fn build() -> Result<(), String> {
    run(cargo().args(["build", "--workspace", "--all-targets"]))?;
    build_plugin().map(drop)
}

fn test(args: &[String]) -> Result<(), String> {
    build_plugin()?;
    ensure_chromium()?;
    run(cargo().args(["test", "--workspace"]).args(args))
}

fn e2e() -> Result<(), String> {
    build_plugin()?;
    ensure_chromium()?;
    run(cargo().args(["test", "--package", "polycors-serve", "--test", "browser"]))
}

/// wrk's script: an even mix of allowed preflights, allowed actual requests and two kinds of
/// rejection (origin on a preflight, origin on an actual request), counting statuses.
const LOAD_SCRIPT: &str = r#"
local threads = {}
function setup(thread) table.insert(threads, thread) end
local requests = {}
local i = 0
s2xx, s403, sother = 0, 0, 0
function init(args)
  local host, good, bad = "httpbin.example.com", "http://httpbin2.example.org:9090", "http://evil.example"
  if args[1] == "actual" then
    requests[1] = wrk.format("GET", "/anything/get?foo=1", { Host = host, Origin = good })
    return
  end
  requests[1] = wrk.format("OPTIONS", "/anything/get?foo=1", { Host = host, Origin = good,
    ["Access-Control-Request-Method"] = "POST", ["Access-Control-Request-Headers"] = "Content-Type, Token" })
  requests[2] = wrk.format("GET", "/anything/get?foo=1", { Host = host, Origin = good })
  requests[3] = wrk.format("OPTIONS", "/anything/get?foo=1", { Host = host, Origin = bad,
    ["Access-Control-Request-Method"] = "GET" })
  requests[4] = wrk.format("GET", "/anything/get?foo=1", { Host = host, Origin = bad })
end
function request()
  i = i + 1
  return requests[(i % #requests) + 1]
end
function response(status, headers, body)
  if status < 300 then s2xx = s2xx + 1 elseif status == 403 then s403 = s403 + 1 else sother = sother + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do a = a + t:get("s2xx"); b = b + t:get("s403"); c = c + t:get("sother") end
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d ok=%d forbidden=%d other=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99), a, b, c,
    e.connect + e.read + e.write + e.timeout))
end
"#;

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Parses wrk's `RESULT key=value ...` line.
fn wrk_result(output: &str) -> Option<std::collections::BTreeMap<String, f64>> {
    let line = output.lines().find(|l| l.starts_with("RESULT "))?;
    Some(
        line.split_whitespace()
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
            .collect(),
    )
}

/// The `[--seconds N]` argument of `command`, or `default`.
fn seconds_arg(args: &[String], default: u64, command: &str) -> Result<u64, String> {
    match args {
        [] => Ok(default),
        [flag, value] if flag == "--seconds" => value
            .parse()
            .map_err(|_| format!("--seconds {value:?}: expected a whole number")),
        _ => Err(format!("usage: cargo xtask {command} [--seconds N]")),
    }
}

fn load(args: &[String]) -> Result<(), String> {
    let seconds = seconds_arg(args, 10, "load")?;
    if Command::new("wrk").arg("--version").output().is_err() {
        return Err(
            "`cargo xtask load` drives the servers with wrk: `apt-get install -y wrk`".into(),
        );
    }
    build_plugin()?;
    run(cargo().args(["build", "--release", "--package", "polycors-serve"]))?;
    let serve = target_dir().join("release/polycors-serve");
    let script = target_dir().join("load-mix.lua");
    std::fs::write(&script, LOAD_SCRIPT).map_err(|e| format!("{}: {e}", script.display()))?;

    let mut rows = Vec::new();
    for adapter in ["tower", "actix", "proxy-wasm"] {
        let mut runs = Vec::new();
        for policy in [true, false] {
            let mut command = Command::new(&serve);
            command.args(["--listen", "127.0.0.1:0", "--quiet", "--adapter", adapter]);
            if !policy {
                command.arg("--no-policy");
            }
            let mut child = command
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .spawn()
                .map_err(|e| format!("{}: {e}", serve.display()))?;
            let mut first = String::new();
            if let Some(stdout) = child.stdout.take() {
                use std::io::BufRead;
                let _ = std::io::BufReader::new(stdout).read_line(&mut first);
            }
            let Some(address) = first
                .trim()
                .split("listening on ")
                .nth(1)
                .map(str::to_owned)
            else {
                let _ = child.kill();
                return Err(format!("serve --adapter {adapter} did not start: {first}"));
            };
            let wrk = |duration: u64,
                       mix: &str|
             -> Result<std::collections::BTreeMap<String, f64>, String> {
                let output = Command::new("wrk")
                    .args(["-t2", "-c32", &format!("-d{duration}s"), "--latency", "-s"])
                    .arg(&script)
                    .arg(&address)
                    .args(["--", mix])
                    .output()
                    .map_err(|e| format!("wrk: {e}"))?;
                let text = String::from_utf8_lossy(&output.stdout);
                wrk_result(&text).ok_or_else(|| format!("no wrk result:\n{text}"))
            };
            // Warm up; measure the mix, then forwarded requests only, then the mix again: a
            // leak shows as resident memory still rising over the last two runs.
            wrk(2, "mixed")?;
            let mixed = wrk(seconds, "mixed")?;
            let rss_first = rss_kib(child.id());
            let actual = wrk(seconds, "actual")?;
            let mixed_again = wrk(seconds, "mixed")?;
            let rss_last = rss_kib(child.id());
            let _ = child.kill();
            let _ = child.wait();
            runs.push((policy, [mixed, actual, mixed_again], rss_first, rss_last));
        }
        let rate = |r: &std::collections::BTreeMap<String, f64>| {
            r.get("requests").copied().unwrap_or(0.0) / r.get("seconds").copied().unwrap_or(1.0)
        };
        let baseline = runs
            .iter()
            .find(|r| !r.0)
            .map(|r| [rate(&r.1[0]), rate(&r.1[1])])
            .unwrap_or([f64::NAN; 2]);
        for (policy, results, rss_first, rss_last) in &runs {
            for (index, (mix, result)) in [("mixed", &results[0]), ("actual only", &results[1])]
                .into_iter()
                .enumerate()
            {
                let get = |k: &str| result.get(k).copied().unwrap_or(f64::NAN);
                let errors = get("other") + get("socket_errors");
                rows.push(format!(
                    "| {adapter} | {} | {mix} | {:.0} | {:.2} | {:.2} ms | {:.0} | {errors:.0} | {} | {} |",
                    if *policy { "policy" } else { "no policy" },
                    rate(result),
                    rate(result) / baseline[index],
                    get("p99_us") / 1000.0,
                    get("forbidden"),
                    rss_first.map_or("?".into(), |v| format!("{v} KiB")),
                    rss_last.map_or("?".into(), |v| format!("{v} KiB")),
                ));
            }
        }
    }
    println!(
        "wrk -t2 -c32, {seconds} s per run; ratio = requests/s over the same server without the policy"
    );
    println!(
        "| adapter | mode | requests | requests/s | ratio | p99 | 403s | errors | RSS after run 1 | RSS after run 3 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

/// The cargo-fuzz targets in `fuzz/fuzz_targets/`.
const FUZZ_TARGETS: [&str; 3] = ["config", "origin", "evaluate"];

fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds = seconds_arg(args, 60, "fuzz")?;
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nightly {
        return Err(
            "fuzzing needs the nightly toolchain: `rustup toolchain install nightly`".into(),
        );
    }
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        run(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let corpus = root().join("fuzz/corpus");
    run(cargo()
        .args([
            "run",
            "--quiet",
            "--package",
            "polycors-conformance",
            "--bin",
            "fuzz-seeds",
            "--",
        ])
        .arg(&corpus))?;
    let mut summary = Vec::new();
    for target in FUZZ_TARGETS {
        let dir = corpus.join(target);
        let shown = format!("cargo +nightly fuzz run {target} -- -max_total_time={seconds}");
        eprintln!("$ {shown}");
        let output = Command::new("rustup")
            .args(["run", "nightly", "cargo", "fuzz", "run", target])
            .arg(&dir)
            .args([
                "--",
                &format!("-max_total_time={seconds}"),
                "-rss_limit_mb=2048",
            ])
            .current_dir(root().join("fuzz"))
            .stdout(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
        let log = String::from_utf8_lossy(&output.stderr);
        let last = log
            .lines()
            .rev()
            .find(|l| l.contains(" cov: "))
            .unwrap_or("(no libFuzzer stats)")
            .to_owned();
        if !output.status.success() {
            eprintln!("{log}");
            return Err(format!(
                "`{shown}` found a crash: the input is in fuzz/artifacts/{target}/; \
                 turn it into a regression test"
            ));
        }
        summary.push(format!("{target}: {seconds} s, {last}"));
    }
    for line in summary {
        println!("{line}");
    }
    Ok(())
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs Debian's Chromium and ChromeDriver for the browser tests when they are missing and
/// this user can (root with apt-get); otherwise says how.
fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let how =
        "the browser tests need Debian's Chromium: `apt-get install -y chromium chromium-driver`";
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root || Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!(
            "{CHROMIUM} or {CHROMEDRIVER} is missing; {how} (as root)"
        ));
    }
    let install = |update: bool| {
        if update {
            run(Command::new("apt-get").args(["update"]))?;
        }
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "chromium", "chromium-driver"]))
    };
    install(false)
        .or_else(|_| install(true))
        .map_err(|e| format!("{e}\n{how}"))
}

fn serve(args: &[String]) -> Result<(), String> {
    let wants_plugin = args
        .windows(2)
        .any(|w| w[0] == "--adapter" && is_wasm(&w[1]))
        || args
            .iter()
            .any(|a| a.strip_prefix("--adapter=").is_some_and(is_wasm));
    if wants_plugin && !args.iter().any(|a| a.starts_with("--wasm")) {
        build_plugin()?;
    }
    run(cargo()
        .args(["run", "--quiet", "--package", "polycors-serve", "--"])
        .args(args))
}

fn is_wasm(adapter: &str) -> bool {
    matches!(adapter, "proxy-wasm" | "wasm")
}

fn bench(args: &[String]) -> Result<(), String> {
    build_plugin()?;
    run(cargo()
        .args([
            "bench",
            "--package",
            "polycors",
            "--package",
            "polycors-tower",
            "--package",
            "polycors-actix",
            "--package",
            "polycors-wasm-host",
            "--",
        ])
        .args(args))?;
    eprintln!(
        "report: {}",
        target_dir().join("criterion/report/index.html").display()
    );
    Ok(())
}

fn dist() -> Result<(), String> {
    let plugin = build_plugin()?;
    let dist = target_dir().join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    let bytes = std::fs::read(&plugin).map_err(|e| format!("{}: {e}", plugin.display()))?;
    let wasm = dist.join("polycors.wasm");
    std::fs::write(&wasm, &bytes).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let sums = dist.join("polycors.wasm.sha256");
    std::fs::write(&sums, format!("{digest}  polycors.wasm\n"))
        .map_err(|e| format!("{}: {e}", sums.display()))?;
    println!("{} ({} bytes)", wasm.display(), bytes.len());
    println!("sha256 {digest}");
    println!(
        "Envoy: `local: {{ filename: {} }}` in the wasm filter's vm_config.code.\n\
         Higress: push it as an OCI image (see docs/proxy-wasm.md), e.g.\n  \
         oras push <registry>/polycors:0.1.0 polycors.wasm:application/vnd.module.wasm.content.layer.v1+wasm",
        wasm.display()
    );
    Ok(())
}
