//! The Fetch standard's header name lists that the policy depends on.

use crate::token::starts_with_ignore_case;

/// Response headers a script can always read: `expose_headers: *` with credentials does not
/// list them.
pub(crate) const SAFELISTED_RESPONSE_HEADERS: [&[u8]; 7] = [
    b"cache-control",
    b"content-language",
    b"content-length",
    b"content-type",
    b"expires",
    b"last-modified",
    b"pragma",
];

/// Request headers browsers never let a page set (Fetch, "forbidden request-header"), apart
/// from the `proxy-` and `sec-` prefixes.
const FORBIDDEN_REQUEST_HEADERS: [&[u8]; 21] = [
    b"accept-charset",
    b"accept-encoding",
    b"access-control-request-headers",
    b"access-control-request-method",
    b"connection",
    b"content-length",
    b"cookie",
    b"cookie2",
    b"date",
    b"dnt",
    b"expect",
    b"host",
    b"keep-alive",
    b"origin",
    b"referer",
    b"set-cookie",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"via",
];

/// Whether a page can never send the header `name` (any case).
pub(crate) fn is_forbidden_request_header(name: &[u8]) -> bool {
    starts_with_ignore_case(name, b"proxy-")
        || starts_with_ignore_case(name, b"sec-")
        || starts_with_ignore_case(name, b"access-control-request-")
        || FORBIDDEN_REQUEST_HEADERS
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
}

/// Whether `name` (any case) is a CORS protocol header (`access-control-*`).
pub(crate) fn is_access_control(name: &[u8]) -> bool {
    starts_with_ignore_case(name, b"access-control-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_request_headers_include_prefixes_and_ignore_case() {
        for name in [
            "Cookie",
            "HOST",
            "Sec-Fetch-Mode",
            "proxy-authorization",
            "DNT",
        ] {
            assert!(is_forbidden_request_header(name.as_bytes()), "{name}");
        }
        for name in ["Content-Type", "Authorization", "X-Sec", "Cookies"] {
            assert!(!is_forbidden_request_header(name.as_bytes()), "{name}");
        }
    }
}
