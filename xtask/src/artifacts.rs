//! Building the workspace and the proxy-wasm plugins, and packaging the release plugin.

use std::path::PathBuf;
use std::process::Command;

use polycors_artifacts::oci;
use polycors_artifacts::{
    ENVOY_MODULE_PACKAGE, FLOOR_EXAMPLE, NOOP_EXAMPLE, PLUGIN_PACKAGE, WASM_PROFILE, WASM_TARGET,
};

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
    // The Envoy dynamic module (native; the build the conformance suite and serve load).
    execute(cargo().args(["build", "--package", ENVOY_MODULE_PACKAGE]))?;
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

/// The dynamic module whose filter panics on request (feature `test-panic`, its own target
/// directory), for the test that proves no panic reaches Envoy: only `cargo xtask test` needs it.
pub fn build_panicking_module() -> Result<(), String> {
    execute(
        cargo()
            .args([
                "build",
                "--package",
                ENVOY_MODULE_PACKAGE,
                "--features",
                "test-panic",
            ])
            .arg("--target-dir")
            .arg(polycors_artifacts::envoy_module_panicking_target_dir()),
    )
}

/// The trimmed output of `git args`, if git runs and succeeds.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(polycors_artifacts::workspace_root())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `cargo xtask dist`: the release plugin, its sha256 and its OCI image (layout and archive)
/// in `target/dist/`.
pub fn dist() -> Result<(), String> {
    let plugin = build_plugins()?;
    let dist = polycors_artifacts::target_dir().join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
    let bytes = std::fs::read(&plugin).map_err(|e| format!("{}: {e}", plugin.display()))?;
    let wasm = dist.join("polycors.wasm");
    std::fs::write(&wasm, &bytes).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let digest = oci::digest(&bytes).trim_start_matches("sha256:").to_owned();
    let sums = dist.join("polycors.wasm.sha256");
    std::fs::write(&sums, format!("{digest}  polycors.wasm\n"))
        .map_err(|e| format!("{}: {e}", sums.display()))?;
    let info = oci::ImageInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        revision: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
        // The commit's time, so that the same commit gives the same image.
        created: git(&["log", "-1", "--format=%cI"])
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".into()),
    };
    let image = oci::write_image(&bytes, &info, &dist, "polycors-oci")?;
    println!("{} ({} bytes)", wasm.display(), bytes.len());
    println!("sha256 {digest}");
    println!(
        "OCI image (Wasm artifact, layer {}): {} and {}",
        image.layer_digest,
        image.layout.display(),
        image.archive.display()
    );
    println!(
        "Envoy: `local: {{ filename: {} }}` in the wasm filter's vm_config.code.\n\
         Higress, Istio: skopeo copy oci-archive:{}:{} docker://<registry>/polycors:{} \
         (see docs/proxy-wasm.md)",
        wasm.display(),
        image.archive.display(),
        info.version,
        info.version
    );
    Ok(())
}
