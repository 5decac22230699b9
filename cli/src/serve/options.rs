//! `polycors serve`'s command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use polycors::ScopedPolicies;
use polycors::document::Severity;

use crate::input;

/// Arguments of `polycors serve`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Upstream: /anything[/...] echoes the request as JSON; /response-headers?Name=Value answers with
those headers; /status/CODE answers with that status.")]
pub struct ServeArgs {
    /// Where to listen (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The policy: YAML or JSON, or a WasmPlugin resource (default: the seed's test WasmPlugin
    /// configuration). `_rules_` are honoured by the proxy-wasm and envoy adapters only.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// tower, actix, proxy-wasm (the built plugin in polycors-wasm-host), envoy (the built
    /// plugin in a real Envoy 1.40, installed by `cargo xtask`) or envoy-module (the built
    /// dynamic module in that Envoy).
    #[arg(long, value_enum, default_value_t = Adapter::Tower)]
    pub adapter: Adapter,
    /// The plugin for --adapter proxy-wasm or envoy (default: the `cargo xtask build` output).
    #[arg(long, value_name = "FILE")]
    pub wasm: Option<PathBuf>,
    /// Serve the upstream without any CORS policy (the baseline of `cargo xtask load`).
    #[arg(long)]
    pub no_policy: bool,
    /// No per-request log lines.
    #[arg(long)]
    pub quiet: bool,
}

/// Which host runs the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Adapter {
    /// polycors-tower on hyper.
    Tower,
    /// polycors-actix on actix-web.
    #[value(alias = "actix-web")]
    Actix,
    /// The proxy-wasm plugin in polycors-wasm-host, on hyper.
    #[value(alias = "wasm")]
    ProxyWasm,
    /// The proxy-wasm plugin in a real Envoy.
    Envoy,
    /// The Envoy dynamic module (native) in a real Envoy.
    EnvoyModule,
}

impl Adapter {
    /// The adapter's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Tower => "tower",
            Self::Actix => "actix",
            Self::ProxyWasm => "proxy-wasm",
            Self::Envoy => "envoy",
            Self::EnvoyModule => "envoy-module",
        }
    }
}

impl ServeArgs {
    /// The configured policies and where they came from. Warnings go to stderr; errors fail.
    pub fn policies(&self) -> Result<(ScopedPolicies, String), String> {
        let (documents, source) = match &self.config {
            None => (
                polycors::document::load_documents(polycors_artifacts::SEED_CONFIG.as_bytes()),
                "the seed's test WasmPlugin config (built in)".to_owned(),
            ),
            Some(path) => (input::read(path)?.documents, path.display().to_string()),
        };
        let documents = documents.map_err(|e| format!("invalid configuration ({source}):\n{e}"))?;
        let mut cors = documents.iter().filter(|d| d.is_cors_configuration());
        let (Some(document), None) = (cors.next(), cors.next()) else {
            return Err(format!(
                "{source}: expected exactly one CORS configuration (`polycors check {source}` lists them)"
            ));
        };
        // serve runs no application code: a policy needing an origin predicate is an error.
        let checked = document.check_for_gateway();
        for finding in &checked.findings {
            match finding.severity {
                Severity::Warning => eprintln!("warning: {}: {}", finding.path, finding.message),
                Severity::Note | Severity::Error => {}
            }
        }
        match checked.policies {
            Some(policies) => Ok((policies, source)),
            None => {
                let errors: Vec<String> = checked
                    .findings
                    .iter()
                    .filter(|f| f.severity == Severity::Error)
                    .map(|f| format!("{}: {}", f.path, f.message))
                    .collect();
                Err(format!(
                    "invalid configuration ({source}):\n{}",
                    errors.join("\n")
                ))
            }
        }
    }
}
