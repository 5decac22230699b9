//! What the plugin logs.

/// One line the plugin logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `trace`, `debug`, `info`, `warn`, `error`, `critical`, or `stdout`/`stderr` for WASI
    /// output.
    pub level: &'static str,
    /// The message.
    pub message: String,
}
