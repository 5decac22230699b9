//! Just enough HTTP/1.1 over real sockets for the targets that run a real host: writing a
//! request byte for byte (duplicate headers and non-UTF-8 values included), reading a message
//! head and its body, and a recording upstream server.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Header lines as sent or received: names as written, values as bytes, in order.
pub type Lines = Vec<(Vec<u8>, Vec<u8>)>;

/// A parsed message head.
#[derive(Debug)]
pub struct Head {
    /// The start line (`GET / HTTP/1.1`, `HTTP/1.1 200 OK`).
    pub start: String,
    /// The header lines.
    pub headers: Lines,
}

impl Head {
    /// The first value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

fn invalid(message: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.into())
}

/// Reads a message head; `Ok(None)` at a clean end of stream.
pub fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut start = Vec::new();
    if reader.read_until(b'\n', &mut start)? == 0 {
        return Ok(None);
    }
    let start = String::from_utf8_lossy(start.trim_ascii_end()).into_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Err(invalid("the connection closed inside a message head"));
        }
        let line = line.strip_suffix(b"\n").unwrap_or(&line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return Ok(Some(Head { start, headers }));
        }
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| invalid(format!("a header line without ':': {line:?}")))?;
        headers.push((
            line[..colon].to_vec(),
            line[colon + 1..].trim_ascii().to_vec(),
        ));
    }
}

/// Reads the body that follows `head` (`Content-Length` or chunked; none when `bodiless`).
pub fn read_body(
    reader: &mut impl BufRead,
    head: &Head,
    bodiless: bool,
) -> std::io::Result<Vec<u8>> {
    if bodiless {
        return Ok(Vec::new());
    }
    let chunked = head
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"chunked"));
    if chunked {
        let mut body = Vec::new();
        loop {
            let mut size = Vec::new();
            reader.read_until(b'\n', &mut size)?;
            let size = std::str::from_utf8(size.trim_ascii())
                .ok()
                .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or(s), 16).ok())
                .ok_or_else(|| invalid("a bad chunk size"))?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                return Ok(body);
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    let length = head
        .get("content-length")
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// A response as a client received it.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header lines.
    pub headers: Lines,
    /// The body.
    pub body: Vec<u8>,
}

/// Sends one request on a fresh connection, exactly as given, and reads the response.
pub fn exchange(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(Vec<u8>, Vec<u8>)],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(10))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\n").into_bytes();
    for (name, value) in headers {
        request.extend_from_slice(name);
        request.extend_from_slice(b": ");
        request.extend_from_slice(value);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream.write_all(&request)?;
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader)?.ok_or_else(|| invalid("no response"))?;
    let status = head
        .start
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("a bad status line: {}", head.start)))?;
    let bodiless = method == "HEAD" || status == 204 || status == 304 || status < 200;
    let body = read_body(&mut reader, &head, bodiless)?;
    Ok(Response {
        status,
        headers: head.headers,
        body,
    })
}

/// What the recording upstream answers next, and what it saw.
#[derive(Debug, Default)]
struct Script {
    answer: Option<crate::Upstream>,
    saw: Option<Lines>,
}

/// An HTTP/1.1 upstream on 127.0.0.1 that answers each request with the response set by
/// [`RecordingUpstream::expect`] and records the request headers it received. Requests are sent
/// one at a time by the target, so one answer slot is enough.
#[derive(Debug, Clone)]
pub struct RecordingUpstream {
    address: SocketAddr,
    script: Arc<Mutex<Script>>,
}

impl RecordingUpstream {
    /// Starts the server on a free loopback port.
    pub fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let script: Arc<Mutex<Script>> = Arc::default();
        let shared = Arc::clone(&script);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let script = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &script);
                });
            }
        });
        Ok(Self { address, script })
    }

    /// The server's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Sets the answer to the next request and forgets what the last one saw.
    pub fn expect(&self, answer: &crate::Upstream) {
        let mut script = self.script.lock().unwrap_or_else(|p| p.into_inner());
        script.answer = Some(answer.clone());
        script.saw = None;
    }

    /// The header lines of the request answered since [`expect`](Self::expect), if any.
    pub fn saw(&self) -> Option<Lines> {
        self.script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .saw
            .take()
    }
}

fn serve_connection(stream: TcpStream, script: &Mutex<Script>) -> std::io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(head) = read_head(&mut reader)? {
        read_body(&mut reader, &head, false)?;
        let head_request = head.start.starts_with("HEAD ");
        let answer = {
            let mut script = script.lock().unwrap_or_else(|p| p.into_inner());
            script.saw = Some(head.headers);
            script.answer.take().unwrap_or_default()
        };
        let mut response = format!("HTTP/1.1 {} Upstream\r\n", answer.status).into_bytes();
        for (name, value) in &answer.headers {
            response.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        let bodiless = answer.status == 204 || answer.status == 304;
        if !bodiless {
            response
                .extend_from_slice(format!("content-length: {}\r\n", answer.body.len()).as_bytes());
        }
        response.extend_from_slice(b"\r\n");
        if !bodiless && !head_request {
            response.extend_from_slice(answer.body.as_bytes());
        }
        writer.write_all(&response)?;
    }
    Ok(())
}
