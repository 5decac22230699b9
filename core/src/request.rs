//! What the policy needs to know about a request, borrowed from the host as bytes.

use crate::policy::Policy;
use crate::token::{eq_lowercase, trim_ows};

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

/// A request header the policy may read, named for hosts whose header maps look lines up by
/// name ([`Policy::read_headers`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestHeader {
    /// `origin`
    Origin,
    /// `host`: the request's authority, when the URI has none.
    Host,
    /// `access-control-request-method`
    AccessControlRequestMethod,
    /// `access-control-request-headers`
    AccessControlRequestHeaders,
    /// `access-control-request-private-network`
    AccessControlRequestPrivateNetwork,
    /// `sec-fetch-site`: read only with `Origin: null`.
    SecFetchSite,
    /// `forwarded`: read only when forwarding headers are trusted.
    Forwarded,
    /// `x-forwarded-host`: read only when forwarding headers are trusted.
    XForwardedHost,
    /// `x-forwarded-proto`: read only when forwarding headers are trusted.
    XForwardedProto,
}

impl RequestHeader {
    /// The header's lowercase name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Origin => "origin",
            Self::Host => "host",
            Self::AccessControlRequestMethod => "access-control-request-method",
            Self::AccessControlRequestHeaders => "access-control-request-headers",
            Self::AccessControlRequestPrivateNetwork => "access-control-request-private-network",
            Self::SecFetchSite => "sec-fetch-site",
            Self::Forwarded => "forwarded",
            Self::XForwardedHost => "x-forwarded-host",
            Self::XForwardedProto => "x-forwarded-proto",
        }
    }
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
        match self {
            Lines::None => *self = Lines::One(line),
            Lines::One(first) => *self = Lines::Many(vec![*first, line]),
            Lines::Many(lines) => lines.push(line),
        }
    }

    /// The value, when there is exactly one line.
    pub(crate) fn single(&self) -> Option<&'a [u8]> {
        match self {
            Lines::One(line) => Some(line),
            _ => None,
        }
    }

    /// The comma-joined value of every line (RFC 9110, 5.3); empty when there is none.
    pub(crate) fn joined(&self) -> std::borrow::Cow<'a, [u8]> {
        match self {
            Lines::None => std::borrow::Cow::Borrowed(&[]),
            Lines::One(line) => std::borrow::Cow::Borrowed(line),
            Lines::Many(lines) => std::borrow::Cow::Owned(lines.join(&b',')),
        }
    }

    pub(crate) fn as_slice(&self) -> &[&'a [u8]] {
        match self {
            Lines::None => &[],
            Lines::One(line) => std::slice::from_ref(line),
            Lines::Many(lines) => lines,
        }
    }
}

impl Policy {
    /// Reads into `view` the request headers this policy needs for the request, by name, from
    /// a host whose header map looks lines up (a hash map, as in `http` and actix-web):
    /// `lines(header)` returns the lines of `header`, in order. This costs a lookup per header
    /// the request needs rather than a visit per line ([`RequestView::add_header`]): `Origin`;
    /// `Host` when there is a cross-origin candidate and no authority; a preflight-shaped
    /// request's `Access-Control-Request-*` headers (`-Private-Network` when the policy
    /// allows private network access); `Sec-Fetch-Site` with `Origin: null`; the forwarding
    /// headers when trusted. So call it after [`RequestView::set_authority`] and
    /// [`RequestView::trust_forwarded_headers`]. This policy then decides the view as it
    /// decides the one `add_header` builds from every line.
    ///
    /// ```
    /// use polycors::{OriginHeader, Policy, RequestView, Verdict};
    /// let policy = Policy::from_yaml("allow_origins: [https://app.example.com]").expect("valid");
    /// let lines = [("origin", "https://app.example.com"), ("accept", "*/*")];
    /// let mut view = RequestView::new(b"GET");
    /// view.set_authority(b"api.example.com");
    /// policy.read_headers(&mut view, |header| {
    ///     lines
    ///         .iter()
    ///         .filter(move |(name, _)| *name == header.name())
    ///         .map(|(_, value)| value.as_bytes())
    /// });
    /// assert_eq!(view.origin(), OriginHeader::One(b"https://app.example.com"));
    /// assert_eq!(policy.evaluate(&view).verdict(), Verdict::Actual);
    /// ```
    #[inline]
    pub fn read_headers<'a, I>(
        &self,
        view: &mut RequestView<'a>,
        mut lines: impl FnMut(RequestHeader) -> I,
    ) where
        I: IntoIterator<Item = &'a [u8]>,
    {
        for line in lines(RequestHeader::Origin) {
            view.add_origin(line);
        }
        // The authority is compared with a single, non-`null` origin only (§2.2).
        let candidate = matches!(view.origin, OriginHeader::One(origin) if origin != b"null");
        if candidate
            && view.authority.is_none()
            && let Some(host) = lines(RequestHeader::Host).into_iter().next()
        {
            view.set_authority(host);
        }
        if view.method == b"OPTIONS" {
            for line in lines(RequestHeader::AccessControlRequestMethod) {
                view.add_request_method(line);
            }
            // Only a preflight's checks read the others.
            if view.is_preflight_shaped() {
                for line in lines(RequestHeader::AccessControlRequestHeaders) {
                    view.add_request_headers(line);
                }
                if self.inner.private_network {
                    for line in lines(RequestHeader::AccessControlRequestPrivateNetwork) {
                        view.add_private_network(line);
                    }
                }
            }
        }
        // Only a `null` origin is checked for being a same-origin request's (§2.2).
        if view.origin == OriginHeader::One(b"null") {
            for line in lines(RequestHeader::SecFetchSite) {
                view.fetch_site.push(line);
            }
        }
        if view.forwarded.trusted && candidate {
            let mut first = |header| lines(header).into_iter().next();
            view.forwarded.forwarded = first(RequestHeader::Forwarded);
            view.forwarded.host = first(RequestHeader::XForwardedHost);
            view.forwarded.proto = first(RequestHeader::XForwardedProto);
        }
    }
}

/// A view of a request: its method, authority and the CORS request headers, as bytes.
///
/// Adapters fill it from their own header types without converting: from every line with
/// [`RequestView::add_header`] (hosts that hand over a list of lines), by name with
/// [`Policy::read_headers`] (hosts whose header maps look names up), or with the
/// targeted setters. Header values may be any bytes (non-UTF-8 included); invalid values make
/// the request an invalid CORS request.
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
    pub(crate) request_method: Lines<'a>,
    pub(crate) request_headers: Lines<'a>,
    pub(crate) private_network: Lines<'a>,
    pub(crate) scheme: Option<&'a [u8]>,
    pub(crate) authority: Option<&'a [u8]>,
    /// `Sec-Fetch-Site` lines.
    pub(crate) fetch_site: Lines<'a>,
    /// The forwarding headers, read only when trusted.
    pub(crate) forwarded: Forwarding<'a>,
}

/// What proxies say about the client's view of a request: `Forwarded` (RFC 7239) and
/// `X-Forwarded-Host` / `X-Forwarded-Proto`, first value of each. Used for same-origin
/// detection only when the adapter trusts them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Forwarding<'a> {
    pub(crate) trusted: bool,
    pub(crate) forwarded: Option<&'a [u8]>,
    pub(crate) host: Option<&'a [u8]>,
    pub(crate) proto: Option<&'a [u8]>,
}

impl<'a> Forwarding<'a> {
    /// The client's authority and scheme as the proxies say (`Forwarded` first), when trusted.
    pub(crate) fn host_and_proto(&self) -> (Option<&'a [u8]>, Option<&'a [u8]>) {
        if !self.trusted {
            return (None, None);
        }
        let first = |list: &'a [u8]| -> Option<&'a [u8]> {
            let item = trim_ows(list.split(|&b| b == b',').next()?);
            (!item.is_empty()).then_some(item)
        };
        let mut host = self.host.and_then(first);
        let mut proto = self.proto.and_then(first);
        // `Forwarded: for=...;proto=https;host=example.com, ...`: the first element's pairs.
        if let Some(element) = self.forwarded.and_then(first) {
            for pair in element.split(|&b| b == b';') {
                let Some(eq) = pair.iter().position(|&b| b == b'=') else {
                    continue;
                };
                let key = trim_ows(&pair[..eq]);
                let value = trim_ows(&pair[eq + 1..]);
                let value = value
                    .strip_prefix(b"\"")
                    .and_then(|v| v.strip_suffix(b"\""))
                    .unwrap_or(value);
                if key.eq_ignore_ascii_case(b"host") {
                    host = Some(value);
                } else if key.eq_ignore_ascii_case(b"proto") {
                    proto = Some(value);
                }
            }
        }
        (host, proto)
    }
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

    /// Records one `Origin` header line; a second one makes the request invalid. So does a
    /// line holding several values: a serialized origin has no comma, and proxies such as
    /// Envoy join repeated `Origin` lines into one, comma-separated (RFC 9110, 5.3).
    pub fn add_origin(&mut self, value: &'a [u8]) -> &mut Self {
        // A line with a comma is recorded as one and counted as several when read: the
        // evaluation looks for the comma only if the value is not a listed origin.
        self.origin = match self.origin {
            OriginHeader::Absent => OriginHeader::One(value),
            _ => OriginHeader::Many,
        };
        self
    }

    /// Records an `Access-Control-Request-Method` line. Repeated lines count as their
    /// comma-joined value (RFC 9110, 5.3), which is never a method: the form Envoy hands on.
    pub fn add_request_method(&mut self, value: &'a [u8]) -> &mut Self {
        self.request_method.push(value);
        self
    }

    /// Records an `Access-Control-Request-Headers` line (all lines count, joined with commas).
    pub fn add_request_headers(&mut self, value: &'a [u8]) -> &mut Self {
        self.request_headers.push(value);
        self
    }

    /// Records an `Access-Control-Request-Private-Network` line. Repeated lines count as their
    /// comma-joined value, which is never `true`.
    pub fn add_private_network(&mut self, value: &'a [u8]) -> &mut Self {
        self.private_network.push(value);
        self
    }

    /// Records any request header; names compare case-insensitively and headers the policy
    /// does not read are ignored. Call it once per header line, in order.
    #[inline]
    pub fn add_header(&mut self, name: &[u8], value: &'a [u8]) -> &mut Self {
        // Dispatch on the length first: one comparison per header, not eight; most hosts
        // hand names over lowercase, which compare byte for byte.
        let is = |known: &[u8]| eq_lowercase(name, known);
        let named = |header: RequestHeader| is(header.name().as_bytes());
        match name.len() {
            6 if named(RequestHeader::Origin) => self.add_origin(value),
            29 if named(RequestHeader::AccessControlRequestMethod) => {
                self.add_request_method(value)
            }
            30 if named(RequestHeader::AccessControlRequestHeaders) => {
                self.add_request_headers(value)
            }
            38 if named(RequestHeader::AccessControlRequestPrivateNetwork) => {
                self.add_private_network(value)
            }
            10 if is(b":authority") => self.set_authority(value),
            4 if named(RequestHeader::Host) && self.authority.is_none() => {
                self.set_authority(value)
            }
            7 if is(b":scheme") => self.set_scheme(value),
            7 if is(b":method") => {
                self.method = value;
                self
            }
            14 if named(RequestHeader::SecFetchSite) => {
                self.fetch_site.push(value);
                self
            }
            9 if named(RequestHeader::Forwarded) => {
                self.forwarded.forwarded.get_or_insert(value);
                self
            }
            16 if named(RequestHeader::XForwardedHost) => {
                self.forwarded.host.get_or_insert(value);
                self
            }
            17 if named(RequestHeader::XForwardedProto) => {
                self.forwarded.proto.get_or_insert(value);
                self
            }
            _ => self,
        }
    }

    /// Takes `Forwarded` and `X-Forwarded-Host` / `X-Forwarded-Proto` as the client's view of
    /// the request's authority and scheme, for same-origin detection. Only for a service that
    /// only a proxy which sets them can reach: any client can send them.
    pub fn trust_forwarded_headers(&mut self) -> &mut Self {
        self.forwarded.trusted = true;
        self
    }

    /// The request's method, as sent.
    pub fn method(&self) -> &'a [u8] {
        self.method
    }

    /// The request's `Origin` header lines.
    pub fn origin(&self) -> OriginHeader<'a> {
        match self.origin {
            OriginHeader::One(value) if value.contains(&b',') => OriginHeader::Many,
            origin => origin,
        }
    }

    /// Whether the request has the shape of a preflight: `OPTIONS` with a non-empty
    /// `Access-Control-Request-Method`.
    pub fn is_preflight_shaped(&self) -> bool {
        self.method == b"OPTIONS"
            && match self.request_method {
                Lines::None => false,
                Lines::One(method) => !method.is_empty(),
                Lines::Many(_) => true,
            }
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
    fn repeated_request_method_lines_join() {
        let mut v = RequestView::new(b"OPTIONS");
        v.add_request_method(b"PUT").add_request_method(b"DELETE");
        assert_eq!(&*v.request_method.joined(), b"PUT,DELETE");
        assert!(v.is_preflight_shaped());
    }

    #[test]
    fn an_origin_line_with_a_comma_counts_as_several() {
        let mut v = RequestView::new(b"GET");
        v.add_origin(b"http://a.com,http://b.com");
        assert_eq!(v.origin(), OriginHeader::Many);
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
