//! Errors of the host.

use std::fmt;
use std::path::PathBuf;

/// What went wrong while loading or running a plugin.
#[derive(Debug)]
pub enum HostError {
    /// The `.wasm` file is missing: build it first.
    MissingModule {
        /// Where the file was expected.
        path: PathBuf,
    },
    /// The module could not be read, compiled or linked.
    Load(String),
    /// `proxy_on_configure` returned false; the plugin logged why.
    ConfigureFailed {
        /// The plugin's log lines at warning level and above.
        log: Vec<String>,
    },
    /// The plugin trapped (a panic in the plugin, or a host call it must not make).
    Trap(String),
    /// The plugin paused the request without answering it: Envoy would hold the stream open.
    Stalled,
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingModule { path } => write!(
                f,
                "the plugin {} is missing: build it with `cargo xtask build`",
                path.display()
            ),
            Self::Load(message) => write!(f, "cannot load the plugin: {message}"),
            Self::ConfigureFailed { log } => {
                write!(f, "the plugin rejected its configuration")?;
                for line in log {
                    write!(f, "\n  {line}")?;
                }
                Ok(())
            }
            Self::Trap(message) => write!(f, "the plugin trapped: {message}"),
            Self::Stalled => write!(f, "the plugin paused the request and never answered it"),
        }
    }
}

impl std::error::Error for HostError {}
