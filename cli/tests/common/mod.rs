//! Starting `polycors serve` from the integration tests.

use std::io::{BufRead, BufReader, Lines, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

/// Starts `polycors serve` with `args` (plus `--listen 127.0.0.1:0`) and waits for its first
/// line; returns the child, the address it listens on and its remaining output (the request
/// log). Fails with the server's stderr if it does not start.
pub fn spawn_serve(args: &[&str]) -> (Child, String, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polycors"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("polycors serve starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    match first.split("listening on http://").nth(1) {
        Some(address) => (child, address.to_owned(), lines),
        None => {
            let _ = child.kill();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("polycors serve {args:?} did not start: {first}\n{stderr}");
        }
    }
}
