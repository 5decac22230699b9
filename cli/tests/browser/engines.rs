//! The browsers: headless Chromium through ChromeDriver, and WebKitGTK's MiniBrowser on a
//! private Xvfb display. Each loads the runner page and reports, for every fetch the browser
//! blocked, its own CORS error: Chromium's DevTools `corsErrorStatus` (the performance log's
//! `Network.loadingFailed` events), WebKit's console security message.
//!
//! WebKit runs without WebDriver: the views WebKitWebDriver's automation sessions create ignore
//! MiniBrowser's `--enable-write-console-messages-to-stdout` (no console message reaches any
//! output), and the remote inspector server, the other way to read the console, cannot run
//! alongside automation (session creation hangs). Driven by the runner page, MiniBrowser writes
//! every console message, CORS errors included, to its output.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::pages::PageServer;
use crate::support::{Process, free_port, http_json, scratch_dir};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const XVFB: &str = "/usr/bin/Xvfb";

/// How long a runner page may take.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

/// What one run of the runner page produced.
pub struct EngineRun {
    /// The runner's report: step id to what the page saw.
    pub report: Value,
    /// The browser's own CORS error for each URL it blocked.
    pub cors: HashMap<String, String>,
}

pub trait Engine {
    /// `Chromium 156.0.7...` or `WebKitGTK 2.50.6`.
    fn title(&self) -> &str;
    /// Loads `pages`'s runner for `run` in a fresh browser profile and collects the report.
    fn run(&mut self, pages: &PageServer, run: u64) -> Result<EngineRun, String>;
}

// ---------------------------------------------------------------------------------------------

pub struct Chromium {
    _driver: Process,
    address: String,
    title: String,
    runs: u64,
}

impl Chromium {
    pub fn start() -> Self {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: install Debian's Chromium with \
                 `apt-get install -y chromium chromium-driver` (cargo xtask test does it when run as root)"
            );
        }
        let port = free_port();
        let driver = Process(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        let address = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while http_json("GET", &address, "/status", None).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {address}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            _driver: driver,
            address,
            title: "Chromium".into(),
            runs: 0,
        }
    }

    fn command(&self, session: &str, method: &str, name: &str, body: Value) -> Value {
        let path = format!("/session/{session}/{name}");
        let answer = http_json(method, &self.address, &path, Some(&body))
            .unwrap_or_else(|e| panic!("webdriver {name}: {e}"));
        if answer["value"].get("error").is_some() {
            panic!("webdriver {name}: {answer}");
        }
        answer["value"].clone()
    }
}

impl Engine for Chromium {
    fn title(&self) -> &str {
        &self.title
    }

    fn run(&mut self, pages: &PageServer, run: u64) -> Result<EngineRun, String> {
        self.runs += 1;
        let profile = scratch_dir(&format!("chromium-{}", self.runs));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"performance": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let created = http_json("POST", &self.address, "/session", Some(&capabilities))?;
        let session = created["value"]["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no session: {created}"))?
            .to_owned();
        if let Some(version) = created["value"]["capabilities"]["browserVersion"].as_str() {
            self.title = format!("Chromium {version}");
        }
        self.command(
            &session,
            "POST",
            "url",
            json!({ "url": pages.runner_url(run) }),
        );
        let report = pages.report(run, RUN_TIMEOUT);
        let log = self.command(&session, "POST", "se/log", json!({"type": "performance"}));
        let _ = http_json(
            "DELETE",
            &self.address,
            &format!("/session/{session}"),
            None,
        );
        Ok(EngineRun {
            report: report?,
            cors: chromium_cors_errors(&log),
        })
    }
}

/// Each fetch's URL and its `corsErrorStatus.corsError`, from the DevTools performance log.
fn chromium_cors_errors(log: &Value) -> HashMap<String, String> {
    let mut urls: HashMap<String, String> = HashMap::new();
    let mut errors = HashMap::new();
    for entry in log.as_array().into_iter().flatten() {
        let Some(message) = entry["message"]
            .as_str()
            .and_then(|m| serde_json::from_str::<Value>(m).ok())
        else {
            continue;
        };
        let (method, params) = (&message["message"]["method"], &message["message"]["params"]);
        let id = params["requestId"].as_str().unwrap_or_default().to_owned();
        match method.as_str() {
            // A redirect is sent again under the same id: the first URL is the one fetched.
            Some("Network.requestWillBeSent") if params["type"] == "Fetch" => {
                if let Some(url) = params["request"]["url"].as_str() {
                    urls.entry(id).or_insert_with(|| url.to_owned());
                }
            }
            Some("Network.loadingFailed") => {
                let kind = params["corsErrorStatus"]["corsError"].as_str();
                if let (Some(url), Some(kind)) = (urls.get(&id), kind) {
                    errors.insert(url.clone(), kind.to_owned());
                }
            }
            _ => {}
        }
    }
    errors
}

// ---------------------------------------------------------------------------------------------

/// An X server for WebKitGTK, which needs a display.
struct Display {
    server: Process,
    number: u32,
    name: String,
}

/// The lock file an X server keeps for display `number`, holding its process id.
fn x_lock(number: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/.X{number}-lock"))
}

/// Whether display `number` is taken: its lock file names a running process. A lock left by
/// a server that was killed does not count (Xvfb replaces it).
fn display_taken(number: u32) -> bool {
    std::fs::read_to_string(x_lock(number))
        .is_ok_and(|pid| Path::new(&format!("/proc/{}", pid.trim())).exists())
}

impl Drop for Display {
    /// Stops the server and removes its lock file and socket, which a killed Xvfb leaves.
    fn drop(&mut self) {
        let _ = self.server.0.kill();
        let _ = self.server.0.wait();
        let _ = std::fs::remove_file(x_lock(self.number));
        let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{}", self.number));
    }
}

impl Display {
    fn start() -> Self {
        assert!(
            Path::new(XVFB).exists(),
            "{XVFB} is missing: install it with `apt-get install -y xvfb` (cargo xtask test does it when run as root)"
        );
        for number in 90..140 {
            if display_taken(number) {
                continue;
            }
            // What a killed server left, if anything: a stale socket would look ready.
            let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
            let _ = std::fs::remove_file(x_lock(number));
            let _ = std::fs::remove_file(&socket);
            let mut server = Process(
                Command::new(XVFB)
                    .args([
                        &format!(":{number}"),
                        "-screen",
                        "0",
                        "1280x800x24",
                        "-nolisten",
                        "tcp",
                    ])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("Xvfb starts"),
            );
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if socket.exists() {
                    return Self {
                        server,
                        number,
                        name: format!(":{number}"),
                    };
                }
                if let Ok(Some(_)) = server.0.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("Xvfb did not start on any display from :90 to :139");
    }
}

pub struct WebKit {
    display: Display,
    binary: PathBuf,
    title: String,
    runs: u64,
}

/// MiniBrowser, WebKitGTK's test browser (Debian's `libwebkit2gtk-4.1-0`, which
/// `webkit2gtk-driver` depends on).
fn minibrowser() -> Option<PathBuf> {
    let lib = std::fs::read_dir("/usr/lib").ok()?;
    lib.flatten()
        .map(|entry| entry.path().join("webkit2gtk-4.1/MiniBrowser"))
        .find(|path| path.exists())
}

impl WebKit {
    pub fn start() -> Self {
        let binary = minibrowser().unwrap_or_else(|| {
            panic!(
                "WebKitGTK's MiniBrowser (/usr/lib/<arch>/webkit2gtk-4.1/MiniBrowser) is missing: \
                 install it with `apt-get install -y webkit2gtk-driver xvfb` (cargo xtask test does it when run as root)"
            )
        });
        let display = Display::start();
        let version = Command::new(&binary)
            .arg("--version")
            .env("DISPLAY", &display.name)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        Self {
            display,
            binary,
            title: if version.is_empty() {
                "WebKitGTK".into()
            } else {
                version
            },
            runs: 0,
        }
    }
}

impl Engine for WebKit {
    fn title(&self) -> &str {
        &self.title
    }

    fn run(&mut self, pages: &PageServer, run: u64) -> Result<EngineRun, String> {
        self.runs += 1;
        let home = scratch_dir(&format!("webkit-{}", self.runs));
        let mut child = Command::new(&self.binary)
            .arg("--enable-write-console-messages-to-stdout=true")
            .arg(pages.runner_url(run))
            .env("DISPLAY", &self.display.name)
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("MiniBrowser did not start: {e}"))?;
        let streams: Vec<Arc<Mutex<Vec<String>>>> = vec![
            collect(
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn Read + Send>),
            ),
            collect(
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn Read + Send>),
            ),
        ];
        let browser = Process(child);
        let report = pages.report(run, RUN_TIMEOUT);
        // The last console lines are written as the report is sent.
        std::thread::sleep(Duration::from_millis(200));
        drop(browser);
        let mut cors = HashMap::new();
        for stream in &streams {
            cors.extend(webkit_cors_errors(&stream.lock().unwrap()));
        }
        Ok(EngineRun {
            report: report?,
            cors,
        })
    }
}

fn collect(stream: Option<Box<dyn Read + Send>>) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    if let Some(stream) = stream {
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
    }
    lines
}

/// WebKit reports a blocked fetch as a security error (the reason) followed by
/// `Fetch API cannot load URL due to access control checks.`
fn webkit_cors_errors(lines: &[String]) -> HashMap<String, String> {
    const SECURITY: &str = "CONSOLE SECURITY ERROR ";
    const BLOCKED: &str = "CONSOLE JS ERROR Fetch API cannot load ";
    const BLOCKED_END: &str = " due to access control checks.";
    let mut errors = HashMap::new();
    let mut reason: Option<String> = None;
    for line in lines {
        if let Some(at) = line.find(SECURITY) {
            reason = Some(line[at + SECURITY.len()..].trim().to_owned());
        } else if let Some(at) = line.find(BLOCKED) {
            let rest = &line[at + BLOCKED.len()..];
            let url = rest.strip_suffix(BLOCKED_END).unwrap_or(rest).trim();
            let kind = reason
                .take()
                .unwrap_or_else(|| "access control checks".into());
            errors.insert(url.to_owned(), kind);
        }
    }
    errors
}
