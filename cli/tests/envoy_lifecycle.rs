//! `serve --adapter envoy` as a process: it stops Envoy with itself on SIGTERM, Envoy dies with
//! it on SIGKILL, and an invalid
//! configuration is a non-zero exit naming the field, before anything listens.

mod common;

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn sigterm_stops_serve_and_its_envoy() {
    let (mut child, address, lines) = common::spawn_serve(&["--adapter", "envoy", "--quiet"]);
    std::thread::spawn(move || for _ in lines {});
    assert!(
        TcpStream::connect(&address).is_ok(),
        "Envoy listens on {address}"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("waitable") {
            break exit;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "serve exits cleanly on SIGTERM: {exit}");
    // Envoy went with it: nothing listens on its port any more.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&address).is_ok() {
        assert!(
            Instant::now() < deadline,
            "Envoy still listens on {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sigkill_of_serve_takes_its_envoy_down_too() {
    let (mut child, address, lines) = common::spawn_serve(&["--adapter", "envoy", "--quiet"]);
    std::thread::spawn(move || for _ in lines {});
    assert!(
        TcpStream::connect(&address).is_ok(),
        "Envoy listens on {address}"
    );
    child.kill().expect("SIGKILL is delivered");
    child.wait().expect("serve is reaped");
    // No signal handler ran: only the parent death signal can have stopped Envoy.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&address).is_ok() {
        assert!(
            Instant::now() < deadline,
            "Envoy outlived a SIGKILLed serve and still listens on {address}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_invalid_configuration_exits_non_zero_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("polycors-serve-invalid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let config = dir.join("invalid.yaml");
    std::fs::write(
        &config,
        "allow_origins: ['http://a.test/app']\nmax_age: -1\n",
    )
    .expect("written");
    let output = Command::new(env!("CARGO_BIN_EXE_polycors"))
        .args([
            "serve",
            "--adapter",
            "envoy",
            "--listen",
            "127.0.0.1:0",
            "--config",
        ])
        .arg(&config)
        .output()
        .expect("serve runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"allow_origins[0]: "http://a.test/app" is not an origin"#)
            && stderr.contains("max_age: must not be negative"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "nothing listened: {:?}",
        output.stdout
    );
}
