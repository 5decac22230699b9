//! `cargo xtask bench --envoy`: what CORS costs inside a real Envoy.
//!
//! Eight Envoys run side by side, each with one worker (`--concurrency 1`) pinned to CPU 0, and
//! every request is answered by Envoy itself, so only Envoy and the filter are measured. (Not
//! with a route's `direct_response`: Envoy's CORS filter skips routes without a route entry; an
//! abort-100 % fault filter after the CORS filter answers 200 instead, in every variant.) The
//! variants:
//! `bare` (no CORS filter), `native` (`envoy.filters.http.cors` with the equivalent
//! `CorsPolicy`), `noop` (a proxy-wasm plugin that does nothing: the cost any proxy-wasm filter
//! pays), `floor` (a plugin that makes only the host calls docs/behaviour.md requires of a CORS filter on
//! a forwarded request: read both header maps, set two headers), `polycors` (the release
//! plugin), `module-noop` (a dynamic module that does nothing: what any dynamic-module filter
//! costs), `module-floor` (a dynamic module that makes only the calls allowed requests need:
//! read both header maps and add five headers; answer an `OPTIONS` request with the preflight's
//! ten header lines) and `module` (the release Envoy dynamic
//! module, native code). wrk, pinned to CPU 1, loads one at a time; variants are interleaved within each
//! round and the order rotates, so drift on this shared machine spreads over all of them.
//! `--concurrent` loads every variant at once instead (one wrk each): they then share CPU 0 and
//! the machine's drift hits all alike, which makes the ratios steadier (absolute figures are
//! higher: the Envoys evict each other from the caches). Figures are medians over the rounds; a filter's overhead is
//! `1/rps - 1/rps_bare` (the worker is saturated, so `1/rps` is its time per request).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use polycors_envoy_runner::{Bootstrap, Cluster, Envoy, HttpFilter, Listener, Options, Route};
use serde_json::json;

use crate::load::{WRK_STATUS_REPORT, rss_kib, wrk_result};
use crate::process::{cargo, execute};
use crate::{artifacts, deps};

/// The same policy for Envoy's CORS filter (`CorsPolicy`): the patterns as anchored regexes.
fn native_policy() -> serde_json::Value {
    json!({
        "allow_origin_string_match": [
            {"exact": "http://httpbin.example.net"},
            {"safe_regex": {"regex": r"http://[a-z0-9.-]+\.example\.com(:[0-9]+)?"}},
            {"safe_regex": {"regex": r"http://[a-z0-9.-]+\.example\.org:(9090|8080)"}},
        ],
        "allow_methods": "GET,POST,PATCH",
        "allow_headers": "Content-Type,Token,Authorization",
        "expose_headers": "X-Custom-Header,X-Env-UTM",
        "allow_credentials": true,
        "max_age": "3600",
    })
}

const VARIANTS: [&str; 8] = [
    "bare",
    "native",
    "noop",
    "floor",
    "polycors",
    "module-noop",
    "module-floor",
    "module",
];
pub(crate) const KINDS: [&str; 4] = ["actual", "preflight", "rejected", "no-origin"];

const ALLOWED_ORIGIN: &str = "http://httpbin2.example.org:9090";
const REJECTED_ORIGIN: &str = "http://evil.example";

/// wrk's script (after [`WRK_STATUS_REPORT`], whose status counts catch a run whose answers
/// are not the expected ones): one request kind per run (the script argument), sent exactly as
/// [`browser_request`] writes it.
fn wrk_script() -> String {
    let mut script = String::from(WRK_STATUS_REPORT);
    script.push_str("local requests = {\n");
    for kind in KINDS {
        let request = browser_request(kind, "keep-alive");
        script.push_str(&format!(
            "  [\"{kind}\"] = \"{}\",\n",
            request.escape_default()
        ));
    }
    script.push_str(
        "}\nlocal req\nfunction init(args) req = requests[args[1]] end\n\
         function request() return req end\n",
    );
    script
}

struct Settings {
    seconds: u64,
    rounds: usize,
    connections: u32,
    /// Other builds of the plugin (`.wasm`) or the module (`.so`) to measure beside the variants
    /// (`--extra NAME=FILE`),
    /// to compare a change with the release plugin in one run.
    extra: Vec<(String, PathBuf)>,
    /// The request kinds to measure (`--kinds actual,preflight`), all by default.
    kinds: Vec<&'static str>,
    /// Load every variant at once (`--concurrent`), so that the machine's drift hits all alike.
    concurrent: bool,
    /// Count instructions under callgrind instead (`--instructions`, see
    /// [`crate::envoy_instructions`]).
    instructions: bool,
}

fn parse(args: &[String]) -> Result<Settings, String> {
    let mut settings = Settings {
        seconds: 4,
        rounds: 5,
        connections: 16,
        extra: Vec::new(),
        kinds: KINDS.to_vec(),
        concurrent: false,
        instructions: false,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("{flag} needs a positive whole number"))
        };
        match flag.as_str() {
            "--seconds" => settings.seconds = value()?,
            "--rounds" => settings.rounds = value()? as usize,
            "--connections" => settings.connections = value()? as u32,
            "--quick" => (settings.seconds, settings.rounds) = (2, 3),
            "--concurrent" => settings.concurrent = true,
            "--instructions" => settings.instructions = true,
            "--kinds" => {
                let list = args.next().ok_or("--kinds needs a list")?;
                settings.kinds = list
                    .split(',')
                    .map(|k| {
                        KINDS
                            .iter()
                            .find(|known| **known == k)
                            .copied()
                            .ok_or_else(|| format!("--kinds: {k:?} is not one of {KINDS:?}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--extra" => {
                let spec = args.next().ok_or("--extra needs NAME=FILE")?;
                let (name, file) = spec
                    .split_once('=')
                    .ok_or_else(|| format!("--extra {spec:?}: expected NAME=FILE"))?;
                if VARIANTS.contains(&name) {
                    return Err(format!("--extra {name:?}: that name is taken"));
                }
                settings.extra.push((name.to_owned(), PathBuf::from(file)));
            }
            other => {
                return Err(format!(
                    "unknown argument {other:?}; usage: cargo xtask bench --envoy \
                     [--quick] [--seconds N] [--rounds N] [--connections N] [--kinds K,...] [--extra NAME=FILE]... \
                     [--concurrent | --instructions]"
                ));
            }
        }
    }
    Ok(settings)
}

fn bootstrap(variant: &str, extra: &[(String, PathBuf)]) -> Bootstrap {
    let mut filters = match variant {
        "bare" => vec![],
        "native" => vec![HttpFilter::NativeCors],
        "noop" => vec![HttpFilter::wasm(&polycors_artifacts::noop_wasm(), "")],
        "floor" => vec![HttpFilter::wasm(&polycors_artifacts::floor_wasm(), "")],
        "polycors" => vec![HttpFilter::wasm(
            &polycors_artifacts::plugin_wasm(),
            polycors_artifacts::SEED_CONFIG,
        )],
        "module-noop" => vec![HttpFilter::dynamic_module(
            &polycors_artifacts::envoy_noop_module("release"),
            "",
        )],
        "module-floor" => vec![HttpFilter::dynamic_module(
            &polycors_artifacts::envoy_floor_module("release"),
            "",
        )],
        "module" => vec![HttpFilter::dynamic_module(
            &polycors_artifacts::envoy_module("release"),
            polycors_artifacts::SEED_CONFIG,
        )],
        other => {
            let (_, module) = extra
                .iter()
                .find(|(name, _)| name == other)
                .expect("a variant");
            // A dynamic module (`.so`) or a proxy-wasm plugin.
            if module.extension().is_some_and(|e| e == "so") {
                vec![HttpFilter::dynamic_module(
                    module,
                    polycors_artifacts::SEED_CONFIG,
                )]
            } else {
                vec![HttpFilter::wasm(module, polycors_artifacts::SEED_CONFIG)]
            }
        }
    };
    filters.push(HttpFilter::Respond { status: 200 });
    let mut route = Route::to_cluster("never-called");
    if variant == "native" {
        route.cors_policy = Some(native_policy());
    }
    Bootstrap {
        listeners: vec![Listener {
            name: variant.to_owned(),
            address: None,
            filters,
            routes: vec![route],
        }],
        // Port 9 (discard): the answering filter runs before the router, which never connects.
        clusters: vec![Cluster {
            name: "never-called".into(),
            address: SocketAddr::from(([127, 0, 0, 1], 9)),
        }],
    }
}

/// A request of `kind` with the headers a browser sends, as wrk sends it ([`wrk_script`]).
pub(crate) fn browser_request(kind: &str, connection: &str) -> String {
    let mut request = format!(
        "{} /anything/get?foo=1 HTTP/1.1\r\nHost: httpbin.example.com\r\nConnection: {connection}\r\n\
         User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
         Chrome/156.0.0.0 Safari/537.36\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.9\r\n\
         Accept-Encoding: gzip, deflate, br, zstd\r\n",
        if kind == "preflight" {
            "OPTIONS"
        } else {
            "GET"
        }
    );
    if kind != "no-origin" {
        let origin = if kind == "rejected" {
            REJECTED_ORIGIN
        } else {
            ALLOWED_ORIGIN
        };
        request.push_str(&format!(
            "Sec-Fetch-Mode: cors\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Dest: empty\r\n\
             Origin: {origin}\r\nReferer: {origin}/\r\n"
        ));
    }
    if kind == "preflight" {
        request.push_str(
            "Access-Control-Request-Method: POST\r\n\
             Access-Control-Request-Headers: content-type,token\r\n",
        );
    }
    request.push_str("\r\n");
    request
}

/// One request of `kind` over a fresh connection: the status and the lowercase header names.
fn probe(address: SocketAddr, kind: &str) -> Result<(u16, Vec<String>), String> {
    Connection::open(address)?.exchange(&browser_request(kind, "close"))
}

/// A keep-alive HTTP/1.1 connection that sends one request at a time (opened again when the
/// server closes it).
pub(crate) struct Connection {
    address: SocketAddr,
    reader: Option<BufReader<TcpStream>>,
}

impl Connection {
    pub(crate) fn open(address: SocketAddr) -> Result<Self, String> {
        Ok(Self {
            address,
            reader: Some(Self::connect(address)?),
        })
    }

    fn connect(address: SocketAddr) -> Result<BufReader<TcpStream>, String> {
        let stream = TcpStream::connect(address).map_err(|e| format!("{address}: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        Ok(BufReader::new(stream))
    }

    /// Sends `request` and reads the whole response: its status and lowercase header names.
    pub(crate) fn exchange(&mut self, request: &str) -> Result<(u16, Vec<String>), String> {
        let address = self.address;
        let failed = |e: std::io::Error| format!("{address}: {e}");
        let reader = match &mut self.reader {
            Some(reader) => reader,
            None => self.reader.insert(Self::connect(address)?),
        };
        reader
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(failed)?;
        let mut status = None;
        let mut names = Vec::new();
        let mut length = 0;
        let mut close = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).map_err(failed)? == 0 {
                return Err(format!("{address} closed the connection mid-response"));
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if status.is_none() {
                status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok());
                continue;
            }
            if let Some((name, value)) = line.split_once(':') {
                let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
                match name.as_str() {
                    "content-length" => {
                        length = value
                            .parse()
                            .map_err(|_| format!("{address}: content-length {value:?}"))?;
                    }
                    "connection" => close = value.eq_ignore_ascii_case("close"),
                    "transfer-encoding" => {
                        return Err(format!("{address}: a chunked response ({line})"));
                    }
                    _ => {}
                }
                names.push(name);
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).map_err(failed)?;
        if close {
            self.reader = None;
        }
        let status = status.ok_or_else(|| format!("{address}: no status line"))?;
        Ok((status, names))
    }
}

/// What each variant must answer, checked once before measuring: a benchmark of a filter that
/// does not do its job measures nothing.
pub(crate) fn check_answers(envoys: &BTreeMap<String, (Envoy, SocketAddr)>) -> Result<(), String> {
    for (variant, (_, address)) in envoys {
        if !VARIANTS.contains(&variant.as_str()) {
            continue; // an `--extra` build: whatever it answers is what is being tried
        }
        for kind in KINDS {
            let (status, names) = probe(*address, kind)?;
            let acao = names.iter().any(|n| n == "access-control-allow-origin");
            let expected = match (variant.as_str(), kind) {
                // Answers every OPTIONS request as an allowed preflight, and adds the allowed
                // request's headers to every other response, whatever was asked.
                ("module-floor", _) => (200, true),
                ("polycors" | "module", "rejected") => (403, false),
                ("polycors" | "module" | "native", "actual" | "preflight") => (200, true),
                _ => (200, false),
            };
            if (status, acao) != expected {
                return Err(format!(
                    "{variant} answered {kind} with {status} (access-control-allow-origin: {acao}); \
                     expected {} ({})",
                    expected.0, expected.1
                ));
            }
        }
    }
    Ok(())
}

/// CPU time the process has run (every thread), in nanoseconds, from `/proc/PID/task/*/schedstat`.
fn cpu_ns(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Starts `variant`'s Envoy; it and its listener's address.
pub(crate) fn start_variant(
    variant: &str,
    extra: &[(String, PathBuf)],
    options: &Options,
) -> Result<(Envoy, SocketAddr), String> {
    let envoy =
        Envoy::start(&bootstrap(variant, extra), options).map_err(|e| format!("{variant}: {e}"))?;
    let address = envoy
        .listener(variant)
        .ok_or_else(|| format!("{variant}: no listener"))?;
    Ok((envoy, address))
}

/// Builds the release dynamic module and the `module-noop` / `module-floor` modules.
pub(crate) fn build_modules() -> Result<(), String> {
    execute(cargo().args([
        "build",
        "--release",
        "--package",
        polycors_artifacts::ENVOY_MODULE_PACKAGE,
        "--lib",
        "--example",
        "noop_module",
        "--example",
        "floor_module",
    ]))
}

pub fn run(args: &[String]) -> Result<(), String> {
    let settings = parse(args)?;
    if settings.instructions {
        return crate::envoy_instructions::run(&settings.extra);
    }
    deps::envoy()?;
    deps::debian(&[("wrk", "/usr/bin/wrk")], "`cargo xtask bench --envoy`")?;
    artifacts::build_plugins()?;
    build_modules()?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (envoy_cpu, wrk_cpu) = if cpus >= 2 {
        (Some(0), Some(1))
    } else {
        eprintln!("only one CPU: Envoy and wrk cannot be pinned apart; figures will be noisier");
        (None, None)
    };
    let options = Options {
        cpu: envoy_cpu,
        ..Options::default()
    };
    let variants: Vec<String> = VARIANTS
        .iter()
        .map(|v| (*v).to_owned())
        .chain(settings.extra.iter().map(|(name, _)| name.clone()))
        .collect();
    let mut envoys = BTreeMap::new();
    for variant in &variants {
        let started = start_variant(variant, &settings.extra, &options)?;
        envoys.insert(variant.clone(), started);
    }
    check_answers(&envoys)?;

    let script = polycors_artifacts::target_dir().join("envoy-bench.lua");
    std::fs::write(&script, wrk_script()).map_err(|e| format!("{}: {e}", script.display()))?;
    let wrk = |address: SocketAddr, kind: &str, seconds: u64| -> Result<(f64, f64), String> {
        let mut command = match wrk_cpu {
            Some(cpu) => {
                let mut c = Command::new("taskset");
                c.args(["--cpu-list", &cpu.to_string(), "wrk"]);
                c
            }
            None => Command::new("wrk"),
        };
        let output = command
            .args(["-t1", &format!("-c{}", settings.connections)])
            .arg(format!("-d{seconds}s"))
            .arg("-s")
            .arg(&script)
            .arg(format!("http://{address}"))
            .args(["--", kind])
            .output()
            .map_err(|e| format!("wrk: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let result = wrk_result(&text).ok_or_else(|| format!("no wrk result:\n{text}"))?;
        let get = |k: &str| result.get(k).copied().unwrap_or(f64::NAN);
        if get("other") + get("socket_errors") > 0.0 {
            return Err(format!(
                "wrk saw errors against {address} ({kind}):\n{text}"
            ));
        }
        Ok((get("requests") / get("seconds"), get("requests")))
    };

    // Warm up every VM and connection pool, then read the plugin's Envoy's resident memory.
    for (variant, (_, address)) in &envoys {
        for kind in KINDS {
            wrk(*address, kind, 1).map_err(|e| format!("{variant}: {e}"))?;
        }
    }
    let pids: BTreeMap<&str, u32> = envoys
        .iter()
        .map(|(v, (e, _))| (v.as_str(), e.pid()))
        .collect();
    let polycors_pid = envoys["polycors"].0.pid();
    let rss_before = rss_kib(polycors_pid);

    let mut rates: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    let mut cpu: BTreeMap<(&str, &str), Vec<f64>> = BTreeMap::new();
    let mut polycors_requests = 0.0;
    for round in 0..settings.rounds {
        if settings.concurrent {
            for kind in &settings.kinds {
                let runs: Vec<_> = std::thread::scope(|scope| {
                    let handles: Vec<_> = variants
                        .iter()
                        .map(|variant| {
                            let variant = variant.as_str();
                            let wrk = &wrk;
                            let address = envoys[variant].1;
                            let pid = pids[variant];
                            scope.spawn(move || {
                                let before = cpu_ns(pid);
                                let result = wrk(address, kind, settings.seconds);
                                (variant, before, cpu_ns(pid), result)
                            })
                        })
                        .collect();
                    handles.into_iter().filter_map(|h| h.join().ok()).collect()
                });
                for (variant, before, after, result) in runs {
                    let (rps, requests) = result?;
                    if variant == "polycors" {
                        polycors_requests += requests;
                    }
                    if let (Some(before), Some(after)) = (before, after) {
                        cpu.entry((kind, variant))
                            .or_default()
                            .push((after - before) as f64 / requests / 1000.0);
                    }
                    rates.entry((kind, variant)).or_default().push(rps);
                }
            }
            eprintln!("round {}/{} done", round + 1, settings.rounds);
            continue;
        }
        for (k, kind) in settings.kinds.iter().enumerate() {
            for i in 0..variants.len() {
                let variant = variants[(i + round + k) % variants.len()].as_str();
                let before = cpu_ns(pids[variant]);
                let (rps, requests) = wrk(envoys[variant].1, kind, settings.seconds)?;
                if let (Some(before), Some(after)) = (before, cpu_ns(pids[variant])) {
                    cpu.entry((kind, variant))
                        .or_default()
                        .push((after - before) as f64 / requests / 1000.0);
                }
                if variant == "polycors" {
                    polycors_requests += rps * settings.seconds as f64;
                }
                rates.entry((kind, variant)).or_default().push(rps);
            }
        }
        eprintln!("round {}/{} done", round + 1, settings.rounds);
    }
    let rss_after = rss_kib(polycors_pid);

    println!(
        "Envoy {} (V8), one worker pinned to CPU {}, wrk -t1 -c{} pinned to CPU {}, {} rounds x {} s{}, medians; \
         overhead over bare Envoy per request, in microseconds: {}",
        polycors_artifacts::ENVOY_VERSION,
        envoy_cpu.map_or("-".into(), |c| c.to_string()),
        settings.connections,
        wrk_cpu.map_or("-".into(), |c| c.to_string()),
        settings.rounds,
        settings.seconds,
        if settings.concurrent {
            ", every variant loaded at once"
        } else {
            ", variants one after another"
        },
        if settings.concurrent {
            "CPU time per request (schedstat) minus bare's"
        } else {
            "1/rps - 1/rps(bare)"
        },
    );
    println!(
        "| request | bare req/s | native | noop | floor | polycors | module-noop | module-floor | module | polycors/noop | floor/noop | polycors/native | module/native | module-floor/native |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut lines = Vec::new();
    for &kind in &settings.kinds {
        let rps: BTreeMap<&str, f64> = variants
            .iter()
            .map(|v| {
                let measured = rates
                    .get_mut(&(kind, v.as_str()))
                    .map_or(f64::NAN, |r| median(r));
                (v.as_str(), measured)
            })
            .collect();
        let cpu_us: BTreeMap<&str, f64> = variants
            .iter()
            .map(|v| {
                let measured = cpu
                    .get_mut(&(kind, v.as_str()))
                    .map_or(f64::NAN, |c| median(c));
                (v.as_str(), measured)
            })
            .collect();
        // One after another, each Envoy saturates the CPU alone: 1/rps is its time per request.
        // Loaded at once, they share the CPU: only CPU time per request says what each costs.
        let overhead = |v: &str| {
            if settings.concurrent {
                cpu_us[v] - cpu_us["bare"]
            } else {
                1e6 / rps[v] - 1e6 / rps["bare"]
            }
        };
        let (native, noop, floor, polycors) = (
            overhead("native"),
            overhead("noop"),
            overhead("floor"),
            overhead("polycors"),
        );
        let (module_noop, module_floor, module) = (
            overhead("module-noop"),
            overhead("module-floor"),
            overhead("module"),
        );
        println!(
            "| {kind} | {:.0} | {native:.2} us | {noop:.2} us | {floor:.2} us | {polycors:.2} us | {module_noop:.2} us | {module_floor:.2} us | {module:.2} us | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            rps["bare"],
            polycors / noop,
            floor / noop,
            polycors / native,
            module / native,
            module_floor / native
        );
        for v in &variants {
            lines.push(format!("envoy-rps {kind} {v} {:.0}", rps[v.as_str()]));
        }
        for v in variants.iter().filter(|v| *v != "bare") {
            lines.push(format!("envoy-overhead {kind} {v} {:.3}", overhead(v)));
        }
        for v in variants.iter().filter(|v| *v != "bare") {
            lines.push(format!(
                "envoy-cpu-overhead {kind} {v} {:.3}",
                cpu_us[v.as_str()] - cpu_us["bare"]
            ));
        }
        for (extra, _) in &settings.extra {
            lines.push(format!(
                "envoy-ratio {kind} {extra}/noop {:.3}",
                overhead(extra) / noop
            ));
        }
        lines.push(format!(
            "envoy-ratio {kind} polycors/noop {:.3}",
            polycors / noop
        ));
        lines.push(format!("envoy-ratio {kind} floor/noop {:.3}", floor / noop));
        lines.push(format!(
            "envoy-ratio {kind} polycors/native {:.3}",
            polycors / native
        ));
        lines.push(format!(
            "envoy-ratio {kind} module/native {:.3}",
            module / native
        ));
        lines.push(format!(
            "envoy-ratio {kind} module-noop/native {:.3}",
            module_noop / native
        ));
        lines.push(format!(
            "envoy-ratio {kind} module-floor/native {:.3}",
            module_floor / native
        ));
    }
    for line in lines {
        println!("{line}");
    }
    println!(
        "envoy-memory polycors rss_kib_before {} rss_kib_after {} requests {polycors_requests:.0}",
        rss_before.map_or("?".into(), |v| v.to_string()),
        rss_after.map_or("?".into(), |v| v.to_string()),
    );
    Ok(())
}
