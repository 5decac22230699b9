//! Command line and configuration.

use std::net::SocketAddr;
use std::path::PathBuf;

pub const USAGE: &str = "\
polycors-serve: a local HTTP server enforcing a CORS policy in front of an httpbin-like upstream

USAGE: cargo xtask serve [--listen ADDR] [--config FILE] [--adapter tower|actix|proxy-wasm|envoy] [--wasm FILE]

  --listen ADDR     where to listen (default 127.0.0.1:8080; port 0 picks a free port)
  --config FILE     the policy, YAML or JSON (default: the seed's test WasmPlugin config);
                    `_rules_` are honoured by the proxy-wasm and envoy adapters only
  --adapter NAME    tower (default), actix, proxy-wasm (the built plugin in polycors-wasm-host)
                    or envoy (the built plugin in a real Envoy 1.40, installed by cargo xtask)
  --wasm FILE       the plugin for --adapter proxy-wasm or envoy (default: the `cargo xtask build` output)
  --no-policy       serve the upstream without any CORS policy (the baseline of `cargo xtask load`)
  --quiet           no per-request log lines

Upstream: /anything[/...] echoes the request as JSON; /response-headers?Name=Value answers with
those headers; /status/CODE answers with that status.";

/// Which host runs the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adapter {
    /// polycors-tower on hyper.
    Tower,
    /// polycors-actix on actix-web.
    Actix,
    /// The proxy-wasm plugin in polycors-wasm-host, on hyper.
    ProxyWasm,
    /// The proxy-wasm plugin in a real Envoy.
    Envoy,
}

impl Adapter {
    pub fn name(self) -> &'static str {
        match self {
            Self::Tower => "tower",
            Self::Actix => "actix",
            Self::ProxyWasm => "proxy-wasm",
            Self::Envoy => "envoy",
        }
    }
}

/// The parsed command line.
#[derive(Debug)]
pub struct Options {
    pub listen: SocketAddr,
    pub config: Option<PathBuf>,
    pub adapter: Adapter,
    pub wasm: Option<PathBuf>,
    pub no_policy: bool,
    pub quiet: bool,
}

impl Options {
    pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut options = Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            config: None,
            adapter: Adapter::Tower,
            wasm: None,
            no_policy: false,
            quiet: false,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--listen" => {
                    let text = value()?;
                    options.listen = text.parse().map_err(|_| {
                        format!("--listen {text:?}: expected an address such as 127.0.0.1:8080")
                    })?;
                }
                "--config" => options.config = Some(PathBuf::from(value()?)),
                "--wasm" => options.wasm = Some(PathBuf::from(value()?)),
                "--adapter" => {
                    options.adapter = match value()?.as_str() {
                        "tower" => Adapter::Tower,
                        "actix" | "actix-web" => Adapter::Actix,
                        "proxy-wasm" | "wasm" => Adapter::ProxyWasm,
                        "envoy" => Adapter::Envoy,
                        other => {
                            return Err(format!(
                                "--adapter {other:?}: expected tower, actix, proxy-wasm or envoy"
                            ));
                        }
                    }
                }
                "--no-policy" => options.no_policy = true,
                "--quiet" => options.quiet = true,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(options)
    }

    /// The configuration text and where it came from.
    pub fn config_text(&self) -> Result<(String, String), String> {
        match &self.config {
            None => Ok((
                polycors_artifacts::SEED_CONFIG.to_owned(),
                "the seed's test WasmPlugin config (built in)".into(),
            )),
            Some(path) => std::fs::read_to_string(path)
                .map(|text| (text, path.display().to_string()))
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
        }
    }
}
