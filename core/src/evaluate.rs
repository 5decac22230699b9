//! Request classification (§2) and checks (§3): a pure function from a policy and a
//! request view to a [`Decision`].

use std::borrow::Cow;
use std::num::NonZeroU32;

use crate::decision::{Decision, ExposeSource, ListSource, OriginSource, Plan, Reason, Verdict};
use crate::limits::{MAX_REQUEST_HEADER_NAMES, MAX_REQUEST_HEADERS_BYTES};
use crate::origin::{self, OriginParts, default_port, same_host, split_host_port};
use crate::origin_predicate::OriginRef;
use crate::policy::{Allowed, Expose, Policy};
use crate::request::{OriginHeader, RequestView};
use crate::token::{TokenShape, classify, eq_bytes, is_token, list_items, token_items, trim_ows};

/// A failed check: why, and the request value at fault.
type Failure<'r> = (Reason, Cow<'r, [u8]>);

/// An allowed preflight's echoes.
struct PreflightEcho<'r> {
    method: &'r [u8],
    headers: Option<Cow<'r, [u8]>>,
    private_network: bool,
}

impl Policy {
    /// Decides what to do with a request. Pure apart from logging the reason of a rejection at
    /// debug level; no allocation for requests whose header values are in the canonical form
    /// browsers send. A policy that [needs an origin predicate](Policy::needs_origin_predicate)
    /// rejects the origins its lists do not allow; see [`evaluate_with`](Self::evaluate_with).
    pub fn evaluate<'r>(&self, request: &RequestView<'r>) -> Decision<'r> {
        self.decide(request, None)
    }

    /// [`evaluate`](Self::evaluate), with `origin_predicate` deciding the origins that neither
    /// `allow_origins` nor `allow_origin_patterns` allows, when the policy has
    /// `allow_origin_predicate: true`. It is asked at most once, and only about a valid,
    /// cross-origin, non-`null` Origin (`null` is allowed only by listing it); an allowed
    /// origin then goes through the other checks (method, headers) like a listed one.
    pub fn evaluate_with<'r>(
        &self,
        request: &RequestView<'r>,
        origin_predicate: impl FnOnce(&OriginRef<'_>) -> bool,
    ) -> Decision<'r> {
        let mut origin_predicate = Some(origin_predicate);
        self.decide(
            request,
            Some(&mut |origin| origin_predicate.take().is_some_and(|p| p(origin))),
        )
    }

    /// The one decision path, compiled once (not per predicate type).
    #[inline]
    fn decide<'r>(
        &self,
        request: &RequestView<'r>,
        origin_predicate: Option<&mut dyn FnMut(&OriginRef<'_>) -> bool>,
    ) -> Decision<'r> {
        let preflight_shaped = request.is_preflight_shaped();
        let raw = match request.origin {
            OriginHeader::Absent => return self.not_cors(preflight_shaped),
            OriginHeader::Many => {
                return self.reject(
                    preflight_shaped,
                    Reason::MultipleOrigins,
                    Cow::Borrowed(b""),
                );
            }
            OriginHeader::One(raw) => raw,
        };
        let inner = &self.inner;
        // Which listed origin `raw` is, byte for byte, if any.
        let mut listed = None;
        if raw == b"null" {
            // Same-origin form posts under `Referrer-Policy: no-referrer` send `null` (§2.2).
            let same_origin = request
                .fetch_site
                .single()
                .is_some_and(|site| trim_ows(site).eq_ignore_ascii_case(b"same-origin"));
            if same_origin {
                return self.not_cors(preflight_shaped);
            }
            if !(inner.origins.any || inner.origins.null) {
                return self.reject(
                    preflight_shaped,
                    Reason::OriginNotAllowed,
                    Cow::Borrowed(raw),
                );
            }
        } else {
            // An exact origin byte for byte (the form browsers send) needs no parsing.
            let hit = inner.origins.exact_hit(raw);
            listed = hit.and_then(|(at, _)| NonZeroU32::new(u32::try_from(at + 1).ok()?));
            let hit = hit.map(|(_, parts)| parts);
            let Some(parts) = hit.or_else(|| origin::parse(raw).ok()) else {
                return self.reject_unparsed(preflight_shaped, raw);
            };
            if is_same_origin(&parts, request) {
                return self.not_cors(preflight_shaped);
            }
            if hit.is_none()
                && !inner.origins.allows(&parts)
                && !(inner.origins.predicate
                    && origin_predicate.is_some_and(|predicate| {
                        OriginRef::new(raw, &parts).is_some_and(|o| predicate(&o))
                    }))
            {
                return self.reject(
                    preflight_shaped,
                    Reason::OriginNotAllowed,
                    Cow::Borrowed(raw),
                );
            }
        }
        if preflight_shaped {
            return match self.check_preflight(request) {
                Ok(echo) => Decision {
                    listed_origin: listed,
                    ..self.preflight(raw, echo)
                },
                Err((reason, fault)) => self.reject(true, reason, fault),
            };
        }
        if !self.method_allowed(request.method) {
            return self.reject(
                false,
                Reason::MethodNotAllowed,
                Cow::Borrowed(request.method),
            );
        }
        Decision {
            listed_origin: listed,
            ..self.decision(Verdict::Actual, self.actual_plan(), raw)
        }
    }

    /// The plan every decision starts from: `x-cors-version` only, and `Vary` as §4 says.
    fn base_plan(&self, preflight_shaped: bool) -> Plan {
        let inner = &self.inner;
        Plan::default()
            .with_vary_origin(!inner.origins.any)
            .with_vary_preflight(preflight_shaped)
            .with_vary_private_network(preflight_shaped && inner.private_network)
            .with_debug(inner.debug)
    }

    fn origin_source(&self) -> OriginSource {
        if self.inner.origins.any {
            OriginSource::Any
        } else {
            OriginSource::Request
        }
    }

    fn expose_source(&self) -> Option<ExposeSource> {
        match self.inner.expose {
            Expose::None => None,
            Expose::Any if self.inner.credentials => Some(ExposeSource::Response),
            Expose::Any => Some(ExposeSource::Any),
            Expose::List(_) => Some(ExposeSource::Policy),
        }
    }

    fn decision<'r>(&self, verdict: Verdict, plan: Plan, origin: &'r [u8]) -> Decision<'r> {
        Decision {
            verdict,
            plan,
            origin,
            listed_origin: None,
            echo_method: b"",
            echo_headers: Cow::Borrowed(b""),
            fault: Cow::Borrowed(b""),
        }
    }

    fn not_cors<'r>(&self, preflight_shaped: bool) -> Decision<'r> {
        let mut plan = self.base_plan(preflight_shaped);
        if self.inner.origins.any {
            // A wildcard policy answers every response the same, CORS or not (§4).
            plan = plan
                .with_allow_origin(Some(OriginSource::Any))
                .with_expose_headers(
                    self.expose_source()
                        .filter(|s| *s != ExposeSource::Response),
                );
        }
        self.decision(Verdict::NotCors, plan, b"")
    }

    fn actual_plan(&self) -> Plan {
        self.base_plan(false)
            .with_allow_origin(Some(self.origin_source()))
            .with_expose_headers(self.expose_source())
            .with_allow_credentials(self.inner.credentials)
    }

    fn preflight<'r>(&self, origin: &'r [u8], echo: PreflightEcho<'r>) -> Decision<'r> {
        let list = |allowed: &Allowed, echoed: bool| match allowed {
            Allowed::List { .. } => Some(ListSource::Policy),
            Allowed::Any if echoed => Some(ListSource::Request),
            Allowed::Any => None,
        };
        let plan = self
            .base_plan(true)
            .with_allow_origin(Some(self.origin_source()))
            .with_allow_methods(list(&self.inner.methods, true))
            .with_allow_headers(list(&self.inner.headers, echo.headers.is_some()))
            // With credentials, `*` would be a header name; a preflight has no response
            // headers to list, so none are sent.
            .with_expose_headers(
                self.expose_source()
                    .filter(|s| *s != ExposeSource::Response),
            )
            .with_allow_credentials(self.inner.credentials)
            .with_max_age(true)
            .with_allow_private_network(echo.private_network);
        Decision {
            echo_method: echo.method,
            echo_headers: echo.headers.unwrap_or(Cow::Borrowed(b"")),
            ..self.decision(Verdict::Preflight, plan, origin)
        }
    }

    fn reject<'r>(
        &self,
        preflight_shaped: bool,
        reason: Reason,
        fault: Cow<'r, [u8]>,
    ) -> Decision<'r> {
        let forward = !preflight_shaped && self.inner.forward_disallowed;
        if log::log_enabled!(log::Level::Debug) {
            let rejection = crate::decision::Rejection::new(reason, &fault);
            let what = if forward {
                "forwarded without CORS headers"
            } else {
                "rejected"
            };
            log::debug!("CORS request {what}: {rejection}");
        }
        let (verdict, plan) = if forward {
            // No CORS header at all, not even a wildcard policy's `*`: this response depends
            // on the Origin, so it varies on it whatever the policy (§4).
            let plan = self.base_plan(false).with_vary_origin(true);
            (Verdict::Disallowed(reason), plan)
        } else {
            let plan = self.base_plan(preflight_shaped).with_reject(true);
            (Verdict::Reject(reason), plan)
        };
        Decision {
            fault,
            ..self.decision(verdict, plan, b"")
        }
    }

    /// The rejection of an `Origin` value that does not parse: several origins in one line
    /// (proxies such as Envoy join repeated lines), or an invalid one. No origin has a comma,
    /// so only such a value is searched for one.
    #[cold]
    fn reject_unparsed<'r>(&self, preflight_shaped: bool, raw: &'r [u8]) -> Decision<'r> {
        if raw.contains(&b',') {
            self.reject(
                preflight_shaped,
                Reason::MultipleOrigins,
                Cow::Borrowed(b""),
            )
        } else {
            self.reject(preflight_shaped, Reason::InvalidOrigin, Cow::Borrowed(raw))
        }
    }

    fn method_allowed(&self, method: &[u8]) -> bool {
        match &self.inner.methods {
            Allowed::Any => true,
            Allowed::List { names, .. } => {
                let listed = |m: &[u8]| names.iter().any(|n| eq_bytes(n.as_bytes(), m));
                listed(method) || (method == b"HEAD" && listed(b"GET"))
            }
        }
    }

    /// Whether the header `name` (a token; `lowercase` when it has no uppercase letter, as
    /// browsers send it) is allowed.
    fn header_allowed(&self, name: &[u8], lowercase: bool) -> bool {
        match &self.inner.headers {
            Allowed::Any => true,
            // Configured names are lowercase: a lowercase name compares byte for byte.
            Allowed::List { names, .. } if lowercase => {
                names.iter().any(|n| eq_bytes(n.as_bytes(), name))
            }
            Allowed::List { names, .. } => names
                .iter()
                .any(|n| n.as_bytes().eq_ignore_ascii_case(name)),
        }
    }

    fn check_preflight<'r>(
        &self,
        request: &RequestView<'r>,
    ) -> Result<PreflightEcho<'r>, Failure<'r>> {
        let invalid = || {
            Err((
                Reason::InvalidRequestMethod,
                request.request_method.joined(),
            ))
        };
        let Some(method) = request.request_method.single() else {
            return invalid();
        };
        // A listed method is a token: a method is checked for being one only when it is not
        // listed (which is then the reason to reject it), or when every method is allowed.
        let allowed = self.method_allowed(method);
        if !allowed || self.inner.methods.is_any() {
            if !is_token(method) {
                return invalid();
            }
            if !allowed {
                return Err((Reason::MethodNotAllowed, Cow::Borrowed(method)));
            }
        }
        let headers = self.check_request_headers(request.request_headers.as_slice())?;
        // Never a reason to reject (§3): without the option, the request header is ignored.
        let private_network = self.inner.private_network
            && request
                .private_network
                .single()
                .is_some_and(|v| trim_ows(v).eq_ignore_ascii_case(b"true"));
        Ok(PreflightEcho {
            method,
            headers,
            private_network,
        })
    }

    /// Checks every requested header name; returns the normalised list to echo when
    /// `allow_headers` is `*` and the list is non-empty.
    fn check_request_headers<'r>(
        &self,
        lines: &[&'r [u8]],
    ) -> Result<Option<Cow<'r, [u8]>>, Failure<'r>> {
        let total: usize =
            lines.iter().map(|l| l.len()).sum::<usize>() + lines.len().saturating_sub(1);
        if total > MAX_REQUEST_HEADERS_BYTES {
            return Err((Reason::RequestHeadersTooLong, Cow::Borrowed(b"")));
        }
        let mut count = 0;
        let mut canonical = lines.len() <= 1;
        for line in lines {
            for (raw_item, shape) in token_items(line) {
                // A token has no spaces: only an item that is not one may need trimming, and
                // a trimmed item is classified again (rare: browsers send no spaces).
                let (item, shape) = match shape {
                    TokenShape::Invalid => {
                        let item = trim_ows(raw_item);
                        let shape = if item.len() == raw_item.len() {
                            shape
                        } else {
                            classify(item)
                        };
                        (item, shape)
                    }
                    _ => (raw_item, shape),
                };
                canonical &= item.len() == raw_item.len() && !item.is_empty();
                if item.is_empty() {
                    continue;
                }
                count += 1;
                if count > MAX_REQUEST_HEADER_NAMES {
                    return Err((Reason::TooManyRequestHeaders, Cow::Borrowed(b"")));
                }
                if shape == TokenShape::Invalid {
                    return Err((Reason::InvalidRequestHeader, Cow::Borrowed(item)));
                }
                if !self.header_allowed(item, shape == TokenShape::Lowercase) {
                    return Err((Reason::HeaderNotAllowed, Cow::Borrowed(item)));
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
        for item in lines.iter().flat_map(|l| list_items(l)) {
            if !joined.is_empty() {
                joined.push(b',');
            }
            joined.extend_from_slice(item);
        }
        Ok(Some(Cow::Owned(joined)))
    }
}

/// Whether `authority` can name `host` at all: a cross-origin request's hosts usually differ,
/// and this answers without looking for the port. Bracketed IPv6 hosts are compared in full.
fn host_may_match(authority: &[u8], host: &[u8]) -> bool {
    if authority.first() == Some(&b'[') {
        return true;
    }
    authority
        .get(..host.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(host))
        && matches!(authority.get(host.len()), None | Some(b':'))
}

/// §2.2: whether the Origin is the request's own origin (scheme + authority). Without a
/// known scheme, hosts and explicit ports are compared.
fn is_same_origin(origin: &OriginParts<'_>, request: &RequestView<'_>) -> bool {
    let (forwarded_host, forwarded_proto) = request.forwarded.host_and_proto();
    let scheme = forwarded_proto.or(request.scheme);
    let Some(authority) = forwarded_host.or(request.authority) else {
        return false;
    };
    if !host_may_match(authority, origin.host) {
        return false;
    }
    let Some((host, port)) = split_host_port(authority) else {
        return false;
    };
    if !same_host(host, origin.host) {
        return false;
    }
    match scheme {
        Some(scheme) => {
            origin.scheme.eq_ignore_ascii_case(scheme)
                && origin.effective_port() == port.or_else(|| default_port(scheme))
        }
        None => origin.port == port,
    }
}
