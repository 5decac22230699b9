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

/// Starts `serve --adapter <adapter>` (with `--no-policy` when `policy` is false), on `cpu`.
fn start(
    serve: &std::path::Path,
    adapter: &str,
    policy: bool,
    cpu: Option<usize>,
) -> Result<Server, String> {
    let mut command = pinned(cpu, serve.as_os_str());
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "--adapter",
        adapter,
    ]);
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

pub fn run(args: &[String]) -> Result<(), String> {
    let seconds = seconds_arg(args, 10, "load")?;
    deps::debian(
        &[("wrk", "/usr/bin/wrk"), ("util-linux", "/usr/bin/taskset")],
        "`cargo xtask load`",
    )?;
    artifacts::build_plugins()?;
    execute(cargo().args(["build", "--release", "--package", "polycors-cli"]))?;
    let serve = polycors_artifacts::target_dir().join("release/polycors");
    let script = polycors_artifacts::target_dir().join("load-mix.lua");
    std::fs::write(&script, format!("{WRK_STATUS_REPORT}{LOAD_SCRIPT}"))
        .map_err(|e| format!("{}: {e}", script.display()))?;
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
    let wrk = |address: &str,
               duration: u64,
               mix: &str|
     -> Result<std::collections::BTreeMap<String, f64>, String> {
        let output = pinned(wrk_cpu, "wrk".as_ref())
            .args(["-t1", "-c16", &format!("-d{duration}s"), "--latency", "-s"])
            .arg(&script)
            .arg(address)
            .args(["--", mix])
            .output()
            .map_err(|e| format!("wrk: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        wrk_result(&text).ok_or_else(|| format!("no wrk result:\n{text}"))
    };
    let rate = |r: &std::collections::BTreeMap<String, f64>| {
        r.get("requests").copied().unwrap_or(0.0) / r.get("seconds").copied().unwrap_or(1.0)
    };

    let mut rows = Vec::new();
    let mut paired = Vec::new();
    for adapter in ["tower", "actix", "proxy-wasm"] {
        // Both servers run side by side: the paired rounds alternate between them.
        let servers = [
            start(&serve, adapter, true, server_cpu)?,
            start(&serve, adapter, false, server_cpu)?,
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
