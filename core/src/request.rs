//! What the policy needs to know about a request, borrowed from the host as bytes.

/// The `Origin` header lines of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OriginHeader<'a> {
    /// No `Origin` header.
    #[default]
    Absent,
    /// Exactly one `Origin` header.
    One(&'a [u8]),
    /// More than one `Origin` header (an invalid CORS request).
    Many,
}

/// The lines of a header that may be sent several times (joined with commas when read).
#[derive(Debug, Clone, Default)]
pub(crate) enum Lines<'a> {
    #[default]
    None,
    One(&'a [u8]),
    Many(Vec<&'a [u8]>),
}

impl<'a> Lines<'a> {
    fn push(&mut self, line: &'a [u8]) {
        *self = match std::mem::take(self) {
            Lines::None => Lines::One(line),
            Lines::One(first) => Lines::Many(vec![first, line]),
            Lines::Many(mut lines) => {
                lines.push(line);
                Lines::Many(lines)
            }
        };
    }

    pub(crate) fn as_slice(&self) -> &[&'a [u8]] {
        match self {
            Lines::None => &[],
            Lines::One(line) => std::slice::from_ref(line),
            Lines::Many(lines) => lines,
        }
    }
}

/// A view of a request: its method, authority and the CORS request headers, as bytes.
///
/// Adapters fill it from their own header types without converting: either header by header
/// with [`RequestView::add_header`], or with the targeted setters. Header values may be any
/// bytes (non-UTF-8 included); invalid values make the request an invalid CORS request.
///
/// ```
/// use polycors::RequestView;
/// let mut view = RequestView::new(b"OPTIONS");
/// view.set_scheme(b"https");
/// view.set_authority(b"api.example.com");
/// view.add_header(b"origin", b"https://app.example.com");
/// view.add_header(b"access-control-request-method", b"PUT");
/// ```
#[derive(Debug, Clone, Default)]
pub struct RequestView<'a> {
    pub(crate) method: &'a [u8],
    pub(crate) origin: OriginHeader<'a>,
    pub(crate) request_method: Option<&'a [u8]>,
    pub(crate) request_headers: Lines<'a>,
    pub(crate) private_network: Option<&'a [u8]>,
    pub(crate) scheme: Option<&'a [u8]>,
    pub(crate) authority: Option<&'a [u8]>,
}

impl<'a> RequestView<'a> {
    /// A view of a request with this method (case-sensitive, as sent).
    pub fn new(method: &'a [u8]) -> Self {
        Self {
            method,
            ..Self::default()
        }
    }

    /// Sets the scheme the request arrived with (`http`, `https`), when the host knows it.
    pub fn set_scheme(&mut self, scheme: &'a [u8]) -> &mut Self {
        self.scheme = Some(scheme);
        self
    }

    /// Sets the request's authority (`:authority` or `Host`), used to detect same-origin requests.
    pub fn set_authority(&mut self, authority: &'a [u8]) -> &mut Self {
        self.authority = Some(authority);
        self
    }

    /// Records one `Origin` header line; a second one makes the request invalid.
    pub fn add_origin(&mut self, value: &'a [u8]) -> &mut Self {
        self.origin = match self.origin {
            OriginHeader::Absent => OriginHeader::One(value),
            _ => OriginHeader::Many,
        };
        self
    }

    /// Records an `Access-Control-Request-Method` line (the first one counts).
    pub fn add_request_method(&mut self, value: &'a [u8]) -> &mut Self {
        self.request_method.get_or_insert(value);
        self
    }

    /// Records an `Access-Control-Request-Headers` line (all lines count, joined with commas).
    pub fn add_request_headers(&mut self, value: &'a [u8]) -> &mut Self {
        self.request_headers.push(value);
        self
    }

    /// Records an `Access-Control-Request-Private-Network` line (the first one counts).
    pub fn add_private_network(&mut self, value: &'a [u8]) -> &mut Self {
        self.private_network.get_or_insert(value);
        self
    }

    /// Records any request header; names compare case-insensitively and headers the policy
    /// does not read are ignored. Call it once per header line, in order.
    pub fn add_header(&mut self, name: &[u8], value: &'a [u8]) -> &mut Self {
        if name.eq_ignore_ascii_case(b"origin") {
            self.add_origin(value)
        } else if name.eq_ignore_ascii_case(b"access-control-request-method") {
            self.add_request_method(value)
        } else if name.eq_ignore_ascii_case(b"access-control-request-headers") {
            self.add_request_headers(value)
        } else if name.eq_ignore_ascii_case(b"access-control-request-private-network") {
            self.add_private_network(value)
        } else if name.eq_ignore_ascii_case(b":authority")
            || (name.eq_ignore_ascii_case(b"host") && self.authority.is_none())
        {
            self.set_authority(value)
        } else if name.eq_ignore_ascii_case(b":scheme") {
            self.set_scheme(value)
        } else if name.eq_ignore_ascii_case(b":method") {
            self.method = value;
            self
        } else {
            self
        }
    }

    /// The request's `Origin` header lines.
    pub fn origin(&self) -> OriginHeader<'a> {
        self.origin
    }

    /// Whether the request has the shape of a preflight: `OPTIONS` with a non-empty
    /// `Access-Control-Request-Method`.
    pub fn is_preflight_shaped(&self) -> bool {
        self.method == b"OPTIONS" && self.request_method.is_some_and(|m| !m.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_header_dispatches_case_insensitively() {
        let mut v = RequestView::new(b"GET");
        v.add_header(b"Origin", b"http://a.com")
            .add_header(b"ACCESS-CONTROL-REQUEST-HEADERS", b"a")
            .add_header(b"access-control-request-headers", b"b")
            .add_header(b"Host", b"x.com")
            .add_header(b"x-other", b"ignored");
        assert_eq!(v.origin, OriginHeader::One(b"http://a.com"));
        assert_eq!(v.request_headers.as_slice(), [&b"a"[..], b"b"]);
        assert_eq!(v.authority, Some(&b"x.com"[..]));
    }

    #[test]
    fn second_origin_line_marks_many() {
        let mut v = RequestView::new(b"GET");
        v.add_origin(b"http://a.com").add_origin(b"http://a.com");
        assert_eq!(v.origin, OriginHeader::Many);
    }

    #[test]
    fn first_request_method_line_counts() {
        let mut v = RequestView::new(b"OPTIONS");
        v.add_request_method(b"PUT").add_request_method(b"DELETE");
        assert_eq!(v.request_method, Some(&b"PUT"[..]));
        assert!(v.is_preflight_shaped());
    }

    #[test]
    fn preflight_shape_needs_exact_options_and_non_empty_acrm() {
        let mut v = RequestView::new(b"options");
        v.add_request_method(b"PUT");
        assert!(!v.is_preflight_shaped());
        let mut v = RequestView::new(b"OPTIONS");
        v.add_request_method(b"");
        assert!(!v.is_preflight_shaped());
    }
}
