//! The APIs the pages call: `polycors serve` instances, one per configuration, with their
//! request logs (one line per request: `METHOD PATH origin=... -> DECISION [POLICY] -> STATUS`).

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common;
use crate::support::Process;

pub struct Api {
    process: Option<Process>,
    pub base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Api {
    pub fn start(adapter: &str, config: &str, dir: &Path, name: &str) -> Self {
        let file = dir.join(format!("{adapter}-{name}.yaml"));
        std::fs::write(&file, config).expect("a config file");
        let file = file.to_string_lossy().into_owned();
        let (child, address, lines) =
            common::spawn_serve(&["--adapter", adapter, "--config", &file]);
        let port = address.rsplit(':').next().expect("a port").to_owned();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Self {
            process: Some(Process(child)),
            base: format!("http://localhost:{port}"),
            log,
        }
    }

    /// Stops the server: its address then refuses connections.
    pub fn stop(&mut self) {
        self.process = None;
    }

    /// The log lines of requests with `method` on exactly `path`.
    fn lines(&self, method: &str, path: &str) -> Vec<String> {
        let prefix = format!("{method} {path} ");
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.starts_with(&prefix))
            .cloned()
            .collect()
    }

    /// How many requests with `method` on `path` the server logged: waits up to 2 s for
    /// `expected`, then a little longer, so that one more than expected is seen too.
    pub fn count(&self, method: &str, path: &str, expected: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(2);
        while self.lines(method, path).len() < expected && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        self.lines(method, path).len()
    }

    /// The log line of the first request with `method` on `path` (empty when there is none).
    pub fn line(&self, method: &str, path: &str) -> String {
        self.count(method, path, 1);
        self.lines(method, path)
            .into_iter()
            .next()
            .unwrap_or_default()
    }
}
