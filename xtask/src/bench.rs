//! `cargo xtask bench`: the criterion benchmarks of the core, the middleware and the plugin in
//! the wasmtime host.

use crate::artifacts;
use crate::process::{cargo, execute};

pub fn run(args: &[String]) -> Result<(), String> {
    artifacts::build_plugins()?;
    execute(
        cargo()
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
            .args(args),
    )?;
    eprintln!(
        "report: {}",
        polycors_artifacts::target_dir()
            .join("criterion/report/index.html")
            .display()
    );
    Ok(())
}
