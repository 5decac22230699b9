//! `cargo xtask bench`: the criterion benchmarks of the core, the middleware (tower and actix,
//! each against its peer) and the plugin in the wasmtime host; then the lines a script can
//! read: the core's times and the middleware overheads, measured by interleaving the stacks.

use std::path::Path;

use crate::artifacts;
use crate::process::{cargo, execute};

/// The cases of `core/benches/shared/cases.rs`, in its order.
const CASES: [&str; 5] = ["actual", "preflight", "rejected", "no-origin", "pattern"];
const FRAMEWORKS: [&str; 2] = ["tower", "actix"];
/// Criterion settings of `--quick` for the core.
const QUICK: [&str; 5] = [
    "--warm-up-time",
    "0.5",
    "--measurement-time",
    "1",
    "--noplot",
];

pub fn run(args: &[String]) -> Result<(), String> {
    let quick = args.first().is_some_and(|a| a == "--quick");
    if quick {
        execute(
            cargo()
                .args([
                    "bench",
                    "--package",
                    "polycors",
                    "--bench",
                    "evaluate",
                    "--",
                ])
                .args(QUICK),
        )?;
    } else {
        artifacts::build_plugins()?;
        for (package, bench) in [
            ("polycors", "evaluate"),
            ("polycors-tower", "overhead"),
            ("polycors-actix", "overhead"),
            ("polycors-wasm-host", "plugin"),
        ] {
            execute(
                cargo()
                    .args(["bench", "--package", package, "--bench", bench, "--"])
                    .args(args),
            )?;
        }
    }
    let criterion = polycors_artifacts::target_dir().join("criterion");
    let mut out = String::new();
    for case in CASES {
        let ns = median(&criterion, "core", case)?;
        out.push_str(&format!("core {case} {ns:.1}\n"));
    }
    print!("{out}");
    // Overheads by interleaving, which this shared machine's drift cannot skew (criterion
    // measures one stack after the other).
    let rounds = if quick { QUICK_ROUNDS } else { FULL_ROUNDS };
    for framework in FRAMEWORKS {
        let binary = bench_binary(&format!("polycors-{framework}"), "overhead")?;
        let mut command = std::process::Command::new(&binary);
        command.env("POLYCORS_OVERHEAD", rounds.to_string());
        execute(&mut command)?;
    }
    Ok(())
}

/// Rounds of interleaved overhead measurement per case (`--quick`, and the full run).
const QUICK_ROUNDS: usize = 300;
const FULL_ROUNDS: usize = 3000;

/// A benchmark's median time in ns, from criterion's `estimates.json`.
fn median(criterion: &Path, group: &str, function: &str) -> Result<f64, String> {
    let path = criterion
        .join(group)
        .join(function)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {}: {e} (did the benchmark run?)",
            path.display()
        )
    })?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    json["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median estimate", path.display()))
}

/// Requests per instruction count (the difference with a run of none gives one request's).
const COUNTED_REQUESTS: usize = 2000;

/// `cargo xtask bench --instructions`: the core's instructions per request, then each
/// middleware stack's, under callgrind (deterministic, unlike times on a shared machine), the
/// latter as overheads over no layer.
pub fn instructions() -> Result<(), String> {
    crate::deps::debian(&[("valgrind", "/usr/bin/valgrind")], "instruction counts")?;
    let mut out = String::new();
    // The core's own: evaluate and write to a byte sink, as its criterion benchmark times.
    let core = bench_binary("polycors", "evaluate")?;
    for case in CASES {
        let instructions = per_request(&core, &format!("{case} polycors"), &[])?[0];
        out.push_str(&format!("instructions core {case} {instructions:.0}\n"));
    }
    for framework in FRAMEWORKS {
        let binary = bench_binary(&format!("polycors-{framework}"), "overhead")?;
        for case in CASES {
            let mut stacks = [0.0; 3];
            for (slot, implementation) in stacks.iter_mut().zip(["none", "peer", "polycors"]) {
                *slot = per_request(&binary, &format!("{case} {implementation}"), &[])?[0];
            }
            let [none, peer, polycors] = stacks;
            let (peer, polycors) = (peer - none, polycors - none);
            out.push_str(&format!(
                "instructions {framework} {case} none {none:.0}\n\
                 instructions {framework} {case} peer {peer:.0}\n\
                 instructions {framework} {case} polycors {polycors:.0}\n\
                 instructions-ratio {framework} {case} polycors/peer {:.2}\n",
                polycors / peer
            ));
        }
    }
    print!("{out}");
    Ok(())
}

/// The events callgrind's simulation counts that `cache` prints, by their callgrind names:
/// instructions, L1 instruction-cache misses, conditional and indirect branch mispredicts.
const SIMULATED: [(&str, &str); 4] = [
    ("Ir", "instructions"),
    ("I1mr", "l1i-misses"),
    ("Bcm", "conditional-mispredicts"),
    ("Bim", "indirect-mispredicts"),
];

/// `cargo xtask bench --cache`: each middleware stack under callgrind's cache and branch
/// simulation (the host's cache geometry), per request over no layer. A model (no prefetch,
/// no micro-op cache, a branch target buffer without history), but deterministic: where a
/// stack's code outgrows the instruction cache, its L1i misses show it.
pub fn cache() -> Result<(), String> {
    crate::deps::debian(&[("valgrind", "/usr/bin/valgrind")], "cache simulation")?;
    let events = SIMULATED.map(|(event, _)| event);
    let mut out = String::new();
    for framework in FRAMEWORKS {
        let binary = bench_binary(&format!("polycors-{framework}"), "overhead")?;
        for case in CASES {
            let none = per_request(&binary, &format!("{case} none"), &events)?;
            for implementation in ["peer", "polycors"] {
                let counts = per_request(&binary, &format!("{case} {implementation}"), &events)?;
                for (((_, label), count), base) in SIMULATED.iter().zip(counts).zip(&none) {
                    out.push_str(&format!(
                        "cache {framework} {case} {implementation} {label} {:.1}\n",
                        count - base
                    ));
                }
            }
        }
    }
    print!("{out}");
    Ok(())
}

/// One request's counts of `events` (callgrind's names, in order; with none, its instruction
/// count without the simulation): a run of `binary` sending `COUNTED_REQUESTS` requests of
/// `spec` (`<case> <implementation>`) less a run sending none.
fn per_request(binary: &Path, spec: &str, events: &[&str]) -> Result<Vec<f64>, String> {
    let zero = collected(binary, &format!("{spec} 0"), events)?;
    let many = collected(binary, &format!("{spec} {COUNTED_REQUESTS}"), events)?;
    Ok(many
        .iter()
        .zip(zero)
        .map(|(many, zero)| many.saturating_sub(zero) as f64 / COUNTED_REQUESTS as f64)
        .collect())
}

/// Builds a benchmark and returns its executable (cargo names it on its standard error).
fn bench_binary(package: &str, bench: &str) -> Result<std::path::PathBuf, String> {
    let mut command = cargo();
    command.args(["bench", "--package", package, "--bench", bench, "--no-run"]);
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "building {package}'s {bench} benchmark failed:\n{stderr}"
        ));
    }
    stderr
        .lines()
        .find_map(|line| {
            let (_, path) = line.trim().strip_prefix("Executable ")?.rsplit_once(" (")?;
            Some(polycors_artifacts::workspace_root().join(path.strip_suffix(')')?))
        })
        .ok_or_else(|| format!("cargo did not name the {bench} executable:\n{stderr}"))
}

/// What callgrind counts for one run of `binary` with `POLYCORS_COUNT=spec`: `events` (its
/// names, under its cache and branch simulation), or with none its instructions.
fn collected(binary: &Path, spec: &str, events: &[&str]) -> Result<Vec<u64>, String> {
    let mut command = std::process::Command::new("valgrind");
    command.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]);
    if !events.is_empty() {
        command.args(["--cache-sim=yes", "--branch-sim=yes"]);
    }
    let output = command
        .arg(binary)
        .env("POLYCORS_COUNT", spec)
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!("callgrind run `{spec}` failed:\n{stderr}"));
    }
    // `Events : Ir Dr ...` names the numbers of `Collected : ...`.
    let line = |label: &str| {
        stderr
            .lines()
            .find_map(|line| Some(line.split(label).nth(1)?.split_whitespace()))
    };
    let (Some(names), Some(numbers)) = (line("Events    : "), line("Collected : ")) else {
        return Err(format!("no counts from callgrind for `{spec}`:\n{stderr}"));
    };
    let counted: Vec<(&str, u64)> = names
        .zip(numbers)
        .map(|(name, number)| Ok((name, number.parse().map_err(|e| format!("{e}"))?)))
        .collect::<Result<_, String>>()
        .map_err(|e| format!("callgrind's counts for `{spec}`: {e}"))?;
    let wanted: &[&str] = if events.is_empty() { &["Ir"] } else { events };
    wanted
        .iter()
        .map(|event| {
            counted
                .iter()
                .find_map(|(name, n)| (name == event).then_some(*n))
                .ok_or_else(|| format!("callgrind counted no {event} for `{spec}`:\n{stderr}"))
        })
        .collect()
}
