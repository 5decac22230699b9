//! `cargo xtask fuzz`: each cargo-fuzz target for a bounded time (nightly).

use std::process::Command;

use crate::process::{cargo, execute, seconds_arg};

/// The cargo-fuzz targets in `fuzz/fuzz_targets/`.
const FUZZ_TARGETS: [&str; 3] = ["config", "origin", "evaluate"];

pub fn run(args: &[String]) -> Result<(), String> {
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
        execute(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let corpus = polycors_artifacts::workspace_root().join("fuzz/corpus");
    execute(
        cargo()
            .args([
                "run",
                "--quiet",
                "--package",
                "polycors-conformance",
                "--bin",
                "fuzz-seeds",
                "--",
            ])
            .arg(&corpus),
    )?;
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
            .current_dir(polycors_artifacts::workspace_root().join("fuzz"))
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
