//! Writing a decision onto a response: CORS headers, `Vary` merging, removal of upstream
//! `access-control-*` headers and `x-cors-version` (SPEC §4).

use crate::decision::{Decision, FieldValue};
use crate::token::{list_items, starts_with_ignore_case};

/// Lowercase names of the headers the policy writes.
pub mod names {
    /// `access-control-allow-origin`
    pub const ALLOW_ORIGIN: &str = "access-control-allow-origin";
    /// `access-control-allow-methods`
    pub const ALLOW_METHODS: &str = "access-control-allow-methods";
    /// `access-control-allow-headers`
    pub const ALLOW_HEADERS: &str = "access-control-allow-headers";
    /// `access-control-expose-headers`
    pub const EXPOSE_HEADERS: &str = "access-control-expose-headers";
    /// `access-control-allow-credentials`
    pub const ALLOW_CREDENTIALS: &str = "access-control-allow-credentials";
    /// `access-control-max-age`
    pub const MAX_AGE: &str = "access-control-max-age";
    /// `access-control-allow-private-network`
    pub const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";
    /// `x-cors-version`
    pub const CORS_VERSION: &str = "x-cors-version";
    /// `vary`
    pub const VARY: &str = "vary";
    /// `content-type`
    pub const CONTENT_TYPE: &str = "content-type";
}

/// The value of `x-cors-version` on every response the policy handles.
pub const CORS_VERSION: &str = "1.0.0";

/// A response's headers, as an adapter exposes them to [`Decision::apply`]. Implement it with
/// your framework's header map; the core does all the logic.
pub trait ResponseHeaders {
    /// Calls `f` with every header line (name, value), in order.
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8]));
    /// Removes every line of the header `name` (lowercase).
    fn remove(&mut self, name: &[u8]);
    /// Sets the header `name` (lowercase) to `value`, replacing every existing line.
    fn set(&mut self, name: &'static str, value: FieldValue<'_>);
}

/// `Vary` values for the combinations the policy adds, when the response has no `Vary`.
fn vary_static(origin: bool, preflight: bool, private_network: bool) -> Option<&'static str> {
    Some(match (origin, preflight, private_network) {
        (false, false, _) => return None,
        (true, false, _) => "Origin",
        (true, true, false) => {
            "Origin,Access-Control-Request-Method,Access-Control-Request-Headers"
        }
        (true, true, true) => {
            "Origin,Access-Control-Request-Method,Access-Control-Request-Headers,Access-Control-Request-Private-Network"
        }
        (false, true, false) => "Access-Control-Request-Method,Access-Control-Request-Headers",
        (false, true, true) => {
            "Access-Control-Request-Method,Access-Control-Request-Headers,Access-Control-Request-Private-Network"
        }
    })
}

/// Headers a script can always read, which `expose_headers: *` with credentials does not list.
const SAFELISTED_RESPONSE_HEADERS: [&[u8]; 7] = [
    b"cache-control",
    b"content-language",
    b"content-length",
    b"content-type",
    b"expires",
    b"last-modified",
    b"pragma",
];

fn exposable(name: &[u8]) -> bool {
    // Pseudo-headers (`:status` in proxy-wasm header maps) are not response headers.
    !(name.first() == Some(&b':')
        || SAFELISTED_RESPONSE_HEADERS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name))
        || name.eq_ignore_ascii_case(b"set-cookie")
        || name.eq_ignore_ascii_case(b"set-cookie2")
        || name.eq_ignore_ascii_case(names::CORS_VERSION.as_bytes())
        || starts_with_ignore_case(name, b"access-control-"))
}

/// Whether a comma-joined list already has `token` (case-insensitive).
fn has_token(list: &[u8], token: &[u8]) -> bool {
    list_items(list).any(|t| t.eq_ignore_ascii_case(token))
}

fn push_token(list: &mut Vec<u8>, token: &[u8]) {
    if !list.is_empty() {
        list.push(b',');
    }
    list.extend_from_slice(token);
}

impl Decision<'_> {
    /// Writes this decision onto a response: removes upstream `access-control-*` headers, sets
    /// `x-cors-version` and the CORS headers, merges `Vary`, and for a rejection sets
    /// `content-type: text/plain`. Use it on forwarded responses and on the local response
    /// alike. Idempotent: applying it twice leaves the same headers.
    pub fn apply<H: ResponseHeaders + ?Sized>(&self, headers: &mut H) {
        let policy = &self.policy().inner;
        let preflight_shaped = self.preflight_shaped();
        let vary_add = vary_static(
            !policy.origins.any,
            preflight_shaped,
            policy.private_network,
        );
        let expose_from_response = self.exposes_response_headers();

        let mut strip: Vec<Vec<u8>> = Vec::new();
        let mut vary: Vec<u8> = Vec::new();
        let mut has_vary = false;
        let mut vary_star = false;
        let mut exposed: Vec<u8> = Vec::new();
        headers.for_each(&mut |name, value| {
            if starts_with_ignore_case(name, b"access-control-") {
                if !strip.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                    strip.push(name.to_ascii_lowercase());
                }
            } else if name.eq_ignore_ascii_case(b"vary") {
                has_vary = true;
                for token in list_items(value) {
                    vary_star |= token == b"*";
                    if !has_token(&vary, token) {
                        push_token(&mut vary, token);
                    }
                }
            }
            if expose_from_response && exposable(name) && !has_token(&exposed, name) {
                push_token(&mut exposed, &name.to_ascii_lowercase());
            }
        });

        for name in &strip {
            headers.remove(name);
        }
        headers.set(names::CORS_VERSION, FieldValue::Static(CORS_VERSION));
        if matches!(self, Decision::Reject(_)) {
            headers.set(names::CONTENT_TYPE, FieldValue::Static("text/plain"));
        }
        for (name, value) in self.cors_headers() {
            headers.set(name, value);
        }
        if expose_from_response && !exposed.is_empty() {
            headers.set(names::EXPOSE_HEADERS, FieldValue::Request(&exposed));
        }
        let Some(add) = vary_add else { return };
        if !has_vary {
            headers.set(names::VARY, FieldValue::Static(add));
            return;
        }
        if vary_star {
            return;
        }
        let before = vary.len();
        for token in add.split(',') {
            if !has_token(&vary, token.as_bytes()) {
                push_token(&mut vary, token.as_bytes());
            }
        }
        if vary.len() != before {
            headers.set(names::VARY, FieldValue::Request(&vary));
        }
    }
}

/// A simple ordered header list implementing [`ResponseHeaders`]: the reference target of the
/// conformance suite, and handy in tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderList(pub Vec<(Vec<u8>, Vec<u8>)>);

impl HeaderList {
    /// Every value of `name` (case-insensitive), in order.
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of `name`, if any.
    pub fn get<'s>(&'s self, name: &'s str) -> Option<&'s [u8]> {
        self.get_all(name).next()
    }
}

impl ResponseHeaders for HeaderList {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in &self.0 {
            f(name, value);
        }
    }

    fn remove(&mut self, name: &[u8]) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    fn set(&mut self, name: &'static str, value: FieldValue<'_>) {
        let value = value.as_bytes().to_vec();
        match self
            .0
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            Some(first) => {
                self.0[first] = (name.as_bytes().to_vec(), value);
                let mut i = first + 1;
                while i < self.0.len() {
                    if self.0[i].0.eq_ignore_ascii_case(name.as_bytes()) {
                        self.0.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            None => self.0.push((name.as_bytes().to_vec(), value)),
        }
    }
}
