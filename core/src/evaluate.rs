//! Request classification (SPEC §2) and checks (SPEC §3): a pure function from a policy and a
//! request view to a [`Decision`].

use std::borrow::Cow;

use crate::decision::{Actual, AllowOrigin, Decision, NotCors, Preflight, Reason, Reject};
use crate::origin::{self, OriginParts, default_port, split_host_port};
use crate::policy::{Allowed, Policy};
use crate::request::{OriginHeader, RequestView};
use crate::token::{is_token, trim_ows};

/// Most names accepted in `Access-Control-Request-Headers`.
pub const MAX_REQUEST_HEADER_NAMES: usize = 64;
/// Most bytes accepted in `Access-Control-Request-Headers` (all lines together).
pub const MAX_REQUEST_HEADERS_BYTES: usize = 4096;

impl Policy {
    /// Decides what to do with a request. Pure apart from logging the reason of a rejection at
    /// debug level; no allocation for allowed requests whose header values are in the
    /// canonical form browsers send.
    pub fn evaluate<'a>(&self, request: &RequestView<'a>) -> Decision<'a> {
        let preflight_shaped = request.is_preflight_shaped();
        let reject = |reason: Reason<'a>| {
            log::debug!("CORS request rejected: {reason}");
            Decision::Reject(Reject {
                policy: self.clone(),
                reason,
                preflight_shaped,
            })
        };
        let raw = match request.origin {
            OriginHeader::Absent => return self.not_cors(preflight_shaped),
            OriginHeader::Many => return reject(Reason::MultipleOrigins),
            OriginHeader::One(raw) => raw,
        };
        let origins = &self.inner.origins;
        let origin = if raw == b"null" {
            if !(origins.any || origins.null) {
                return reject(Reason::OriginNotAllowed(Cow::Borrowed(raw)));
            }
            self.allow_origin(raw)
        } else {
            let Ok(parts) = origin::parse(raw) else {
                return reject(Reason::InvalidOrigin(Cow::Borrowed(raw)));
            };
            if is_same_origin(&parts, request) {
                return self.not_cors(preflight_shaped);
            }
            let allowed = origins.any
                || origins.contains(raw, &parts)
                || self.inner.patterns.iter().any(|p| p.matches_parts(&parts));
            if !allowed {
                return reject(Reason::OriginNotAllowed(Cow::Borrowed(raw)));
            }
            self.allow_origin(raw)
        };
        let result = if preflight_shaped {
            self.check_preflight(request, origin)
                .map(Decision::Preflight)
        } else if self.method_allowed(request.method) {
            Ok(Decision::Actual(Actual {
                policy: self.clone(),
                origin,
            }))
        } else {
            Err(Reason::MethodNotAllowed(Cow::Borrowed(request.method)))
        };
        result.unwrap_or_else(reject)
    }

    fn not_cors<'a>(&self, preflight_shaped: bool) -> Decision<'a> {
        Decision::NotCors(NotCors {
            policy: self.clone(),
            preflight_shaped,
        })
    }

    fn allow_origin<'a>(&self, raw: &'a [u8]) -> AllowOrigin<'a> {
        if self.inner.origins.any {
            AllowOrigin::Any
        } else {
            AllowOrigin::Echo(Cow::Borrowed(raw))
        }
    }

    fn method_allowed(&self, method: &[u8]) -> bool {
        match &self.inner.methods {
            Allowed::Any => true,
            Allowed::List { names, .. } => {
                let listed = |m: &[u8]| names.iter().any(|n| n.as_bytes() == m);
                listed(method) || (method == b"HEAD" && listed(b"GET"))
            }
        }
    }

    fn header_allowed(&self, name: &[u8]) -> bool {
        match &self.inner.headers {
            Allowed::Any => true,
            Allowed::List { names, .. } => names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name)),
        }
    }

    fn check_preflight<'a>(
        &self,
        request: &RequestView<'a>,
        origin: AllowOrigin<'a>,
    ) -> Result<Preflight<'a>, Reason<'a>> {
        let method = request.request_method.unwrap_or_default();
        if !is_token(method) {
            return Err(Reason::InvalidRequestMethod(Cow::Borrowed(method)));
        }
        if !self.method_allowed(method) {
            return Err(Reason::MethodNotAllowed(Cow::Borrowed(method)));
        }
        let headers = self.check_request_headers(request.request_headers.as_slice())?;
        let private_network = request
            .private_network
            .is_some_and(|v| trim_ows(v).eq_ignore_ascii_case(b"true"));
        if private_network && !self.inner.private_network {
            return Err(Reason::PrivateNetworkNotAllowed);
        }
        let any_method = self.inner.methods.is_any();
        Ok(Preflight {
            policy: self.clone(),
            origin,
            method: any_method.then_some(Cow::Borrowed(method)),
            headers,
            private_network,
        })
    }

    /// Checks every requested header name; returns the normalised list to echo when
    /// `allow_headers` is `*` and the list is non-empty.
    fn check_request_headers<'a>(
        &self,
        lines: &[&'a [u8]],
    ) -> Result<Option<Cow<'a, [u8]>>, Reason<'a>> {
        let total: usize =
            lines.iter().map(|l| l.len()).sum::<usize>() + lines.len().saturating_sub(1);
        if total > MAX_REQUEST_HEADERS_BYTES {
            return Err(Reason::RequestHeadersTooLong);
        }
        let mut count = 0;
        let mut canonical = lines.len() <= 1;
        for line in lines {
            for raw_item in line.split(|&b| b == b',') {
                let item = trim_ows(raw_item);
                canonical &= item.len() == raw_item.len() && !item.is_empty();
                if item.is_empty() {
                    continue;
                }
                count += 1;
                if count > MAX_REQUEST_HEADER_NAMES {
                    return Err(Reason::TooManyRequestHeaders);
                }
                if !is_token(item) {
                    return Err(Reason::InvalidRequestHeader(Cow::Borrowed(item)));
                }
                if !self.header_allowed(item) {
                    return Err(Reason::HeaderNotAllowed(Cow::Borrowed(item)));
                }
            }
        }
        if count == 0 || !self.inner.headers.is_any() {
            return Ok(None);
        }
        if canonical {
            return Ok(Some(Cow::Borrowed(lines[0])));
        }
        let mut joined = Vec::with_capacity(total);
        for item in lines.iter().flat_map(|l| crate::token::list_items(l)) {
            if !joined.is_empty() {
                joined.push(b',');
            }
            joined.extend_from_slice(item);
        }
        Ok(Some(Cow::Owned(joined)))
    }
}

/// SPEC §2.2: whether the Origin is the request's own origin (scheme + authority). Without a
/// known scheme, hosts and explicit ports are compared.
fn is_same_origin(origin: &OriginParts<'_>, request: &RequestView<'_>) -> bool {
    let Some((host, port)) = request.authority.and_then(split_host_port) else {
        return false;
    };
    if !host.eq_ignore_ascii_case(origin.host) {
        return false;
    }
    let port = port.map(|(p, _)| p);
    match request.scheme {
        Some(scheme) => {
            origin.scheme.eq_ignore_ascii_case(scheme)
                && origin.effective_port() == port.or_else(|| default_port(scheme))
        }
        None => origin.port == port,
    }
}
