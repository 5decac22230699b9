//! What the policy decided about a request (SPEC §4), and why when it rejected it.

use std::borrow::Cow;
use std::fmt;

use crate::policy::{Allowed, Expose, Policy};

/// The status, body and content type of a response the policy answers itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResponse {
    /// 200 for an allowed preflight, 403 for a rejection.
    pub status: u16,
    /// Empty for a preflight; `Invalid CORS request` (plus the reason with `debug`) for a 403.
    pub body: Cow<'static, str>,
}

/// The body of every 403 (SPEC §4).
pub const REJECT_BODY: &str = "Invalid CORS request";

/// The decision for one request. Adapters answer [`Decision::local_response`] themselves
/// (preflights and rejections never reach the application) or forward the request, and in
/// both cases write the headers with [`Decision::apply`](crate::Decision::apply).
#[derive(Debug, Clone)]
pub enum Decision<'a> {
    /// Not a CORS request (no Origin, or same-origin): forward it.
    NotCors(NotCors),
    /// An allowed preflight: answer 200 locally.
    Preflight(Preflight<'a>),
    /// An allowed actual CORS request: forward it and add CORS headers to the response.
    Actual(Actual<'a>),
    /// An invalid or disallowed CORS request: answer 403 locally.
    Reject(Reject<'a>),
}

/// A request that is not a CORS request.
#[derive(Debug, Clone)]
pub struct NotCors {
    pub(crate) policy: Policy,
    pub(crate) preflight_shaped: bool,
}

/// An allowed preflight.
#[derive(Debug, Clone)]
pub struct Preflight<'a> {
    pub(crate) policy: Policy,
    pub(crate) origin: AllowOrigin<'a>,
    /// The requested method, echoed when `allow_methods` is `*`.
    pub(crate) method: Option<Cow<'a, [u8]>>,
    /// The requested headers, normalised, echoed when `allow_headers` is `*`.
    pub(crate) headers: Option<Cow<'a, [u8]>>,
    pub(crate) private_network: bool,
}

/// An allowed actual CORS request.
#[derive(Debug, Clone)]
pub struct Actual<'a> {
    pub(crate) policy: Policy,
    pub(crate) origin: AllowOrigin<'a>,
}

/// A rejected request.
#[derive(Debug, Clone)]
pub struct Reject<'a> {
    pub(crate) policy: Policy,
    pub(crate) reason: Reason<'a>,
    pub(crate) preflight_shaped: bool,
}

impl<'a> Reject<'a> {
    /// Why the request was rejected.
    pub fn reason(&self) -> &Reason<'a> {
        &self.reason
    }
}

/// The `Access-Control-Allow-Origin` value of an allowed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AllowOrigin<'a> {
    Any,
    Echo(Cow<'a, [u8]>),
}

/// Why a request was rejected with 403.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason<'a> {
    /// More than one `Origin` header.
    MultipleOrigins,
    /// `Origin` is not a serialized origin (nor `null`).
    InvalidOrigin(Cow<'a, [u8]>),
    /// The origin is in neither `allow_origins` nor `allow_origin_patterns`.
    OriginNotAllowed(Cow<'a, [u8]>),
    /// `Access-Control-Request-Method` is not a method token.
    InvalidRequestMethod(Cow<'a, [u8]>),
    /// The (requested) method is not in `allow_methods`.
    MethodNotAllowed(Cow<'a, [u8]>),
    /// An `Access-Control-Request-Headers` item is not a header name.
    InvalidRequestHeader(Cow<'a, [u8]>),
    /// `Access-Control-Request-Headers` names more than 64 headers.
    TooManyRequestHeaders,
    /// `Access-Control-Request-Headers` is longer than 4 KiB.
    RequestHeadersTooLong,
    /// A requested header is not in `allow_headers`.
    HeaderNotAllowed(Cow<'a, [u8]>),
    /// The preflight asks for private network access and `allow_private_network` is off.
    PrivateNetworkNotAllowed,
}

impl Reason<'_> {
    /// The same reason, owning its data.
    pub fn into_owned(self) -> Reason<'static> {
        let own = |c: Cow<'_, [u8]>| Cow::Owned(c.into_owned());
        match self {
            Self::MultipleOrigins => Reason::MultipleOrigins,
            Self::InvalidOrigin(v) => Reason::InvalidOrigin(own(v)),
            Self::OriginNotAllowed(v) => Reason::OriginNotAllowed(own(v)),
            Self::InvalidRequestMethod(v) => Reason::InvalidRequestMethod(own(v)),
            Self::MethodNotAllowed(v) => Reason::MethodNotAllowed(own(v)),
            Self::InvalidRequestHeader(v) => Reason::InvalidRequestHeader(own(v)),
            Self::TooManyRequestHeaders => Reason::TooManyRequestHeaders,
            Self::RequestHeadersTooLong => Reason::RequestHeadersTooLong,
            Self::HeaderNotAllowed(v) => Reason::HeaderNotAllowed(own(v)),
            Self::PrivateNetworkNotAllowed => Reason::PrivateNetworkNotAllowed,
        }
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |v: &[u8]| v.escape_ascii().to_string();
        match self {
            Self::MultipleOrigins => f.write_str("more than one Origin header"),
            Self::InvalidOrigin(v) => {
                write!(f, "origin \"{}\" is not a serialized origin", quoted(v))
            }
            Self::OriginNotAllowed(v) => write!(f, "origin \"{}\" is not allowed", quoted(v)),
            Self::InvalidRequestMethod(v) => {
                write!(f, "requested method \"{}\" is not a method name", quoted(v))
            }
            Self::MethodNotAllowed(v) => write!(f, "method \"{}\" is not allowed", quoted(v)),
            Self::InvalidRequestHeader(v) => {
                write!(f, "requested header \"{}\" is not a header name", quoted(v))
            }
            Self::TooManyRequestHeaders => write!(
                f,
                "Access-Control-Request-Headers names more than {} headers",
                crate::MAX_REQUEST_HEADER_NAMES
            ),
            Self::RequestHeadersTooLong => write!(
                f,
                "Access-Control-Request-Headers is longer than {} bytes",
                crate::MAX_REQUEST_HEADERS_BYTES
            ),
            Self::HeaderNotAllowed(v) => write!(f, "header \"{}\" is not allowed", quoted(v)),
            Self::PrivateNetworkNotAllowed => f.write_str("private network access is not allowed"),
        }
    }
}

impl AllowOrigin<'_> {
    fn into_owned(self) -> AllowOrigin<'static> {
        match self {
            Self::Any => AllowOrigin::Any,
            Self::Echo(v) => AllowOrigin::Echo(Cow::Owned(v.into_owned())),
        }
    }
}

fn own(value: Option<Cow<'_, [u8]>>) -> Option<Cow<'static, [u8]>> {
    value.map(|v| Cow::Owned(v.into_owned()))
}

impl<'a> Decision<'a> {
    /// The policy that made this decision.
    pub fn policy(&self) -> &Policy {
        match self {
            Self::NotCors(d) => &d.policy,
            Self::Preflight(d) => &d.policy,
            Self::Actual(d) => &d.policy,
            Self::Reject(d) => &d.policy,
        }
    }

    /// Why the request was rejected, for [`Decision::Reject`].
    pub fn reason(&self) -> Option<&Reason<'a>> {
        match self {
            Self::Reject(r) => Some(&r.reason),
            _ => None,
        }
    }

    /// Whether the request may proceed (not CORS, or an allowed CORS request).
    pub fn is_allowed(&self) -> bool {
        !matches!(self, Self::Reject(_))
    }

    /// A short name for logs: `not-cors`, `preflight`, `actual` or `reject`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotCors(_) => "not-cors",
            Self::Preflight(_) => "preflight",
            Self::Actual(_) => "actual",
            Self::Reject(_) => "reject",
        }
    }

    /// The response to send without calling the application: 200 for a preflight, 403 for a
    /// rejection. `None` means forward the request.
    pub fn local_response(&self) -> Option<LocalResponse> {
        match self {
            Self::Preflight(_) => Some(LocalResponse {
                status: 200,
                body: Cow::Borrowed(""),
            }),
            Self::Reject(r) => Some(LocalResponse {
                status: 403,
                body: if r.policy.inner.debug {
                    Cow::Owned(format!("{REJECT_BODY}: {}", r.reason))
                } else {
                    Cow::Borrowed(REJECT_BODY)
                },
            }),
            Self::NotCors(_) | Self::Actual(_) => None,
        }
    }

    /// The same decision, owning the request data it echoes (for hosts that keep the decision
    /// after the request headers are gone, such as proxy-wasm).
    pub fn into_owned(self) -> Decision<'static> {
        match self {
            Self::NotCors(d) => Decision::NotCors(d),
            Self::Preflight(d) => Decision::Preflight(Preflight {
                policy: d.policy,
                origin: d.origin.into_owned(),
                method: own(d.method),
                headers: own(d.headers),
                private_network: d.private_network,
            }),
            Self::Actual(d) => Decision::Actual(Actual {
                policy: d.policy,
                origin: d.origin.into_owned(),
            }),
            Self::Reject(d) => Decision::Reject(Reject {
                policy: d.policy,
                reason: d.reason.into_owned(),
                preflight_shaped: d.preflight_shaped,
            }),
        }
    }

    pub(crate) fn preflight_shaped(&self) -> bool {
        match self {
            Self::NotCors(d) => d.preflight_shaped,
            Self::Preflight(_) => true,
            Self::Actual(_) => false,
            Self::Reject(d) => d.preflight_shaped,
        }
    }

    /// Whether [`apply`](Self::apply) lists the response's own header names, in the order
    /// [`ResponseHeaders::for_each`](crate::ResponseHeaders::for_each) visits them
    /// (`expose_headers: *` with credentials, on an actual request). Hosts whose header maps
    /// keep no order can visit them in a fixed order just for these decisions.
    pub fn exposes_response_headers(&self) -> bool {
        let inner = &self.policy().inner;
        matches!(self, Self::Actual(_)) && matches!(inner.expose, Expose::Any) && inner.credentials
    }

    /// The CORS headers this decision sets (besides `Vary`, `x-cors-version` and a computed
    /// `Access-Control-Expose-Headers`), in the seed's order.
    pub(crate) fn cors_headers<'s>(
        &'s self,
    ) -> impl Iterator<Item = (&'static str, FieldValue<'s>)> + 's {
        use crate::response::names::*;
        let inner = &self.policy().inner;
        let credentials = inner.credentials;
        let origin = |o: &'s AllowOrigin<'_>| match o {
            AllowOrigin::Any => FieldValue::Static("*"),
            AllowOrigin::Echo(v) => FieldValue::Request(v),
        };
        let expose = || match &inner.expose {
            Expose::None => None,
            Expose::Any if credentials => None,
            Expose::Any => Some(FieldValue::Static("*")),
            Expose::List(joined) => Some(FieldValue::Policy(PolicyField::ExposeHeaders, joined)),
        };
        let mut out: [Option<(&'static str, FieldValue<'s>)>; 7] = Default::default();
        match self {
            Self::NotCors(_) if inner.origins.any => {
                out[0] = Some((ALLOW_ORIGIN, FieldValue::Static("*")));
                out[3] = expose().map(|v| (EXPOSE_HEADERS, v));
            }
            Self::NotCors(_) | Self::Reject(_) => {}
            Self::Actual(a) => {
                out[0] = Some((ALLOW_ORIGIN, origin(&a.origin)));
                out[3] = expose().map(|v| (EXPOSE_HEADERS, v));
                out[4] = credentials.then_some((ALLOW_CREDENTIALS, FieldValue::Static("true")));
            }
            Self::Preflight(p) => {
                out[0] = Some((ALLOW_ORIGIN, origin(&p.origin)));
                out[1] = match (&inner.methods, &p.method) {
                    (Allowed::List { joined, .. }, _) => {
                        Some(FieldValue::Policy(PolicyField::AllowMethods, joined))
                    }
                    (Allowed::Any, Some(m)) => Some(FieldValue::Request(m)),
                    (Allowed::Any, None) => None,
                }
                .map(|v| (ALLOW_METHODS, v));
                out[2] = match (&inner.headers, &p.headers) {
                    (Allowed::List { joined, .. }, _) => {
                        Some(FieldValue::Policy(PolicyField::AllowHeaders, joined))
                    }
                    (Allowed::Any, Some(h)) => Some(FieldValue::Request(h)),
                    (Allowed::Any, None) => None,
                }
                .map(|v| (ALLOW_HEADERS, v));
                out[3] = expose().map(|v| (EXPOSE_HEADERS, v));
                out[4] = credentials.then_some((ALLOW_CREDENTIALS, FieldValue::Static("true")));
                out[5] = Some((
                    MAX_AGE,
                    FieldValue::Policy(PolicyField::MaxAge, &inner.max_age),
                ));
                out[6] = p
                    .private_network
                    .then_some((ALLOW_PRIVATE_NETWORK, FieldValue::Static("true")));
            }
        }
        out.into_iter().flatten()
    }
}

/// A header value the policy writes, by where its bytes come from, so adapters can avoid
/// copying what does not change (`Static`), or cache what is fixed per policy (`Policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'v> {
    /// A constant (`*`, `true`, `1.0.0`, ...).
    Static(&'static str),
    /// A value fixed by the policy (joined lists, max-age): for one policy, the same
    /// [`PolicyField`] always comes with the same bytes, so an adapter may build its header
    /// value once per policy and field.
    Policy(PolicyField, &'v str),
    /// A value derived from the request or response (echoed origin, requested headers, ...).
    Request(&'v [u8]),
}

/// The values a policy fixes once for all requests (see [`FieldValue::Policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyField {
    /// `Access-Control-Allow-Methods` from the configured list.
    AllowMethods = 0,
    /// `Access-Control-Allow-Headers` from the configured list.
    AllowHeaders = 1,
    /// `Access-Control-Expose-Headers` from the configured list.
    ExposeHeaders = 2,
    /// `Access-Control-Max-Age`.
    MaxAge = 3,
}

impl PolicyField {
    /// How many there are.
    pub const COUNT: usize = 4;
}

/// An adapter's header values for a policy's fixed fields, each built once (on first use) and
/// then cloned: for `http` header values a clone is a reference-count increment, not a copy.
/// Keep one per policy: a policy's [`FieldValue::Policy`] bytes never change.
#[derive(Debug)]
pub struct PolicyValues<T>([std::sync::OnceLock<Option<T>>; PolicyField::COUNT]);

impl<T> Default for PolicyValues<T> {
    fn default() -> Self {
        Self(Default::default())
    }
}

impl<T: Clone> PolicyValues<T> {
    /// The value built for `field` (from `value`, by `build`, the first time); `None` when
    /// `build` could not convert it.
    pub fn get(
        &self,
        field: PolicyField,
        value: &str,
        build: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        self.0[field as usize].get_or_init(|| build(value)).clone()
    }
}

impl FieldValue<'_> {
    /// The value's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Static(s) => s.as_bytes(),
            Self::Policy(_, s) => s.as_bytes(),
            Self::Request(b) => b,
        }
    }
}
