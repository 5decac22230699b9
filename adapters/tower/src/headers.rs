//! Translation between `http` 1.x header maps and the core's byte views.

use std::borrow::Cow;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Uri};
use polycors::adapter::{FieldValue, FixedValues, HeaderField, ResponseHeaders};
use polycors::{Policy, RequestHeader, RequestView};

polycors::header_conversions!(header);

/// Builds the core's view of an `http` request for `policy` (it holds the request headers
/// that policy reads). `scheme` overrides the URI's scheme; `trust_forwarded` takes
/// `Forwarded` / `X-Forwarded-*` as the client's view of the request.
pub fn request_view<'a, B>(
    policy: &Policy,
    request: &'a Request<B>,
    scheme: Option<&'a str>,
    trust_forwarded: bool,
) -> RequestView<'a> {
    let mut view = RequestView::new(request.method().as_str().as_bytes());
    fill_view(
        policy,
        &mut view,
        request.uri(),
        request.headers(),
        scheme,
        trust_forwarded,
    );
    view
}

/// Records a request's authority, scheme and the headers `policy` reads on `view` (made with
/// the request's method), looked up by name; returns the request's first `Origin` value. The
/// view is filled in place: it is large, and returning it would copy it.
pub(crate) fn fill_view<'a>(
    policy: &Policy,
    view: &mut RequestView<'a>,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    scheme: Option<&'a str>,
    trust_forwarded: bool,
) -> Option<&'a HeaderValue> {
    if trust_forwarded {
        view.trust_forwarded_headers();
    }
    if let Some(authority) = uri.authority() {
        view.set_authority(authority.as_str().as_bytes());
    }
    if let Some(scheme) = scheme.or(uri.scheme_str()) {
        view.set_scheme(scheme.as_bytes());
    }
    let mut origin = None;
    // The core asks for the headers it reads: a lookup each, whatever the request's size.
    policy.read_headers(view, |wanted| {
        let lines = headers.get_all(request_header_name(wanted));
        if wanted == RequestHeader::Origin {
            origin = lines.iter().next();
        }
        lines.into_iter().map(HeaderValue::as_bytes)
    });
    origin
}

/// The policy's fixed header values, built once per layer.
pub(crate) type Fixed = FixedValues<HeaderValue>;

/// An `http` header map as the core's [`ResponseHeaders`], with what resolves the symbolic
/// values: the policy's built values and the request's `Origin` (borrowed from the request,
/// or owned by a forwarded request's fix-up and then moved into the response).
pub(crate) struct HttpHeaders<'a> {
    pub(crate) map: &'a mut HeaderMap,
    pub(crate) fixed: &'a Fixed,
    pub(crate) origin: Option<Cow<'a, HeaderValue>>,
}

impl ResponseHeaders for HttpHeaders<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.map.iter() {
            f(name.as_str().as_bytes(), value.as_bytes());
        }
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        let names: Vec<HeaderName> = self
            .map
            .keys()
            .filter(|name| matches(name.as_str().as_bytes()))
            .cloned()
            .collect();
        for name in names {
            self.map.remove(name);
        }
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        if let Some(value) = header_value(value, self.fixed, &mut self.origin) {
            self.map.insert(header_name(field), value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }
}

/// A local answer's headers, made once per [`AnswerKey`](polycors::adapter::AnswerKey) and
/// copied for each later request, with the position of its `Access-Control-Allow-Origin`
/// line (among the map's lines, in order).
#[derive(Debug)]
pub(crate) struct AnswerHeaders {
    pub(crate) map: HeaderMap,
    origin_line: Option<usize>,
}

impl AnswerHeaders {
    /// Keeps `map`, noting where its allow-origin line is.
    pub(crate) fn new(map: HeaderMap) -> Self {
        let origin_line = map
            .iter()
            .position(|(name, _)| name == header::ACCESS_CONTROL_ALLOW_ORIGIN);
        Self { map, origin_line }
    }
}

/// A copy of an [`AnswerHeaders`] being completed: the core sets only the echoed origin on
/// it, and that line is replaced where the copy has it (a clone keeps the lines' order)
/// rather than hashed and looked up. Anything else, or a map whose lines are not where the
/// answer had them, goes through `headers`.
pub(crate) struct CopiedAnswer<'a> {
    headers: HttpHeaders<'a>,
    origin_line: Option<usize>,
}

impl<'a> CopiedAnswer<'a> {
    /// `headers`, whose map has just been cloned from `answer`.
    pub(crate) fn new(headers: HttpHeaders<'a>, answer: &AnswerHeaders) -> Self {
        Self {
            headers,
            origin_line: answer.origin_line,
        }
    }
}

impl ResponseHeaders for CopiedAnswer<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        self.headers.for_each(f);
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        self.origin_line = None;
        self.headers.remove_matching(matches);
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let HttpHeaders { map, fixed, origin } = &mut self.headers;
        let line = match (field, self.origin_line) {
            // With one line per name, the line found is the only one of its name.
            (HeaderField::AllowOrigin, Some(at)) if map.len() == map.keys_len() => map
                .iter_mut()
                .nth(at)
                .filter(|(name, _)| *name == header::ACCESS_CONTROL_ALLOW_ORIGIN),
            _ => None,
        };
        let Some((_, line)) = line else {
            // Not where it was noted: replaced by name.
            return self.headers.set(field, value);
        };
        match header_value(value, fixed, origin) {
            Some(value) => *line = value,
            // The copied line must not stay.
            None => {
                map.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &'static str) -> HeaderValue {
        HeaderValue::from_static(text)
    }

    /// Sets the echoed origin `origin` on `map` as a copy of `answer`; returns the lines.
    fn set_origin(
        map: &mut HeaderMap,
        answer: &AnswerHeaders,
        origin: Option<HeaderValue>,
    ) -> Vec<(String, String)> {
        let fixed = fixed_values(&polycors::Policy::default());
        let headers = HttpHeaders {
            map,
            fixed: &fixed,
            origin: origin.map(Cow::Owned),
        };
        CopiedAnswer::new(headers, answer).set(HeaderField::AllowOrigin, FieldValue::RequestOrigin);
        map.iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
            .collect()
    }

    fn answer() -> AnswerHeaders {
        let mut map = HeaderMap::new();
        map.insert("x-cors-version", value("2"));
        map.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            value("https://a.example"),
        );
        map.insert(header::VARY, value("origin"));
        AnswerHeaders::new(map)
    }

    fn line(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn a_copy_gets_the_requests_origin_in_the_same_place() {
        let answer = answer();
        let mut map = answer.map.clone();
        let lines = set_origin(&mut map, &answer, Some(value("https://b.example")));
        assert_eq!(
            lines,
            [
                line("x-cors-version", "2"),
                line("access-control-allow-origin", "https://b.example"),
                line("vary", "origin"),
            ]
        );
    }

    #[test]
    fn a_map_with_its_lines_elsewhere_gets_the_origin_by_name() {
        let answer = answer();
        let mut map = HeaderMap::new();
        map.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            value("https://a.example"),
        );
        map.append(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            value("https://c.example"),
        );
        map.insert("x-cors-version", value("2"));
        let lines = set_origin(&mut map, &answer, Some(value("https://b.example")));
        assert_eq!(
            lines,
            [
                line("access-control-allow-origin", "https://b.example"),
                line("x-cors-version", "2"),
            ]
        );
    }

    #[test]
    fn without_an_origin_the_copied_one_is_removed() {
        let answer = answer();
        let mut map = answer.map.clone();
        let lines = set_origin(&mut map, &answer, None);
        assert_eq!(lines, [line("x-cors-version", "2"), line("vary", "origin")]);
    }
}
