//! polycors in a real Envoy, as the proxy-wasm plugin (`--adapter envoy`) or as the dynamic
//! module (`--adapter envoy-module`): the built-in upstream on a free loopback port, and Envoy
//! (installed by `cargo xtask`) listening on `--listen` with the filter in front of a route to
//! it. Envoy's log is followed for the filter's per-request lines.

use std::io::{Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use polycors_envoy_runner::{
    Bootstrap, Cluster, Envoy, EnvoyError, HttpFilter, Listener, Options, Route,
};

use super::log;
use super::{WORKERS, hyper_front, runtime};

/// The listener's name in Envoy's configuration.
const LISTENER: &str = "polycors-serve";

/// Runs Envoy with `filter` (or no filter at all for `--no-policy`) until Ctrl-C or SIGTERM.
pub fn serve(
    listen: SocketAddr,
    filter: Option<HttpFilter>,
    announce: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let runtime = runtime()?;
    // The handlers are in place before anything is announced: a SIGTERM sent as soon as the
    // address is printed must stop Envoy and exit cleanly, not kill this process outright.
    let (mut terminate, mut interrupt) = {
        let _context = runtime.enter();
        let stream = |kind| signal(kind).map_err(|e| format!("cannot handle signals: {e}"));
        (
            stream(SignalKind::terminate())?,
            stream(SignalKind::interrupt())?,
        )
    };
    let upstream = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot start the upstream: {e}"))?;
    let upstream_address = upstream.local_addr().map_err(|e| e.to_string())?;
    upstream.set_nonblocking(true).map_err(|e| e.to_string())?;
    runtime.spawn(async move {
        match tokio::net::TcpListener::from_std(upstream) {
            Ok(listener) => {
                let _ = hyper_front::serve_plain(listener).await;
            }
            Err(e) => eprintln!("upstream: {e}"),
        }
    });

    let logger = match filter {
        Some(HttpFilter::DynamicModule { .. }) => "dynamic_modules",
        _ => "wasm",
    };
    let filters = filter.into_iter().collect();
    let bootstrap = Bootstrap {
        listeners: vec![Listener {
            name: LISTENER.into(),
            address: Some(listen),
            filters,
            // The upstream sees what it sees behind the other adapters.
            routes: vec![Route {
                remove_request_headers: vec!["x-forwarded-proto".into()],
                ..Route::to_cluster("httpbin")
            }],
        }],
        clusters: vec![Cluster {
            name: "httpbin".into(),
            address: upstream_address,
        }],
    };
    let options = Options {
        concurrency: u32::try_from(WORKERS).unwrap_or(2),
        log_level: "warning".into(),
        component_log_level: (!log::quiet()).then(|| format!("{logger}:debug")),
        // This thread owns Envoy until the end: killing polycors serve stops Envoy too.
        die_with_parent: true,
        ..Options::default()
    };
    let mut envoy = Envoy::start(&bootstrap, &options).map_err(|error| match error {
        EnvoyError::Exited { log, .. } => {
            let plugin: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("invalid configuration") || l.contains("polycors"))
                .collect();
            if plugin.is_empty() {
                format!("Envoy refused to start; its log:\n{log}")
            } else {
                format!("Envoy refused to start:\n{}", plugin.join("\n"))
            }
        }
        other => other.to_string(),
    })?;
    let address = envoy
        .listener(LISTENER)
        .ok_or("Envoy started without its listener")?;
    announce(address);

    let log_path = envoy.log_path();
    std::thread::spawn(move || follow(&log_path, logger));
    runtime.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                _ = interrupt.recv() => return Ok(()),
                _ = terminate.recv() => return Ok(()),
                _ = tick.tick() => {
                    if let Some(status) = envoy.exited() {
                        return Err(format!("Envoy exited ({status}); its log:\n{}", envoy.log()));
                    }
                }
            }
        }
    })?;
    envoy.stop();
    Ok(())
}

/// Prints the filter's per-request lines as Envoy logs them, and the errors of `logger`.
fn follow(path: &Path, logger: &str) {
    let marker = format!("][{logger}]");
    let mut offset = 0;
    let mut pending = String::new();
    loop {
        if let Ok(mut file) = std::fs::File::open(path)
            && file.seek(SeekFrom::Start(offset)).is_ok()
        {
            let mut bytes = Vec::new();
            if let Ok(read) = file.read_to_end(&mut bytes) {
                offset += read as u64;
                pending.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            if let Some(request) = log::plugin_line(&line) {
                println!("{request}");
            } else if line.contains(&marker)
                && (line.contains("[error]") || line.contains("[critical]"))
            {
                // Configuration warnings were printed once at start; errors are news.
                eprint!("envoy: {line}");
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
