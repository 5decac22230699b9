//! `cargo xtask`: the project's automation, in Rust so that it runs wherever cargo does.
//!
//! ```text
//! cargo xtask build            every crate, plus the release proxy-wasm plugin
//! cargo xtask test [ARGS]      every test, the proxy-wasm conformance included (the README's test command)
//! cargo xtask serve [ARGS]     the main job: a local server enforcing a policy (see --help)
//! cargo xtask bench [ARGS]     the criterion benchmarks
//! cargo xtask dist             the release .wasm and its sha256 in target/dist/
//! cargo xtask e2e              the headless-Chromium end-to-end tests (part of `test`)
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use sha2::{Digest, Sha256};

const USAGE: &str = "\
usage: cargo xtask <command> [args]

  build          build every crate and the release proxy-wasm plugin (wasm32-wasip1)
  test [ARGS]    build the plugin, then run every test (ARGS go to `cargo test`)
  serve [ARGS]   run the local CORS server (`cargo xtask serve --help`)
  bench [ARGS]   run the criterion benchmarks (ARGS go to criterion)
  dist           put the release plugin and its sha256 in target/dist/
  e2e            the headless-Chromium end-to-end tests only (writes docs/browser-compat.md)";

const WASM_TARGET: &str = "wasm32-wasip1";
const WASM_PROFILE: &str = "release-wasm";
const PLUGIN_FILE: &str = "polycors_proxy_wasm.wasm";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match command.as_str() {
        "build" => build(),
        "test" => test(rest),
        "serve" => serve(rest),
        "bench" => bench(rest),
        "dist" => dist(),
        "e2e" => e2e(),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The release plugin's path.
fn plugin_path() -> PathBuf {
    target_dir()
        .join(WASM_TARGET)
        .join(WASM_PROFILE)
        .join(PLUGIN_FILE)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}

/// Runs `command`, echoing it; a failure names the command.
fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!(
        "{} {}",
        command.get_program().to_string_lossy(),
        command
            .get_args()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    eprintln!("$ {shown}");
    let status = command
        .status()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Installs the wasm target with rustup if it is missing.
fn ensure_wasm_target() -> Result<(), String> {
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
            run(Command::new("rustup").args(["target", "add", WASM_TARGET])).map_err(|e| {
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

/// Builds the release plugin; returns its path.
fn build_plugin() -> Result<PathBuf, String> {
    ensure_wasm_target()?;
    run(cargo().args([
        "build",
        "--package",
        "polycors-proxy-wasm",
        "--target",
        WASM_TARGET,
        "--profile",
        WASM_PROFILE,
    ]))
    .map_err(|e| {
        format!("{e}\nif the {WASM_TARGET} target is missing: `rustup target add {WASM_TARGET}`")
    })?;
    let path = plugin_path();
    let size = std::fs::metadata(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    eprintln!("plugin: {} ({size} bytes)", path.display());
    Ok(path)
}

fn build() -> Result<(), String> {
    run(cargo().args(["build", "--workspace", "--all-targets"]))?;
    build_plugin().map(drop)
}

fn test(args: &[String]) -> Result<(), String> {
    build_plugin()?;
    ensure_chromium()?;
    run(cargo().args(["test", "--workspace"]).args(args))
}

fn e2e() -> Result<(), String> {
    build_plugin()?;
    ensure_chromium()?;
    run(cargo().args(["test", "--package", "polycors-serve", "--test", "browser"]))
}

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs Debian's Chromium and ChromeDriver for the browser tests when they are missing and
/// this user can (root with apt-get); otherwise says how.
fn ensure_chromium() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    let how =
        "the browser tests need Debian's Chromium: `apt-get install -y chromium chromium-driver`";
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root || Command::new("apt-get").arg("--version").output().is_err() {
        return Err(format!(
            "{CHROMIUM} or {CHROMEDRIVER} is missing; {how} (as root)"
        ));
    }
    let install = |update: bool| {
        if update {
            run(Command::new("apt-get").args(["update"]))?;
        }
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "chromium", "chromium-driver"]))
    };
    install(false)
        .or_else(|_| install(true))
        .map_err(|e| format!("{e}\n{how}"))
}

fn serve(args: &[String]) -> Result<(), String> {
    let wants_plugin = args
        .windows(2)
        .any(|w| w[0] == "--adapter" && is_wasm(&w[1]))
        || args
            .iter()
            .any(|a| a.strip_prefix("--adapter=").is_some_and(is_wasm));
    if wants_plugin && !args.iter().any(|a| a.starts_with("--wasm")) {
        build_plugin()?;
    }
    run(cargo()
        .args(["run", "--quiet", "--package", "polycors-serve", "--"])
        .args(args))
}

fn is_wasm(adapter: &str) -> bool {
    matches!(adapter, "proxy-wasm" | "wasm")
}

fn bench(args: &[String]) -> Result<(), String> {
    build_plugin()?;
    run(cargo()
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
        .args(args))?;
    eprintln!(
        "report: {}",
        target_dir().join("criterion/report/index.html").display()
    );
    Ok(())
}

fn dist() -> Result<(), String> {
    let plugin = build_plugin()?;
    let dist = target_dir().join("dist");
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
