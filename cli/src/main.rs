//! `polycors`: check and explain CORS configurations (plain policies, the plugin's JSON and
//! Higress `WasmPlugin` resources), and serve a local server that enforces one.
//!
//! Exit status: 0 success, 1 an invalid configuration (or, with `check --deny-warnings`, a
//! warning), 2 a usage error (bad arguments, unreadable file).

#![forbid(unsafe_code)]

mod check;
mod explain;
mod input;
mod locate;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Check, explain and serve CORS policies (polycors).
#[derive(Debug, Parser)]
#[command(name = "polycors", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check configuration files: every error and warning, with where it is.
    ///
    /// Accepts plain policies (YAML or JSON, `_rules_` included: the JSON Higress hands the
    /// plugin) and Higress `WasmPlugin` resources (several YAML documents per file; other
    /// Kubernetes resources in the file are skipped). Exit 0 when every file is valid, 1 when
    /// one is not (or has a warning, with --deny-warnings), 2 on usage errors.
    Check(check::CheckArgs),
    /// Explain what a configuration does to one request: which policy applies and why, the
    /// decision, and the exact status and headers sent.
    ///
    /// Exit 0 whatever the decision, 1 when the configuration is invalid, 2 on usage errors.
    Explain(explain::ExplainArgs),
    /// Run a local HTTP server enforcing a policy (the built-in default is the seed's test
    /// configuration) in front of an httpbin-like upstream.
    Serve(serve::ServeArgs),
}

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document, for scripts.
    Json,
}

/// How a command ended, as the exit status says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 0
    Success,
    /// 1: an invalid configuration.
    Invalid,
    /// 2: bad arguments or an unreadable file.
    Usage,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        ExitCode::from(match outcome {
            Outcome::Success => 0,
            Outcome::Invalid => 1,
            Outcome::Usage => 2,
        })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check::run(&args).into(),
        Command::Explain(args) => explain::run(&args).into(),
        Command::Serve(args) => match serve::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::FAILURE
            }
        },
    }
}
