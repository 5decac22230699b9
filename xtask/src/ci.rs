//! `cargo xtask ci`: what `.ci/run` runs on a clean clone, in order, stopping at the first
//! failure.

use std::process::Command;

use polycors_artifacts::{PLUGIN_PACKAGE, WASM_TARGET};

use crate::process::{cargo, execute};
use crate::{deps, fuzz};

pub fn run() -> Result<(), String> {
    eprintln!("== tools");
    deps::all()?;
    eprintln!("== cargo fmt --check");
    execute(cargo().args(["fmt", "--all", "--", "--check"]))?;
    eprintln!("== cargo clippy --all-targets -- -D warnings");
    execute(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    execute(cargo().args([
        "clippy",
        "--package",
        PLUGIN_PACKAGE,
        "--target",
        WASM_TARGET,
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    eprintln!("== cargo doc");
    execute(
        cargo()
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["doc", "--workspace", "--no-deps"]),
    )?;
    eprintln!("== tests: cargo xtask test (the README's test command)");
    crate::test(&[])?;
    eprintln!("== fuzz: a bounded pass, 30 s per target (cargo-fuzz, nightly)");
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if has_nightly {
        fuzz::run(&["--seconds".into(), "30".into()])?;
    } else {
        eprintln!(
            "no nightly toolchain on this machine: the fuzz pass cannot run here (see docs/reliability.md)"
        );
    }
    Ok(())
}
