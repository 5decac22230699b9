//! Starts `polycors serve` for each adapter on a free loopback port and replays the seed's curl
//! transcripts (`cors-plugin.md`, "Request Testing") over real TCP.
//!
//! The proxy-wasm run needs the built plugin (`cargo xtask build`; the README's test command
//! builds it first).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;

/// A running server, stopped on drop.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(adapter: &str) -> Self {
        let (child, address, lines) = common::spawn_serve(&["--adapter", adapter]);
        // Keep draining the request log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, address }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as curl shows it.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The policy's headers: `access-control-*`, `x-cors-version` and `vary`, lowercase names.
    fn cors_headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
            .filter(|(n, _)| {
                n.starts_with("access-control-") || n == "x-cors-version" || n == "vary"
            })
            .collect();
        out.sort();
        out
    }
}

/// Sends one HTTP/1.1 request like `curl -v -X METHOD -H ... http://ADDR/anything/get?foo=1`.
fn curl(address: &str, method: &str, headers: &[(&str, &str)]) -> Response {
    curl_path(address, method, "/anything/get?foo=1", headers)
}

/// Sends one HTTP/1.1 request like `curl -v -X METHOD -H ... http://ADDR/PATH`.
fn curl_path(address: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
    let mut stream = TcpStream::connect(address).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("User-Agent: curl/8.0\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("sends");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("reads");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = list
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    out.sort();
    out
}

const ORIGIN_OK: (&str, &str) = ("Origin", "http://httpbin2.example.org:9090");
const HOST: (&str, &str) = ("Host", "httpbin.example.com");
/// §4 adds `Vary` where the seed sent none.
const VARY_PREFLIGHT: (&str, &str) = (
    "vary",
    "Origin,Access-Control-Request-Method,Access-Control-Request-Headers",
);

fn replay_seed_transcripts(adapter: &str) {
    let server = Server::start(adapter);
    let address = server.address.as_str();

    // Simple Request.
    let simple = curl(address, "GET", &[ORIGIN_OK, HOST]);
    assert_eq!(simple.status, 200, "{adapter}: simple request");
    assert_eq!(
        simple.cors_headers(),
        pairs(&[
            ("x-cors-version", "1.0.0"),
            (
                "access-control-allow-origin",
                "http://httpbin2.example.org:9090"
            ),
            ("access-control-expose-headers", "X-Custom-Header,X-Env-UTM"),
            ("access-control-allow-credentials", "true"),
            ("vary", "Origin"),
        ]),
        "{adapter}: simple request"
    );
    assert!(
        simple.body.contains("\"foo\": \"1\""),
        "{adapter}: the upstream's echo: {}",
        simple.body
    );

    // Preflight Request.
    let preflight = curl(
        address,
        "OPTIONS",
        &[
            ORIGIN_OK,
            HOST,
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "Content-Type, Token"),
        ],
    );
    assert_eq!(preflight.status, 200, "{adapter}: preflight");
    assert_eq!(
        preflight.cors_headers(),
        pairs(&[
            ("x-cors-version", "1.0.0"),
            (
                "access-control-allow-origin",
                "http://httpbin2.example.org:9090"
            ),
            ("access-control-allow-methods", "GET,POST,PATCH"),
            (
                "access-control-allow-headers",
                "Content-Type,Token,Authorization"
            ),
            ("access-control-expose-headers", "X-Custom-Header,X-Env-UTM"),
            ("access-control-allow-credentials", "true"),
            ("access-control-max-age", "3600"),
            VARY_PREFLIGHT,
        ]),
        "{adapter}: preflight"
    );
    assert_eq!(
        preflight.header("content-length"),
        Some("0"),
        "{adapter}: preflight"
    );
    assert_eq!(preflight.body, "", "{adapter}: preflight");

    // The three illegal preflights.
    let rejections: [(&str, &[(&str, &str)]); 3] = [
        (
            "illegal origin",
            &[
                ("Origin", "http://httpbin2.example.org"),
                HOST,
                ("Access-Control-Request-Method", "GET"),
            ],
        ),
        (
            "illegal method",
            &[ORIGIN_OK, HOST, ("Access-Control-Request-Method", "DELETE")],
        ),
        (
            "illegal header",
            &[
                ORIGIN_OK,
                HOST,
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "TokenView"),
            ],
        ),
    ];
    for (name, headers) in rejections {
        let response = curl(address, "OPTIONS", headers);
        assert_eq!(response.status, 403, "{adapter}: {name}");
        assert_eq!(
            response.header("content-type"),
            Some("text/plain"),
            "{adapter}: {name}"
        );
        assert_eq!(
            response.cors_headers(),
            pairs(&[("x-cors-version", "1.0.0"), VARY_PREFLIGHT]),
            "{adapter}: {name}"
        );
        assert_eq!(response.body, "Invalid CORS request", "{adapter}: {name}");
    }
}

#[test]
fn tower_serves_the_seed_transcripts() {
    replay_seed_transcripts("tower");
}

#[test]
fn actix_serves_the_seed_transcripts() {
    replay_seed_transcripts("actix");
}

#[test]
fn proxy_wasm_serves_the_seed_transcripts() {
    replay_seed_transcripts("proxy-wasm");
}

#[test]
fn envoy_serves_the_seed_transcripts() {
    replay_seed_transcripts("envoy");
}

#[test]
fn envoy_module_serves_the_seed_transcripts() {
    replay_seed_transcripts("envoy-module");
}

/// A response as the README's curl shows it, without what differs by server and by second.
fn comparable(response: &Response) -> (u16, Vec<(String, String)>, String) {
    let mut headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "date" | "server" | "x-envoy-upstream-service-time"
            )
        })
        .collect();
    headers.sort();
    (response.status, headers, response.body.clone())
}

/// A request of a transcript: method, path, headers.
type Transcript<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);

/// The README's five curl transcripts, and one through `/response-headers`, give the same
/// status, headers and body on every adapter (modulo `date` and `server`).
#[test]
fn every_adapter_answers_the_readme_transcripts_alike() {
    let requests: [Transcript; 6] = [
        (
            "OPTIONS",
            "/anything/get?foo=1",
            &[
                ORIGIN_OK,
                HOST,
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "Content-Type, Token"),
            ],
        ),
        ("GET", "/anything/get?foo=1", &[ORIGIN_OK, HOST]),
        (
            "OPTIONS",
            "/anything/get?foo=1",
            &[
                ("Origin", "http://httpbin2.example.org"),
                HOST,
                ("Access-Control-Request-Method", "GET"),
            ],
        ),
        (
            "OPTIONS",
            "/anything/get?foo=1",
            &[ORIGIN_OK, HOST, ("Access-Control-Request-Method", "DELETE")],
        ),
        (
            "OPTIONS",
            "/anything/get?foo=1",
            &[
                ORIGIN_OK,
                HOST,
                ("Access-Control-Request-Method", "GET"),
                ("Access-Control-Request-Headers", "TokenView"),
            ],
        ),
        (
            "GET",
            "/response-headers?Access-Control-Allow-Origin=*&Vary=Accept-Encoding&X-Custom-Header=1",
            &[ORIGIN_OK, HOST],
        ),
    ];
    let adapters = ["tower", "actix", "proxy-wasm", "envoy", "envoy-module"];
    let answers: Vec<Vec<_>> = adapters
        .iter()
        .map(|adapter| {
            let server = Server::start(adapter);
            requests
                .iter()
                .map(|(method, path, headers)| {
                    comparable(&curl_path(&server.address, method, path, headers))
                })
                .collect()
        })
        .collect();
    for (adapter, answer) in adapters.iter().zip(&answers).skip(1) {
        for (index, (expected, actual)) in answers[0].iter().zip(answer).enumerate() {
            assert_eq!(
                actual, expected,
                "{adapter} answers request {index} unlike tower"
            );
        }
    }
}
