//! Running commands: cargo from the workspace root, echoed, failures named.

use std::process::Command;

/// `cargo`, run from the workspace root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(polycors_artifacts::workspace_root());
    command
}

/// How a command is shown in messages.
pub fn shown(command: &Command) -> String {
    std::iter::once(command.get_program().to_string_lossy())
        .chain(command.get_args().map(|a| a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `command`, echoing it; a failure names the command.
pub fn execute(command: &mut Command) -> Result<(), String> {
    let shown = shown(command);
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

/// Whether `program --version`-style probing finds `program` (it ran at all).
pub fn exists(program: &str, probe: &str) -> bool {
    Command::new(program).arg(probe).output().is_ok()
}

/// The `[--seconds N]` argument of `command`, or `default`.
pub fn seconds_arg(args: &[String], default: u64, command: &str) -> Result<u64, String> {
    match args {
        [] => Ok(default),
        [flag, value] if flag == "--seconds" => value
            .parse()
            .map_err(|_| format!("--seconds {value:?}: expected a whole number")),
        _ => Err(format!("usage: cargo xtask {command} [--seconds N]")),
    }
}
