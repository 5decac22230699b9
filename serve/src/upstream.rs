//! The built-in httpbin-like upstream, shared by every adapter.

use serde_json::{Map, Value, json};

/// A request as the upstream sees it.
pub struct UpstreamRequest<'a> {
    pub method: &'a str,
    /// Path and query.
    pub target: &'a str,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: &'a [u8],
}

/// The upstream's answer.
pub struct UpstreamResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl UpstreamResponse {
    fn json(status: u16, value: &Value) -> Self {
        let mut body = serde_json::to_vec_pretty(value).unwrap_or_default();
        body.push(b'\n');
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: text.as_bytes().to_vec(),
        }
    }
}

/// Answers like httpbin: `/anything...` echoes the request, `/response-headers?A=B` sets
/// headers, `/status/N` answers with status N.
pub fn httpbin(request: &UpstreamRequest<'_>) -> UpstreamResponse {
    let (path, query) = request
        .target
        .split_once('?')
        .unwrap_or((request.target, ""));
    let args = query_pairs(query);
    if path == "/anything" || path.starts_with("/anything/") {
        return UpstreamResponse::json(200, &echo(request, &args));
    }
    if path == "/response-headers" {
        let mut response = UpstreamResponse::json(200, &Value::Object(to_object(&args)));
        for (name, value) in &args {
            let valid_name = !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if valid_name
                && value
                    .bytes()
                    .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
            {
                response.headers.push((name.clone(), value.clone()));
            }
        }
        return response;
    }
    if let Some(code) = path.strip_prefix("/status/") {
        return match code.parse::<u16>() {
            Ok(status @ 100..=999) => UpstreamResponse::text(status, ""),
            _ => UpstreamResponse::text(400, "invalid status code\n"),
        };
    }
    if path == "/" {
        return UpstreamResponse::text(
            200,
            "polycors serve upstream: try /anything, /response-headers?X-Custom-Header=1, /status/418\n",
        );
    }
    UpstreamResponse::text(404, "not found\n")
}

/// Hop-by-hop headers (RFC 9110, 7.6.1): a proxy in front of the upstream drops them, so the
/// echo leaves them out and reads the same behind every adapter.
const HOP_BY_HOP: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
];

fn echo(request: &UpstreamRequest<'_>, args: &[(String, String)]) -> Value {
    // Sorted by name, as httpbin shows them: the same whatever order the server stored them in.
    let mut lines: Vec<&(String, Vec<u8>)> = request
        .headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.iter().any(|h| name.eq_ignore_ascii_case(h)))
        .collect();
    lines.sort_by_key(|line| line.0.to_ascii_lowercase());
    let mut headers = Map::new();
    for (name, value) in lines {
        let value = String::from_utf8_lossy(value).into_owned();
        match headers.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&value);
            }
            _ => {
                headers.insert(name.clone(), Value::String(value));
            }
        }
    }
    let host = request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("host"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_default();
    json!({
        "args": to_object(args),
        "data": String::from_utf8_lossy(request.body),
        "headers": headers,
        "method": request.method,
        "url": format!("http://{host}{}", request.target),
    })
}

fn to_object(pairs: &[(String, String)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// `application/x-www-form-urlencoded` query pairs.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(target: &str) -> UpstreamResponse {
        httpbin(&UpstreamRequest {
            method: "GET",
            target,
            headers: vec![
                ("host".into(), b"h.test".to_vec()),
                ("x-a".into(), b"1".to_vec()),
            ],
            body: b"",
        })
    }

    #[test]
    fn anything_echoes_method_args_headers_and_url() {
        let response = get("/anything/get?foo=1&b=a%20c");
        assert_eq!(response.status, 200);
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["args"]["foo"], "1");
        assert_eq!(body["args"]["b"], "a c");
        assert_eq!(body["headers"]["x-a"], "1");
        assert_eq!(body["method"], "GET");
        assert_eq!(body["url"], "http://h.test/anything/get?foo=1&b=a%20c");
    }

    #[test]
    fn response_headers_sets_valid_headers_only() {
        let response =
            get("/response-headers?X-Custom-Header=v1&bad%20name=x&Access-Control-Allow-Origin=*");
        assert!(
            response
                .headers
                .contains(&("X-Custom-Header".into(), "v1".into()))
        );
        assert!(
            response
                .headers
                .contains(&("Access-Control-Allow-Origin".into(), "*".into()))
        );
        assert!(!response.headers.iter().any(|(n, _)| n == "bad name"));
    }

    #[test]
    fn status_and_unknown_paths() {
        assert_eq!(get("/status/418").status, 418);
        assert_eq!(get("/status/x").status, 400);
        assert_eq!(get("/nope").status, 404);
        // A truncated escape is kept as text, never a panic.
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%"), "%");
    }
}
