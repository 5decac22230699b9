//! Building the workspace and the proxy-wasm plugins, and packaging the release plugin.

use std::path::PathBuf;
use std::process::Command;

use polycors_artifacts::{FLOOR_EXAMPLE, NOOP_EXAMPLE, PLUGIN_PACKAGE, WASM_PROFILE, WASM_TARGET};
use sha2::{Digest, Sha256};

use crate::deps;
use crate::process::{cargo, execute};

/// `cargo xtask build`: every crate, every target, and both plugins.
pub fn build() -> Result<(), String> {
    execute(cargo().args(["build", "--workspace", "--all-targets"]))?;
    build_plugins().map(drop)
}

/// Builds the release plugin and the benchmark's no-op and floor plugins for `wasm32-wasip1`;
/// returns the release
/// plugin's path.
pub fn build_plugins() -> Result<PathBuf, String> {
    deps::wasm_target()?;
    execute(cargo().args([
        "build",
        "--package",
        PLUGIN_PACKAGE,
        "--lib",
        "--example",
        NOOP_EXAMPLE,
        "--example",
        FLOOR_EXAMPLE,
        "--target",
        WASM_TARGET,
        "--profile",
        WASM_PROFILE,
    ]))
    .map_err(|e| {
        format!("{e}\nif the {WASM_TARGET} target is missing: `rustup target add {WASM_TARGET}`")
    })?;
    deps::binaryen()?;
    let built = polycors_artifacts::plugin_wasm_unoptimized();
    let path = polycors_artifacts::plugin_wasm();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    execute(
        Command::new("wasm-opt")
            .args(polycors_artifacts::WASM_OPT_ARGS)
            .arg(&built)
            .arg("-o")
            .arg(&path),
    )?;
    let size = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    eprintln!(
        "plugin: {} ({} bytes; {} before wasm-opt)",
        path.display(),
        size(&path)?,
        size(&built)?
    );
    Ok(path)
}

/// `cargo xtask dist`: the release plugin and its sha256 in `target/dist/`.
pub fn dist() -> Result<(), String> {
    let plugin = build_plugins()?;
    let dist = polycors_artifacts::target_dir().join("dist");
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
