//! Translation between `http` 1.x header maps and the core's byte views.

use http::Request;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use polycors::{FieldValue, RequestView, ResponseHeaders};

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

/// An `http` header map as the core's [`ResponseHeaders`].
pub struct HttpHeaders<'a>(pub &'a mut HeaderMap);

impl ResponseHeaders for HttpHeaders<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.0.iter() {
            f(name.as_str().as_bytes(), value.as_bytes());
        }
    }

    fn remove(&mut self, name: &[u8]) {
        if let Ok(name) = HeaderName::from_bytes(name) {
            self.0.remove(name);
        }
    }

    fn set(&mut self, name: &'static str, value: FieldValue<'_>) {
        let value = match value {
            FieldValue::Static(s) => HeaderValue::from_static(s),
            other => match HeaderValue::from_bytes(other.as_bytes()) {
                Ok(v) => v,
                // The core only writes validated bytes; never panic on a surprise.
                Err(_) => return,
            },
        };
        self.0.insert(HeaderName::from_static(name), value);
    }
}
