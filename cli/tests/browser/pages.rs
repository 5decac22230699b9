//! The pages' origins: a tiny HTTP server that serves the runner page (with its plan), the frame
//! page a second origin uses, and takes the runner's report.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

const RUNNER: &str = include_str!("runner.js");

#[derive(Default)]
struct State {
    plans: HashMap<u64, String>,
    reports: HashMap<u64, Value>,
}

/// One page origin, `http://localhost:PORT`.
pub struct PageServer {
    pub origin: String,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl PageServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a page port");
        let port = listener.local_addr().expect("an address").port();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        Self {
            origin: format!("http://localhost:{port}"),
            state,
        }
    }

    /// Registers the plan of run `run`; the runner page for it is [`Self::runner_url`].
    pub fn set_plan(&self, run: u64, plan: &Value) {
        let (state, _) = &*self.state;
        state.lock().unwrap().plans.insert(run, plan.to_string());
    }

    pub fn runner_url(&self, run: u64) -> String {
        format!("{}/runner?run={run}", self.origin)
    }

    pub fn frame_url(&self) -> String {
        format!("{}/frame", self.origin)
    }

    /// Waits for the report of run `run`.
    pub fn report(&self, run: u64, within: Duration) -> Result<Value, String> {
        let (state, reported) = &*self.state;
        let deadline = Instant::now() + within;
        let mut guard = state.lock().unwrap();
        loop {
            if let Some(report) = guard.reports.remove(&run) {
                return Ok(report);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("the runner page sent no report within {within:?}"));
            }
            guard = reported.wait_timeout(guard, left).unwrap().0;
        }
    }
}

fn serve(stream: TcpStream, state: &(Mutex<State>, Condvar)) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let run: u64 = query
        .strip_prefix("run=")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let (status, content_type, content) = match (method, path) {
        ("GET", "/runner") => {
            let plan = state.0.lock().unwrap().plans.get(&run).cloned();
            match plan {
                Some(plan) => ("200 OK", "text/html", page(Some(&plan))),
                None => ("404 Not Found", "text/plain", "no such run".to_owned()),
            }
        }
        ("GET", "/frame") => ("200 OK", "text/html", page(None)),
        ("POST", "/report") => {
            let report = serde_json::from_slice(&body).unwrap_or(Value::Null);
            state.0.lock().unwrap().reports.insert(run, report);
            state.1.notify_all();
            ("200 OK", "text/plain", String::new())
        }
        _ => ("404 Not Found", "text/plain", "not found".to_owned()),
    };
    let mut stream = stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{content}",
        content.len()
    );
}

/// The runner page (with its plan) or the frame page.
fn page(plan: Option<&str>) -> String {
    // `</` cannot end the script early: JSON escapes `/` only when asked, so escape `<`.
    let plan = plan.map(|p| p.replace('<', "\\u003c")).unwrap_or_default();
    format!(
        "<!doctype html><meta charset=utf-8><title>polycors browser suite</title><body>\
         <script type=\"application/json\" id=\"plan\">{plan}</script><script>{RUNNER}</script>"
    )
}
