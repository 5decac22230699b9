//! What the policy decided about a request (§2–4), as small values: a [`Verdict`], a
//! `Copy` plan of the headers to write, and, for answers given locally, the request values
//! they echo. A decision holds no policy and copies no request data.

use std::borrow::Cow;
use std::fmt;

use crate::limits::{MAX_REQUEST_HEADER_NAMES, MAX_REQUEST_HEADERS_BYTES};

/// What happened to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verdict {
    /// Not a CORS request (no `Origin`, or same-origin): forwarded.
    NotCors,
    /// An allowed preflight: answered 200 locally.
    Preflight,
    /// An allowed actual CORS request: forwarded, and the response gets CORS headers.
    Actual,
    /// An invalid or disallowed CORS request: answered 403 locally.
    Reject(Reason),
    /// An actual CORS request that failed a check, forwarded without CORS headers
    /// (`forward_disallowed_requests`): the browser keeps the response from the page.
    Disallowed(Reason),
}

impl Verdict {
    /// A short name for logs and metrics: `not-cors`, `preflight`, `actual`, `reject` or
    /// `disallowed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::NotCors => "not-cors",
            Self::Preflight => "preflight",
            Self::Actual => "actual",
            Self::Reject(_) => "reject",
            Self::Disallowed(_) => "disallowed",
        }
    }

    /// Why the request failed a check (rejected, or forwarded as disallowed), if it did.
    pub fn reason(self) -> Option<Reason> {
        match self {
            Self::Reject(reason) | Self::Disallowed(reason) => Some(reason),
            _ => None,
        }
    }
}

/// The name, and for a failed check the reason's code: `actual`, `reject: origin-not-allowed`,
/// `disallowed: method-not-allowed` (the form every adapter's log line uses).
impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        match self.reason() {
            Some(reason) => write!(f, ": {}", reason.code()),
            None => Ok(()),
        }
    }
}

/// Why a request was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// More than one `Origin` header (or one line holding several values).
    MultipleOrigins,
    /// `Origin` is not a serialized origin (nor `null`).
    InvalidOrigin,
    /// The origin is in neither `allow_origins` nor `allow_origin_patterns`.
    OriginNotAllowed,
    /// `Access-Control-Request-Method` is not a method token.
    InvalidRequestMethod,
    /// The (requested) method is not in `allow_methods`.
    MethodNotAllowed,
    /// An `Access-Control-Request-Headers` item is not a header name.
    InvalidRequestHeader,
    /// `Access-Control-Request-Headers` names more than 64 headers.
    TooManyRequestHeaders,
    /// `Access-Control-Request-Headers` is longer than 4 KiB.
    RequestHeadersTooLong,
    /// A requested header is not in `allow_headers`.
    HeaderNotAllowed,
}

impl Reason {
    /// Every reason, in a fixed order.
    pub const ALL: [Reason; 9] = [
        Self::MultipleOrigins,
        Self::InvalidOrigin,
        Self::OriginNotAllowed,
        Self::InvalidRequestMethod,
        Self::MethodNotAllowed,
        Self::InvalidRequestHeader,
        Self::TooManyRequestHeaders,
        Self::RequestHeadersTooLong,
        Self::HeaderNotAllowed,
    ];

    /// The reason's position in [`ALL`](Self::ALL).
    pub fn index(self) -> usize {
        match self {
            Self::MultipleOrigins => 0,
            Self::InvalidOrigin => 1,
            Self::OriginNotAllowed => 2,
            Self::InvalidRequestMethod => 3,
            Self::MethodNotAllowed => 4,
            Self::InvalidRequestHeader => 5,
            Self::TooManyRequestHeaders => 6,
            Self::RequestHeadersTooLong => 7,
            Self::HeaderNotAllowed => 8,
        }
    }

    /// A stable identifier for metrics and machine-readable output (`origin-not-allowed`).
    pub fn code(self) -> &'static str {
        match self {
            Self::MultipleOrigins => "multiple-origins",
            Self::InvalidOrigin => "invalid-origin",
            Self::OriginNotAllowed => "origin-not-allowed",
            Self::InvalidRequestMethod => "invalid-request-method",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::InvalidRequestHeader => "invalid-request-header",
            Self::TooManyRequestHeaders => "too-many-request-headers",
            Self::RequestHeadersTooLong => "request-headers-too-long",
            Self::HeaderNotAllowed => "header-not-allowed",
        }
    }
}

/// A failed check with the request value at fault, for logs and the `debug` body and
/// `x-cors-reason` header (`header "x-token" is not allowed`). Its text is printable ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection<'d> {
    reason: Reason,
    value: &'d [u8],
}

impl<'d> Rejection<'d> {
    pub(crate) fn new(reason: Reason, value: &'d [u8]) -> Self {
        Self { reason, value }
    }

    /// Why.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The request value at fault (empty for reasons that have none).
    pub fn value(&self) -> &[u8] {
        self.value
    }
}

impl fmt::Display for Rejection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = self.value.escape_ascii();
        match self.reason {
            Reason::MultipleOrigins => f.write_str("more than one Origin header"),
            Reason::InvalidOrigin => write!(f, "origin \"{value}\" is not a serialized origin"),
            Reason::OriginNotAllowed => write!(f, "origin \"{value}\" is not allowed"),
            Reason::InvalidRequestMethod => {
                write!(f, "requested method \"{value}\" is not a method name")
            }
            Reason::MethodNotAllowed => write!(f, "method \"{value}\" is not allowed"),
            Reason::InvalidRequestHeader => {
                write!(f, "requested header \"{value}\" is not a header name")
            }
            Reason::TooManyRequestHeaders => write!(
                f,
                "Access-Control-Request-Headers names more than {MAX_REQUEST_HEADER_NAMES} headers"
            ),
            Reason::RequestHeadersTooLong => write!(
                f,
                "Access-Control-Request-Headers is longer than {MAX_REQUEST_HEADERS_BYTES} bytes"
            ),
            Reason::HeaderNotAllowed => write!(f, "header \"{value}\" is not allowed"),
        }
    }
}

/// The status of an answer the policy gives itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnswerStatus {
    /// 200: an allowed preflight.
    Ok,
    /// 403: a rejection.
    Forbidden,
}

impl AnswerStatus {
    /// The status code.
    pub fn code(self) -> u16 {
        match self {
            Self::Ok => 200,
            Self::Forbidden => 403,
        }
    }
}

/// The body of every 403 (§4).
pub const REJECT_BODY: &str = "Invalid CORS request";

/// A response the policy gives without calling the application: status and body (its headers
/// come from [`Decision::write_headers`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalAnswer {
    /// 200 for a preflight, 403 for a rejection.
    pub status: AnswerStatus,
    /// Empty for a preflight; [`REJECT_BODY`] (plus the reason
    /// with `debug`) for a 403.
    pub body: Cow<'static, str>,
}

/// What an adapter does with a request: answer it, or forward it and fix up the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer without calling the application (headers from [`Decision::write_headers`]).
    Answer(LocalAnswer),
    /// Forward, then write the headers onto the response with [`Forwarded::write_headers`].
    Forward(Forwarded),
}

/// Where the `Access-Control-Allow-Origin` value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OriginSource {
    /// `*`.
    Any,
    /// The request's `Origin`, as sent.
    Request,
}

/// Where an allow-list value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListSource {
    /// The configured list.
    Policy,
    /// The request's value, echoed (`*` policies).
    Request,
}

/// Where the `Access-Control-Expose-Headers` value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExposeSource {
    /// The configured list.
    Policy,
    /// `*`.
    Any,
    /// The response's own header names (`*` with credentials).
    Response,
}

/// Which headers a response gets and where their values come from: a `Copy` value the
/// adapter keeps until the response exists. Its parts are bits of one `u16`, built and
/// copied in a register: a struct of twelve byte-sized fields, stored one byte at a time and
/// then copied a word at a time, stalled the processor on every decision (a load that spans
/// several pending stores waits for them to reach the cache).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Plan(u16);

/// The two-bit field of a source: 0 is `None`.
const ORIGIN_SHIFT: u32 = 0;
const METHODS_SHIFT: u32 = 2;
const HEADERS_SHIFT: u32 = 4;
const EXPOSE_SHIFT: u32 = 6;

/// Defines a plan's flag: a getter, and a `with_` setter that returns the changed plan.
macro_rules! plan_flags {
    ($($(#[$doc:meta])* $name:ident, $with:ident = $bit:expr;)*) => {
        impl Plan {
            $(
                $(#[$doc])*
                pub(crate) fn $name(self) -> bool {
                    self.0 & (1 << $bit) != 0
                }

                pub(crate) fn $with(self, on: bool) -> Self {
                    Self((self.0 & !(1 << $bit)) | (u16::from(on) << $bit))
                }
            )*
        }
    };
}

plan_flags! {
    /// `Access-Control-Allow-Credentials: true`.
    allow_credentials, with_allow_credentials = 8;
    /// `Access-Control-Max-Age`.
    max_age, with_max_age = 9;
    /// `Access-Control-Allow-Private-Network: true`.
    allow_private_network, with_allow_private_network = 10;
    /// `Vary` gets `Origin`.
    vary_origin, with_vary_origin = 11;
    /// `Vary` gets `Access-Control-Request-Method, Access-Control-Request-Headers`.
    vary_preflight, with_vary_preflight = 12;
    /// ... and `Access-Control-Request-Private-Network`.
    vary_private_network, with_vary_private_network = 13;
    /// A 403: `content-type: text/plain`.
    reject, with_reject = 14;
    /// The 403 says why, in its body and in `x-cors-reason` (`debug`).
    debug, with_debug = 15;
}

impl Plan {
    /// The plan as one number: equal plans, equal numbers.
    pub(crate) fn bits(self) -> u16 {
        self.0
    }

    fn field(self, shift: u32) -> u16 {
        (self.0 >> shift) & 0b11
    }

    fn with_field(self, shift: u32, value: u16) -> Self {
        Self((self.0 & !(0b11 << shift)) | (value << shift))
    }

    /// `Access-Control-Allow-Origin`.
    pub(crate) fn allow_origin(self) -> Option<OriginSource> {
        match self.field(ORIGIN_SHIFT) {
            1 => Some(OriginSource::Any),
            2 => Some(OriginSource::Request),
            _ => None,
        }
    }

    pub(crate) fn with_allow_origin(self, source: Option<OriginSource>) -> Self {
        let value = match source {
            None => 0,
            Some(OriginSource::Any) => 1,
            Some(OriginSource::Request) => 2,
        };
        self.with_field(ORIGIN_SHIFT, value)
    }

    fn list(self, shift: u32) -> Option<ListSource> {
        match self.field(shift) {
            1 => Some(ListSource::Policy),
            2 => Some(ListSource::Request),
            _ => None,
        }
    }

    fn with_list(self, shift: u32, source: Option<ListSource>) -> Self {
        let value = match source {
            None => 0,
            Some(ListSource::Policy) => 1,
            Some(ListSource::Request) => 2,
        };
        self.with_field(shift, value)
    }

    /// `Access-Control-Allow-Methods`.
    pub(crate) fn allow_methods(self) -> Option<ListSource> {
        self.list(METHODS_SHIFT)
    }

    pub(crate) fn with_allow_methods(self, source: Option<ListSource>) -> Self {
        self.with_list(METHODS_SHIFT, source)
    }

    /// `Access-Control-Allow-Headers`.
    pub(crate) fn allow_headers(self) -> Option<ListSource> {
        self.list(HEADERS_SHIFT)
    }

    pub(crate) fn with_allow_headers(self, source: Option<ListSource>) -> Self {
        self.with_list(HEADERS_SHIFT, source)
    }

    /// `Access-Control-Expose-Headers`.
    pub(crate) fn expose_headers(self) -> Option<ExposeSource> {
        match self.field(EXPOSE_SHIFT) {
            1 => Some(ExposeSource::Policy),
            2 => Some(ExposeSource::Any),
            3 => Some(ExposeSource::Response),
            _ => None,
        }
    }

    pub(crate) fn with_expose_headers(self, source: Option<ExposeSource>) -> Self {
        let value = match source {
            None => 0,
            Some(ExposeSource::Policy) => 1,
            Some(ExposeSource::Any) => 2,
            Some(ExposeSource::Response) => 3,
        };
        self.with_field(EXPOSE_SHIFT, value)
    }

    /// How many headers writing this plan sets at most.
    pub(crate) fn max_headers(self) -> usize {
        // `x-cors-version` and `Vary` always, then the optional ones.
        2 + usize::from(self.allow_origin().is_some())
            + usize::from(self.allow_methods().is_some())
            + usize::from(self.allow_headers().is_some())
            + usize::from(self.expose_headers().is_some())
            + usize::from(self.allow_credentials())
            + usize::from(self.max_age())
            + usize::from(self.allow_private_network())
            + 2 * usize::from(self.reject())
    }
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plan")
            .field("allow_origin", &self.allow_origin())
            .field("allow_methods", &self.allow_methods())
            .field("allow_headers", &self.allow_headers())
            .field("expose_headers", &self.expose_headers())
            .field("allow_credentials", &self.allow_credentials())
            .field("max_age", &self.max_age())
            .field("allow_private_network", &self.allow_private_network())
            .field("vary_origin", &self.vary_origin())
            .field("vary_preflight", &self.vary_preflight())
            .field("vary_private_network", &self.vary_private_network())
            .field("reject", &self.reject())
            .field("debug", &self.debug())
            .finish()
    }
}

/// The decision for one request. Answer [`local_answer`](Self::local_answer) yourself (with
/// the headers from [`write_headers`](Self::write_headers)), or forward the request and
/// keep [`forwarded`](Self::forwarded) to fix up the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'r> {
    pub(crate) verdict: Verdict,
    pub(crate) plan: Plan,
    /// The request's `Origin`, for an answer given locally.
    pub(crate) origin: &'r [u8],
    /// Which of the policy's exact origins `origin` is, byte for byte, counted from 1, when
    /// the answer or the response echoes it (four bytes: it fits beside the verdict and plan).
    pub(crate) listed_origin: Option<std::num::NonZeroU32>,
    /// The requested method, echoed by `allow_methods: *`.
    pub(crate) echo_method: &'r [u8],
    /// The requested headers, normalised, echoed by `allow_headers: *`.
    pub(crate) echo_headers: Cow<'r, [u8]>,
    /// The request value at fault, for a rejection.
    pub(crate) fault: Cow<'r, [u8]>,
}

/// What a forwarded request's response needs: a `Copy` value with no borrowed data, to keep
/// until the upstream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Forwarded {
    pub(crate) verdict: Verdict,
    pub(crate) plan: Plan,
}

impl Forwarded {
    /// [`Verdict::NotCors`], [`Verdict::Actual`] or [`Verdict::Disallowed`].
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Whether [`write_headers`](Self::write_headers) lists the response's own header names,
    /// in the order [`ResponseHeaders::for_each`](crate::adapter::ResponseHeaders::for_each)
    /// visits them (`expose_headers: *` with credentials). Hosts whose header maps keep no
    /// order can visit them in a fixed order just for these.
    pub fn exposes_response_headers(&self) -> bool {
        self.plan.expose_headers() == Some(ExposeSource::Response)
    }
}

impl<'r> Decision<'r> {
    /// What happened.
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Why the request failed a check (rejected or disallowed), with the value at fault.
    pub fn rejection(&self) -> Option<Rejection<'_>> {
        self.verdict
            .reason()
            .map(|reason| Rejection::new(reason, &self.fault))
    }

    /// The answer to give without calling the application: 200 for a preflight, 403 for a
    /// rejection. `None` means forward the request.
    pub fn local_answer(&self) -> Option<LocalAnswer> {
        match self.verdict {
            Verdict::Preflight => Some(LocalAnswer {
                status: AnswerStatus::Ok,
                body: Cow::Borrowed(""),
            }),
            Verdict::Reject(_) => Some(LocalAnswer {
                status: AnswerStatus::Forbidden,
                body: match self.rejection() {
                    Some(rejection) if self.plan.debug() => {
                        Cow::Owned(format!("{REJECT_BODY}: {rejection}"))
                    }
                    _ => Cow::Borrowed(REJECT_BODY),
                },
            }),
            _ => None,
        }
    }

    /// Answer or forward.
    pub fn action(&self) -> Action {
        match (self.local_answer(), self.forwarded()) {
            (Some(answer), _) => Action::Answer(answer),
            (None, Some(forwarded)) => Action::Forward(forwarded),
            // Every verdict is one of the two; a future one that is neither forwards untouched.
            (None, None) => Action::Forward(Forwarded {
                verdict: self.verdict,
                plan: self.plan,
            }),
        }
    }

    /// What the response of a forwarded request needs; `None` for answers given locally.
    pub fn forwarded(&self) -> Option<Forwarded> {
        matches!(
            self.verdict,
            Verdict::NotCors | Verdict::Actual | Verdict::Disallowed(_)
        )
        .then_some(Forwarded {
            verdict: self.verdict,
            plan: self.plan,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every setter changes its own part of the plan and nothing else, whatever the others hold.
    #[test]
    fn plan_parts_are_independent() {
        let origins = [None, Some(OriginSource::Any), Some(OriginSource::Request)];
        let lists = [None, Some(ListSource::Policy), Some(ListSource::Request)];
        let exposes = [
            None,
            Some(ExposeSource::Policy),
            Some(ExposeSource::Any),
            Some(ExposeSource::Response),
        ];
        type Flag = (fn(Plan) -> bool, fn(Plan, bool) -> Plan);
        let flags: [Flag; 8] = [
            (Plan::allow_credentials, Plan::with_allow_credentials),
            (Plan::max_age, Plan::with_max_age),
            (
                Plan::allow_private_network,
                Plan::with_allow_private_network,
            ),
            (Plan::vary_origin, Plan::with_vary_origin),
            (Plan::vary_preflight, Plan::with_vary_preflight),
            (Plan::vary_private_network, Plan::with_vary_private_network),
            (Plan::reject, Plan::with_reject),
            (Plan::debug, Plan::with_debug),
        ];
        for origin in origins {
            for methods in lists {
                for headers in lists {
                    for expose in exposes {
                        for mask in 0u16..256 {
                            let mut plan = Plan::default()
                                .with_allow_origin(origin)
                                .with_allow_methods(methods)
                                .with_allow_headers(headers)
                                .with_expose_headers(expose);
                            for (i, (_, set)) in flags.iter().enumerate() {
                                plan = set(plan, mask & (1 << i) != 0);
                            }
                            assert_eq!(plan.allow_origin(), origin);
                            assert_eq!(plan.allow_methods(), methods);
                            assert_eq!(plan.allow_headers(), headers);
                            assert_eq!(plan.expose_headers(), expose);
                            for (i, (get, _)) in flags.iter().enumerate() {
                                assert_eq!(get(plan), mask & (1 << i) != 0, "flag {i}");
                            }
                            // Setting a part again replaces it.
                            let again = plan
                                .with_allow_methods(headers)
                                .with_expose_headers(None)
                                .with_debug(false);
                            assert_eq!(again.allow_methods(), headers);
                            assert_eq!(again.allow_headers(), headers);
                            assert_eq!(again.expose_headers(), None);
                            assert!(!again.debug());
                            assert_eq!(again.reject(), plan.reject());
                        }
                    }
                }
            }
        }
    }
}
