//! `cargo xtask load`: wrk against `serve` on every adapter, with and without the policy.

use std::process::Command;

use crate::process::{cargo, execute, seconds_arg};
use crate::{artifacts, deps};

/// wrk's requests (after [`WRK_STATUS_REPORT`]): an even mix of allowed preflights, allowed
/// actual requests and two kinds of rejection (origin on a preflight, origin on an actual
/// request).
const LOAD_SCRIPT: &str = r#"
local requests = {}
local i = 0
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
"#;

/// The part of every wrk script that counts statuses per thread and prints the `RESULT` line
/// [`wrk_result`] reads; a script adds its own `init` and `request`.
pub const WRK_STATUS_REPORT: &str = r#"
local threads = {}
function setup(thread) table.insert(threads, thread) end
s2xx, s403, sother = 0, 0, 0
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

/// The report of a run of forwarded requests only: wrk's own totals, with no Lua `response`
/// hook. The hook makes wrk build a table of every response's headers, so that wrk's cost
/// would grow with the headers the policy adds and the client, not the server, would set the
/// pace. `ok` counts the answers below 400 (wrk's `errors.status` counts the others).
const WRK_TOTALS_REPORT: &str = r#"
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f p50_us=%d p99_us=%d ok=%d forbidden=0 other=%d socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    summary.requests - e.status, e.status, e.connect + e.read + e.write + e.timeout))
end
"#;

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Parses wrk's `RESULT key=value ...` line.
pub fn wrk_result(output: &str) -> Option<std::collections::BTreeMap<String, f64>> {
    let line = output.lines().find(|l| l.starts_with("RESULT "))?;
    Some(
        line.split_whitespace()
            .skip(1)
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
            .collect(),
    )
}

/// Paired rounds of forwarded requests, alternating the server with and without the policy.
const ROUNDS: usize = 10;

/// One `polycors serve` under load, stopped when dropped.
struct Server {
    child: std::process::Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve --adapter <adapter>` (with `--no-policy` when `policy` is false) through
/// `launcher`: the `polycors` binary itself, or a command that runs it (`taskset`, valgrind).
fn start(mut launcher: Command, adapter: &str, policy: bool) -> Result<Server, String> {
    launcher.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "--adapter",
        adapter,
    ]);
    if !policy {
        launcher.arg("--no-policy");
    }
    let mut child = launcher
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", launcher.get_program().to_string_lossy()))?;
    let mut first = String::new();
    if let Some(stdout) = child.stdout.take() {
        use std::io::BufRead;
        let _ = std::io::BufReader::new(stdout).read_line(&mut first);
    }
    let address = first
        .trim()
        .split("listening on ")
        .nth(1)
        .map(str::to_owned);
    let server = Server {
        child,
        address: address.unwrap_or_default(),
    };
    if server.address.is_empty() {
        return Err(format!("serve --adapter {adapter} did not start: {first}"));
    }
    Ok(server)
}

/// `program` run on `cpu` (through `taskset`), or anywhere.
fn pinned(cpu: Option<usize>, program: &std::ffi::OsStr) -> Command {
    match cpu {
        Some(cpu) => {
            let mut command = Command::new("taskset");
            command.args(["--cpu-list", &cpu.to_string()]).arg(program);
            command
        }
        None => Command::new(program),
    }
}

/// The median of `values` (not empty).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs wrk (`-t1 -c16`, on `cpu` when given) with `script` against `url` for `seconds`,
/// sending `mix`; the `RESULT` line's figures.
fn run_wrk(
    cpu: Option<usize>,
    script: &std::path::Path,
    url: &str,
    seconds: u64,
    mix: &str,
) -> Result<std::collections::BTreeMap<String, f64>, String> {
    let output = pinned(cpu, "wrk".as_ref())
        .args(["-t1", "-c16", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script)
        .args([url, "--", mix])
        .output()
        .map_err(|e| format!("wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    wrk_result(&text).ok_or_else(|| format!("no wrk result:\n{text}"))
}

/// Writes wrk's script for `mix`: `mixed` counts each status in Lua; `actual` (forwarded
/// requests only) is reported from wrk's own totals ([`WRK_TOTALS_REPORT`]).
fn write_script(mix: &str) -> Result<std::path::PathBuf, String> {
    let script = polycors_artifacts::target_dir().join(format!("load-{mix}.lua"));
    let report = if mix == "actual" {
        WRK_TOTALS_REPORT
    } else {
        WRK_STATUS_REPORT
    };
    std::fs::write(&script, format!("{report}{LOAD_SCRIPT}"))
        .map_err(|e| format!("{}: {e}", script.display()))?;
    Ok(script)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds = seconds_arg(args, 10, "load")?;
    deps::debian(
        &[("wrk", "/usr/bin/wrk"), ("util-linux", "/usr/bin/taskset")],
        "`cargo xtask load`",
    )?;
    artifacts::build_plugins()?;
    execute(cargo().args(["build", "--release", "--package", "polycors-cli"]))?;
    let serve = polycors_artifacts::target_dir().join("release/polycors");
    let scripts = [write_script("mixed")?, write_script("actual")?];
    // The servers on one CPU, wrk on the other, so that they do not take each other's time.
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (server_cpu, wrk_cpu) = if cpus >= 2 {
        (Some(0), Some(1))
    } else {
        eprintln!(
            "only one CPU: the servers and wrk cannot be pinned apart; figures will be noisier"
        );
        (None, None)
    };
    let wrk = |address: &str, duration: u64, mix: &str| {
        let script = &scripts[usize::from(mix == "actual")];
        run_wrk(wrk_cpu, script, address, duration, mix)
    };
    let rate = |r: &std::collections::BTreeMap<String, f64>| {
        r.get("requests").copied().unwrap_or(0.0) / r.get("seconds").copied().unwrap_or(1.0)
    };

    let mut rows = Vec::new();
    let mut paired = Vec::new();
    for adapter in ["tower", "actix", "proxy-wasm"] {
        // Both servers run side by side: the paired rounds alternate between them.
        let servers = [
            start(pinned(server_cpu, serve.as_os_str()), adapter, true)?,
            start(pinned(server_cpu, serve.as_os_str()), adapter, false)?,
        ];
        let mut runs = Vec::new();
        for (server, policy) in servers.iter().zip([true, false]) {
            // Warm up; measure the mix, then forwarded requests only, then the mix again: a
            // leak shows as resident memory still rising over the last two runs.
            wrk(&server.address, 2, "mixed")?;
            let mixed = wrk(&server.address, seconds, "mixed")?;
            let rss_first = rss_kib(server.child.id());
            let actual = wrk(&server.address, seconds, "actual")?;
            let mixed_again = wrk(&server.address, seconds, "mixed")?;
            let rss_last = rss_kib(server.child.id());
            runs.push((policy, [mixed, actual, mixed_again], rss_first, rss_last));
        }
        // Forwarded requests only, 1 s on each server per round, in alternating order: the
        // machine's drift reaches both sides of every round's ratio alike.
        let mut ratios = Vec::new();
        for round in 0..ROUNDS {
            let mut rates = [0.0; 2];
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for i in order {
                rates[i] = rate(&wrk(&servers[i].address, 1, "actual")?);
            }
            ratios.push(rates[0] / rates[1]);
        }
        drop(servers);
        paired.push((adapter, ratios));
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
        "wrk -t1 -c16 on CPU 1, the servers on CPU 0; {seconds} s per run; ratio = requests/s over \
         the same server without the policy"
    );
    println!(
        "| adapter | mode | requests | requests/s | ratio | p99 | 403s | errors | RSS after run 1 | RSS after run 3 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!("paired rounds: forwarded requests only, 1 s per server per round, alternating");
    for (adapter, ratios) in paired {
        let each: Vec<String> = ratios.iter().map(|r| format!("{r:.2}")).collect();
        println!(
            "load-ratio {adapter} actual {:.2} (rounds: {})",
            median(ratios.clone()),
            each.join(" ")
        );
    }
    Ok(())
}

/// The forwarded request of the load's `actual` mix, as wrk sends it.
const ACTUAL_REQUEST: &str = "GET /anything/get?foo=1 HTTP/1.1\r\nHost: httpbin.example.com\r\n\
                              Origin: http://httpbin2.example.org:9090\r\n\r\n";
/// The two measured windows of wrk's load (`-t1 -c16`, forwarded requests), in seconds, after
/// a warm-up as long as the first: the difference between them is what a request costs,
/// without what opening and closing a window costs (wrk's connections among it).
const WINDOWS: (u64, u64) = (2, 6);

/// One `serve` measured under callgrind: instructions per forwarded request, in all, and by the
/// crate the functions belong to.
struct ServerCount {
    per_request: f64,
    by_crate: std::collections::BTreeMap<String, f64>,
}

/// Runs `serve --adapter <adapter>` (without the policy unless `policy`) under callgrind and
/// counts what its forwarded requests cost under wrk's load (`script`); checks first, with one
/// request, that the answer carries the policy's headers exactly when there is a policy.
fn count_server(
    serve: &std::path::Path,
    script: &std::path::Path,
    adapter: &str,
    policy: bool,
) -> Result<ServerCount, String> {
    use crate::callgrind;
    use crate::envoy_bench::Connection;

    let label = format!("{adapter}-{}", if policy { "policy" } else { "no-policy" });
    let dumps = polycors_artifacts::target_dir().join("load-instructions");
    std::fs::create_dir_all(&dumps).map_err(|e| format!("{}: {e}", dumps.display()))?;
    let out = dumps.join(&label);
    for n in 1..=2 {
        let _ = std::fs::remove_file(out.with_extension(format!("{n}")));
    }
    let mut launcher = Command::new(callgrind::valgrind());
    launcher
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(serve);
    let server = start(launcher, adapter, policy)?;
    let address: std::net::SocketAddr = server
        .address
        .trim_start_matches("http://")
        .parse()
        .map_err(|_| format!("{label}: serve did not start under valgrind"))?;
    let pid = server.child.id();
    let mut connection = Connection::open(address)?;
    let (status, names) = connection.exchange(ACTUAL_REQUEST)?;
    let allowed = names.iter().any(|n| n == "access-control-allow-origin");
    if status != 200 || allowed != policy {
        return Err(format!(
            "{label}: the forwarded request got {status} with headers {names:?}; expected 200, \
             {} access-control-allow-origin",
            if policy { "with" } else { "without" }
        ));
    }
    drop(connection);
    let url = format!("http://{address}");
    let wrk = |seconds: u64| -> Result<f64, String> {
        let result = run_wrk(None, script, &url, seconds, "actual")?;
        let requests = result.get("requests").copied().unwrap_or(0.0);
        if requests == 0.0 || result.get("ok").copied() != Some(requests) {
            return Err(format!(
                "{label}: not every request was answered below 400: {result:?}"
            ));
        }
        Ok(requests)
    };
    wrk(WINDOWS.0)?;
    let mut requests = [0.0; 2];
    for (n, seconds) in [(1, WINDOWS.0), (2, WINDOWS.1)] {
        callgrind::control(pid, &["-z"])?;
        requests[n - 1] = wrk(seconds)?;
        callgrind::control(pid, &["-d"])?;
        // The dump is written by the server's process; wait for it.
        let dump = out.with_extension(format!("{n}"));
        for _ in 0..600 {
            if std::fs::metadata(&dump).is_ok_and(|m| m.len() > 0) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    drop(server);
    let short = callgrind::read_dump(&out.with_extension("1"))?;
    let long = callgrind::read_dump(&out.with_extension("2"))?;
    let requests = requests[1] - requests[0];
    let mut by_crate = std::collections::BTreeMap::new();
    for (function, count) in &long.functions {
        let grown = *count as f64 - short.functions.get(function).copied().unwrap_or(0) as f64;
        // The `polycors` binary's own functions (the front ends, the upstream) share the
        // library's crate name.
        let group = if function.starts_with("polycors::serve::") {
            "polycors-cli (front end, upstream)"
        } else {
            callgrind::crate_of(function)
        };
        *by_crate.entry(group.to_owned()).or_default() += grown / requests;
    }
    Ok(ServerCount {
        per_request: (long.total as f64 - short.total as f64) / requests,
        by_crate,
    })
}

/// `cargo xtask load --instructions`: each front end's instructions per forwarded request with
/// and without the policy, under callgrind (user space only: what the kernel does for the
/// larger response is not counted), and where the difference goes, by crate.
pub fn instructions() -> Result<(), String> {
    deps::debian(
        &[("valgrind", "/usr/bin/valgrind"), ("wrk", "/usr/bin/wrk")],
        "`cargo xtask load --instructions`",
    )?;
    execute(cargo().args(["build", "--release", "--package", "polycors-cli"]))?;
    let serve = polycors_artifacts::target_dir().join("release/polycors");
    let script = write_script("actual")?;
    for adapter in ["tower", "actix"] {
        // Both servers at once: valgrind runs each on one CPU.
        let (with, without) = std::thread::scope(|scope| {
            let with = scope.spawn(|| count_server(&serve, &script, adapter, true));
            let without = scope.spawn(|| count_server(&serve, &script, adapter, false));
            let join = |h: std::thread::ScopedJoinHandle<'_, Result<ServerCount, String>>| {
                h.join()
                    .unwrap_or_else(|_| Err(format!("{adapter}: the measuring thread failed")))
            };
            (join(with), join(without))
        });
        let (with, without) = (with?, without?);
        let added = with.per_request - without.per_request;
        println!(
            "{adapter}: {:.0} instructions per forwarded request with the policy, {:.0} without \
             (wrk -t1 -c16, windows of {} s and {} s); the policy adds {added:.0}:",
            with.per_request, without.per_request, WINDOWS.0, WINDOWS.1
        );
        let names: std::collections::BTreeSet<&String> = with
            .by_crate
            .keys()
            .chain(without.by_crate.keys())
            .collect();
        let mut crates: Vec<(String, f64)> = names
            .into_iter()
            .map(|name| {
                let get = |c: &ServerCount| c.by_crate.get(name).copied().unwrap_or(0.0);
                (name.clone(), get(&with) - get(&without))
            })
            .collect();
        crates.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        println!("| crate | instructions added per request |");
        println!("|---|---|");
        for (name, added) in crates.iter().filter(|c| c.1.abs() >= 20.0) {
            println!("| {name} | {added:.0} |");
        }
        let listed: f64 = crates
            .iter()
            .filter(|c| c.1.abs() >= 20.0)
            .map(|c| c.1)
            .sum();
        println!(
            "| the rest (functions under 0.01 % of the run, crates under 20) | {:.0} |",
            added - listed
        );
        println!(
            "load-instructions {adapter} policy {:.0}\nload-instructions {adapter} no-policy {:.0}\n\
             load-instructions-ratio {adapter} no-policy/policy {:.3}",
            with.per_request,
            without.per_request,
            without.per_request / with.per_request
        );
    }
    Ok(())
}
