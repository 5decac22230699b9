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
/// adapter keeps until the response exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) allow_origin: Option<OriginSource>,
    pub(crate) allow_methods: Option<ListSource>,
    pub(crate) allow_headers: Option<ListSource>,
    pub(crate) expose_headers: Option<ExposeSource>,
    pub(crate) allow_credentials: bool,
    pub(crate) max_age: bool,
    pub(crate) allow_private_network: bool,
    /// `Vary` gets `Origin`.
    pub(crate) vary_origin: bool,
    /// `Vary` gets `Access-Control-Request-Method, Access-Control-Request-Headers`.
    pub(crate) vary_preflight: bool,
    /// ... and `Access-Control-Request-Private-Network`.
    pub(crate) vary_private_network: bool,
    /// A 403: `content-type: text/plain`.
    pub(crate) reject: bool,
    /// The 403 says why, in its body and in `x-cors-reason` (`debug`).
    pub(crate) debug: bool,
}

impl Plan {
    /// How many headers writing this plan sets at most.
    pub(crate) fn max_headers(&self) -> usize {
        // `x-cors-version` and `Vary` always, then the optional ones.
        2 + usize::from(self.allow_origin.is_some())
            + usize::from(self.allow_methods.is_some())
            + usize::from(self.allow_headers.is_some())
            + usize::from(self.expose_headers.is_some())
            + usize::from(self.allow_credentials)
            + usize::from(self.max_age)
            + usize::from(self.allow_private_network)
            + 2 * usize::from(self.reject)
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
        self.plan.expose_headers == Some(ExposeSource::Response)
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
                    Some(rejection) if self.plan.debug => {
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
