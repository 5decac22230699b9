//! Translation between `http` 1.x header maps and the core's byte views.

use http::Request;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use polycors::{FieldValue, PolicyValues, RequestView, ResponseHeaders};

/// Builds the core's view of an `http` request. `scheme` overrides the URI's scheme.
pub fn request_view<'a, B>(request: &'a Request<B>, scheme: Option<&'a str>) -> RequestView<'a> {
    let mut view = RequestView::new(request.method().as_str().as_bytes());
    // The core picks the headers it reads (Origin, Access-Control-Request-*, Host).
    for (name, value) in request.headers() {
        view.add_header(name.as_str().as_bytes(), value.as_bytes());
    }
    let uri = request.uri();
    if let Some(authority) = uri.authority() {
        view.set_authority(authority.as_str().as_bytes());
    }
    if let Some(scheme) = scheme.or(uri.scheme_str()) {
        view.set_scheme(scheme.as_bytes());
    }
    view
}

/// The policy's fixed header values, built once and shared by every clone of a layer.
pub(crate) type ValueCache = PolicyValues<HeaderValue>;

/// An `http` header map as the core's [`ResponseHeaders`].
pub struct HttpHeaders<'a> {
    map: &'a mut HeaderMap,
    cache: Option<&'a ValueCache>,
    origin: Option<&'a HeaderValue>,
}

impl<'a> HttpHeaders<'a> {
    /// Wraps a response's header map.
    pub fn new(map: &'a mut HeaderMap) -> Self {
        Self {
            map,
            cache: None,
            origin: None,
        }
    }

    /// Wraps a response's header map, reusing the policy's built values and the request's
    /// `Origin` value where the decision echoes it.
    pub(crate) fn with_cache(
        map: &'a mut HeaderMap,
        cache: &'a ValueCache,
        origin: Option<&'a HeaderValue>,
    ) -> Self {
        Self {
            map,
            cache: Some(cache),
            origin,
        }
    }
}

impl ResponseHeaders for HttpHeaders<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.map.iter() {
            f(name.as_str().as_bytes(), value.as_bytes());
        }
    }

    fn remove(&mut self, name: &[u8]) {
        if let Ok(name) = HeaderName::from_bytes(name) {
            self.map.remove(name);
        }
    }

    fn set(&mut self, name: &'static str, value: FieldValue<'_>) {
        // The core only writes validated bytes; a value that does not convert is skipped rather
        // than risk a panic.
        let value = match value {
            FieldValue::Static(s) => Some(HeaderValue::from_static(s)),
            FieldValue::Policy(field, s) => match self.cache {
                Some(cache) => cache.get(field, s, |s| HeaderValue::from_str(s).ok()),
                None => HeaderValue::from_str(s).ok(),
            },
            FieldValue::Request(bytes) => match self.origin {
                Some(origin) if origin.as_bytes() == bytes => Some(origin.clone()),
                _ => HeaderValue::from_bytes(bytes).ok(),
            },
        };
        if let Some(value) = value {
            self.map.insert(HeaderName::from_static(name), value);
        }
    }
}
