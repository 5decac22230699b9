//! A real browser checks every adapter: headless Chromium, on a page served from
//! `http://127.0.0.1:P1`, calls `polycors-serve` on `http://localhost:P2` with `fetch()` and
//! reports what it allowed or blocked; the server's request log says what reached it.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`cargo xtask test` installs them when it
//! can) and the built plugin for the proxy-wasm runs. Writes `docs/browser-compat.md`.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ADAPTERS: [&str; 4] = ["tower", "actix", "proxy-wasm", "envoy"];

/// Kills a child process on drop.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polycors-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

// ---------------------------------------------------------------------------------------------
// A minimal blocking HTTP/1.1 client, enough for the WebDriver protocol.

fn http(method: &str, address: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(120))).ok();
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    // chromedriver may keep the connection open: read the head, then exactly the body.
    let mut reader = BufReader::new(stream);
    let mut length = None;
    let mut chunked = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the connection closed early".into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                _ => {}
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).map_err(|e| e.to_string())?;
            let size = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).map_err(|e| e.to_string())?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = length {
        body.resize(length, 0);
        reader.read_exact(&mut body).map_err(|e| e.to_string())?;
    } else {
        reader.read_to_end(&mut body).map_err(|e| e.to_string())?;
    }
    serde_json::from_slice(&body).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&body)))
}

/// One WebDriver session on headless Chromium.
struct Browser {
    _driver: Process,
    address: String,
    session: String,
    version: String,
}

impl Browser {
    fn start() -> Self {
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
        while http("GET", &address, "/status", None).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on {address}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = scratch_dir("profile");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let created = http("POST", &address, "/session", Some(&capabilities)).expect("a session");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        let version = created["value"]["capabilities"]["browserVersion"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned();
        let browser = Self {
            _driver: driver,
            address,
            session,
            version,
        };
        browser.command("timeouts", json!({"script": 30_000, "pageLoad": 30_000}));
        browser
    }

    fn command(&self, name: &str, body: Value) -> Value {
        let path = format!("/session/{}/{name}", self.session);
        let answer = http("POST", &self.address, &path, Some(&body))
            .unwrap_or_else(|e| panic!("webdriver {name}: {e}"));
        if answer["value"].get("error").is_some() {
            panic!("webdriver {name}: {answer}");
        }
        answer["value"].clone()
    }

    fn open(&self, url: &str) {
        self.command("url", json!({ "url": url }));
    }

    /// Submits a form posting `a=1` to `action` from the page, under the document referrer
    /// policy `no-referrer` (`<meta name=referrer>`: Chromium 156 sends `Origin: null` then,
    /// and still sends the page's origin with only `<form rel=noreferrer>`).
    fn submit_form(&self, action: &str) {
        const SCRIPT: &str = "
            const meta = document.createElement('meta');
            meta.name = 'referrer';
            meta.content = 'no-referrer';
            document.head.appendChild(meta);
            const form = document.createElement('form');
            form.method = 'post';
            form.action = arguments[0];
            const field = document.createElement('input');
            field.name = 'a';
            field.value = '1';
            form.appendChild(field);
            document.body.appendChild(form);
            form.submit();";
        self.command(
            "execute/sync",
            json!({ "script": SCRIPT, "args": [action] }),
        );
    }

    /// Runs `fetch(url, init)` in the page; returns what the page saw.
    fn fetch(&self, url: &str, init: Value) -> Value {
        const SCRIPT: &str = "
            const [url, init] = arguments;
            const done = arguments[arguments.length - 1];
            fetch(url, init)
              .then(async (r) => done({ ok: true, status: r.status,
                  exposed: r.headers.get('x-exposed'), unexposed: r.headers.get('x-unexposed'),
                  body: await r.text() }))
              .catch((e) => done({ ok: false, thrown: e.name + ': ' + e.message }));";
        self.command(
            "execute/async",
            json!({ "script": SCRIPT, "args": [url, init] }),
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.session);
        let _ = http("DELETE", &self.address, &path, None);
    }
}

// ---------------------------------------------------------------------------------------------
// The page's origin: a tiny static server.

fn serve_page() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a page port");
    let address = listener.local_addr().expect("an address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut reader = BufReader::new(stream.try_clone().expect("a stream"));
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let page = "<!doctype html><title>polycors e2e</title><p>page origin</p>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    format!("http://127.0.0.1:{}", address.port())
}

// ---------------------------------------------------------------------------------------------
// polycors-serve instances, with their request logs.

struct Api {
    _process: Process,
    base: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Api {
    fn start(adapter: &str, config: &str, dir: &Path, name: &str) -> Self {
        let file = dir.join(format!("{name}.yaml"));
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
            _process: Process(child),
            base: format!("http://localhost:{port}"),
            log,
        }
    }

    /// The server's log line for the first request with `method` on `path` (its decision and
    /// status), waiting briefly for it; empty when there is none.
    fn line(&self, method: &str, path: &str) -> String {
        let prefix = format!("{method} {path} ");
        self.seen(method, path, 1);
        let log = self.log.lock().unwrap();
        log.iter()
            .find(|l| l.starts_with(&prefix))
            .cloned()
            .unwrap_or_default()
    }

    /// How many requests with `method` on `path` the server has logged, waiting briefly for
    /// the log to catch up with `expected`.
    fn seen(&self, method: &str, path: &str, expected: usize) -> usize {
        let prefix = format!("{method} {path} ");
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let count = self
                .log
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.starts_with(&prefix))
                .count();
            if count >= expected || Instant::now() > deadline {
                return count;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

fn configs(page: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "main",
            format!(
                "allow_origins: ['{page}']\nallow_methods: [GET, PUT, POST]\n\
                 allow_headers: [X-Custom, Content-Type]\nexpose_headers: [X-Exposed]\nmax_age: 600\n"
            ),
        ),
        (
            "credentials",
            "allow_origin_patterns: ['http://127.0.0.1:[*]']\nallow_credentials: true\n\
             allow_headers: ['*']\nallow_methods: [GET, POST]\n"
                .to_owned(),
        ),
        (
            "star-credentials",
            "allow_origins: ['*']\nallow_credentials: true\n".to_owned(),
        ),
        (
            "no-cache",
            format!(
                "allow_origins: ['{page}']\nallow_methods: [PUT]\nallow_headers: [X-Custom]\nmax_age: 0\n"
            ),
        ),
        (
            "other-origin",
            "allow_origins: ['http://other.example']\n".to_owned(),
        ),
        (
            "forward",
            "allow_origins: ['http://other.example']\nforward_disallowed_requests: true\n"
                .to_owned(),
        ),
    ]
}

/// What a scenario expects and what happened.
struct Outcome {
    passed: bool,
    detail: String,
}

fn expect(passed: bool, detail: String) -> Outcome {
    Outcome { passed, detail }
}

fn blocked(result: &Value) -> bool {
    result["ok"] == false
        && result["thrown"]
            .as_str()
            .is_some_and(|e| e.starts_with("TypeError"))
}

fn run_scenarios(browser: &Browser, apis: &BTreeMap<&str, Api>) -> Vec<(&'static str, Outcome)> {
    let main = &apis["main"];
    let mut out = Vec::new();

    let url = format!(
        "{}/response-headers?X-Exposed=yes&X-Unexposed=no",
        main.base
    );
    let r = browser.fetch(&url, json!({}));
    out.push((
        "allowed simple GET; exposed header readable, unexposed not",
        expect(
            r["ok"] == true
                && r["status"] == 200
                && r["exposed"] == "yes"
                && r["unexposed"].is_null(),
            r.to_string(),
        ),
    ));

    let r = browser.fetch(
        &format!("{}/anything/put", main.base),
        json!({"method": "PUT", "headers": {"X-Custom": "1", "Content-Type": "application/json"}, "body": "{}"}),
    );
    let preflights = main.seen("OPTIONS", "/anything/put", 1);
    let puts = main.seen("PUT", "/anything/put", 1);
    out.push((
        "allowed preflighted PUT with custom headers",
        expect(
            r["ok"] == true && r["status"] == 200 && preflights == 1 && puts == 1,
            format!("{r}; server saw {preflights} OPTIONS, {puts} PUT"),
        ),
    ));

    let credentials = &apis["credentials"];
    let r = browser.fetch(
        &format!("{}/anything/credentials", credentials.base),
        json!({"credentials": "include"}),
    );
    out.push((
        "credentialed fetch allowed by a pattern with credentials",
        expect(r["ok"] == true && r["status"] == 200, r.to_string()),
    ));

    let other = &apis["other-origin"];
    let r = browser.fetch(&format!("{}/anything/other", other.base), json!({}));
    let seen = other.seen("GET", "/anything/other", 1);
    out.push((
        "disallowed origin is blocked",
        expect(
            blocked(&r) && seen == 1,
            format!("{r}; server saw {seen} GET (answered 403)"),
        ),
    ));

    let r = browser.fetch(
        &format!("{}/anything/delete", main.base),
        json!({"method": "DELETE"}),
    );
    let preflights = main.seen("OPTIONS", "/anything/delete", 1);
    let deletes = main.seen("DELETE", "/anything/delete", 0);
    out.push((
        "disallowed method is blocked at the preflight",
        expect(
            blocked(&r) && preflights == 1 && deletes == 0,
            format!("{r}; server saw {preflights} OPTIONS, {deletes} DELETE"),
        ),
    ));

    let r = browser.fetch(
        &format!("{}/anything/header", main.base),
        json!({"headers": {"X-Forbidden": "1"}}),
    );
    let preflights = main.seen("OPTIONS", "/anything/header", 1);
    let gets = main.seen("GET", "/anything/header", 0);
    out.push((
        "disallowed request header is blocked at the preflight",
        expect(
            blocked(&r) && preflights == 1 && gets == 0,
            format!("{r}; server saw {preflights} OPTIONS, {gets} GET"),
        ),
    ));

    let r = browser.fetch(
        &format!("{}/anything/authorization", credentials.base),
        json!({"credentials": "include", "headers": {"Authorization": "Bearer t"}}),
    );
    out.push((
        "allow_headers * covers Authorization (credentialed)",
        expect(r["ok"] == true && r["status"] == 200, r.to_string()),
    ));

    let star = &apis["star-credentials"];
    let with = browser.fetch(
        &format!("{}/anything/star", star.base),
        json!({"credentials": "include"}),
    );
    let without = browser.fetch(&format!("{}/anything/star", star.base), json!({}));
    out.push((
        "allow_origins * with credentials: credentialed read blocked, uncredentialed works",
        expect(
            blocked(&with) && without["ok"] == true && without["status"] == 200,
            format!("credentialed {with}; uncredentialed {without}"),
        ),
    ));

    let init = json!({"method": "PUT", "headers": {"X-Custom": "1"}});
    let no_cache = &apis["no-cache"];
    let url = format!("{}/anything/twice", no_cache.base);
    let first = browser.fetch(&url, init.clone());
    let second = browser.fetch(&url, init.clone());
    let uncached = no_cache.seen("OPTIONS", "/anything/twice", 2);
    let url = format!("{}/anything/twice", main.base);
    let third = browser.fetch(&url, init.clone());
    let fourth = browser.fetch(&url, init);
    let cached = main.seen("OPTIONS", "/anything/twice", 1);
    out.push((
        "max_age 0 preflights every time; max_age 600 caches",
        expect(
            [&first, &second, &third, &fourth]
                .iter()
                .all(|r| r["ok"] == true)
                && uncached == 2
                && cached == 1,
            format!("max_age 0: {uncached} preflights for 2 fetches; max_age 600: {cached}"),
        ),
    ));

    let forward = &apis["forward"];
    let r = browser.fetch(&format!("{}/anything/forwarded", forward.base), json!({}));
    let line = forward.line("GET", "/anything/forwarded");
    out.push((
        "forward_disallowed_requests: a disallowed origin reaches the application, the browser blocks the read",
        expect(
            blocked(&r)
                && line.contains("-> disallowed: origin-not-allowed [global] -> 200"),
            format!("{r}; server logged {line:?}"),
        ),
    ));

    // Last: it leaves the page for one on the API's own origin, whose form posts (under
    // `no-referrer`) carry `Origin: null`; `main` does not allow `null`.
    browser.open(&format!("{}/", main.base));
    browser.submit_form(&format!("{}/anything/null-origin", main.base));
    let line = main.line("POST", "/anything/null-origin");
    out.push((
        "same-origin form post under no-referrer (Origin: null) reaches the application",
        expect(
            line.contains("origin=null -> not-cors [global] -> 200"),
            format!("server logged {line:?}"),
        ),
    ));
    out
}

#[test]
fn chromium_accepts_and_blocks_what_the_spec_says_on_every_adapter() {
    let browser = Browser::start();
    let page = serve_page();
    let dir = scratch_dir("configs");
    let mut table: Vec<(&'static str, Vec<bool>)> = Vec::new();
    let mut failures = Vec::new();
    for (column, adapter) in ADAPTERS.iter().enumerate() {
        let apis: BTreeMap<&str, Api> = configs(&page)
            .into_iter()
            .map(|(name, config)| {
                (
                    name,
                    Api::start(adapter, &config, &dir, &format!("{adapter}-{name}")),
                )
            })
            .collect();
        browser.open(&format!("{page}/"));
        for (index, (scenario, outcome)) in run_scenarios(&browser, &apis).into_iter().enumerate() {
            if column == 0 {
                table.push((scenario, Vec::new()));
            }
            table[index].1.push(outcome.passed);
            if !outcome.passed {
                failures.push(format!("{adapter}: {scenario}: {}", outcome.detail));
            }
        }
    }
    write_report(&browser.version, &table);
    assert!(
        failures.is_empty(),
        "Chromium disagrees:\n{}",
        failures.join("\n")
    );
}

fn write_report(version: &str, table: &[(&str, Vec<bool>)]) {
    let mut text = format!(
        "# Browser compatibility\n\n\
         Produced by `cargo xtask e2e` (`serve/tests/browser.rs`): headless Chromium {version} \
         (Debian), page on `http://127.0.0.1:P1`, API (`polycors-serve`) on `http://localhost:P2`, \
         one browser for every run. A pass means the browser allowed or blocked exactly as \
         docs/behaviour.md says and the server saw the requests it should.\n\n\
         | scenario | {} |\n|---|{}\n",
        ADAPTERS.join(" | "),
        "---|".repeat(ADAPTERS.len())
    );
    for (scenario, results) in table {
        let cells: Vec<&str> = results
            .iter()
            .map(|&ok| if ok { "pass" } else { "FAIL" })
            .collect();
        text.push_str(&format!("| {scenario} | {} |\n", cells.join(" | ")));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/browser-compat.md");
    std::fs::write(&path, text).expect("docs/browser-compat.md is writable");
}
