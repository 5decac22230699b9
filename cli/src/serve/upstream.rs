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
/// headers, `/status/N` answers with status N, `/redirect-to?url=U` redirects (302, or
/// `status_code`), `/base64/V` answers the base64url-decoded `V` as HTML (a page on the API's
/// own origin, for browser tests).
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
    if path == "/redirect-to" {
        let arg = |key: &str| args.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let status = arg("status_code").map_or(Some(302), |s| s.parse::<u16>().ok());
        return match (arg("url"), status) {
            (Some(url), Some(status @ 300..=399))
                if url.bytes().all(|b| (b'!'..=b'~').contains(&b)) =>
            {
                let mut response = UpstreamResponse::text(status, "");
                response.headers.push(("location".into(), url.to_owned()));
                response
            }
            _ => UpstreamResponse::text(400, "redirect-to needs url and a 3xx status_code\n"),
        };
    }
    if let Some(encoded) = path.strip_prefix("/base64/") {
        return match base64url_decode(encoded) {
            Some(body) => UpstreamResponse {
                status: 200,
                headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                body,
            },
            None => UpstreamResponse::text(400, "not base64url\n"),
        };
    }
    if path == "/" {
        return UpstreamResponse::text(
            200,
            "polycors serve upstream: try /anything, /response-headers?X-Custom-Header=1, /status/418, /redirect-to?url=/anything, /base64/aGk\n",
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

/// Decodes base64url (RFC 4648, 5), with or without padding; standard `+` and `/` accepted too.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        }))
    };
    let text = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut bits = 0u32;
        for &c in chunk {
            bits = (bits << 6) | value(c)?;
        }
        bits <<= 6 * (4 - chunk.len() as u32);
        let bytes = bits.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
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
    fn redirect_to_sets_location_and_status() {
        let response = get("/redirect-to?url=http%3A%2F%2Fb.test%2Fanything");
        assert_eq!(response.status, 302);
        assert!(
            response
                .headers
                .contains(&("location".into(), "http://b.test/anything".into()))
        );
        assert_eq!(get("/redirect-to?url=/x&status_code=307").status, 307);
        assert_eq!(get("/redirect-to?url=/x&status_code=200").status, 400);
        assert_eq!(get("/redirect-to").status, 400);
        assert_eq!(get("/redirect-to?url=a%0Ab").status, 400);
    }

    #[test]
    fn base64_answers_the_decoded_page() {
        // "<p>hi?</p>" in base64url, without padding.
        let response = get("/base64/PHA-aGk_PC9wPg");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"<p>hi?</p>");
        assert_eq!(get("/base64/aGk=").body, b"hi");
        assert_eq!(get("/base64/a").status, 400);
        assert_eq!(get("/base64/a*b=").status, 400);
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
