//! Translation between `http` 1.x header maps and the core's byte views.

use std::borrow::Cow;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Uri};
use polycors::RequestView;
use polycors::adapter::{FieldValue, FixedValues, HeaderField, ResponseHeaders};

polycors::header_conversions!(header);

/// Builds the core's view of an `http` request. `scheme` overrides the URI's scheme;
/// `trust_forwarded` takes `Forwarded` / `X-Forwarded-*` as the client's view of the request.
pub fn request_view<'a, B>(
    request: &'a Request<B>,
    scheme: Option<&'a str>,
    trust_forwarded: bool,
) -> RequestView<'a> {
    let mut view = RequestView::new(request.method().as_str().as_bytes());
    fill_view(
        &mut view,
        request.uri(),
        request.headers(),
        scheme,
        trust_forwarded,
    );
    view
}

/// Records a request's headers, authority and scheme on `view` (made with the request's
/// method); returns the request's first `Origin` value (found on the same pass). The view is
/// filled in place: it is large, and returning it would copy it.
pub(crate) fn fill_view<'a>(
    view: &mut RequestView<'a>,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    scheme: Option<&'a str>,
    trust_forwarded: bool,
) -> Option<&'a HeaderValue> {
    if trust_forwarded {
        view.trust_forwarded_headers();
    }
    let mut origin = None;
    // The core picks the headers it reads (Origin, Access-Control-Request-*, Host).
    for (name, value) in headers {
        if name == header::ORIGIN {
            origin.get_or_insert(value);
        }
        view.add_header(name.as_str().as_bytes(), value.as_bytes());
    }
    if let Some(authority) = uri.authority() {
        view.set_authority(authority.as_str().as_bytes());
    }
    if let Some(scheme) = scheme.or(uri.scheme_str()) {
        view.set_scheme(scheme.as_bytes());
    }
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
