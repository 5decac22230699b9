//! What adapters need to write a decision onto their host's responses: the [`ResponseHeaders`]
//! trait they implement over their header maps, the [`FieldValue`]s they receive, and the
//! header names and constant values. The core does all the logic (which headers, `Vary`
//! merging, removal of upstream `access-control-*` headers, §4); adapters copy bytes.

use crate::decision::{
    Decision, ExposeSource, Forwarded, ListSource, OriginSource, Plan, Rejection,
};
use crate::fetch::{SAFELISTED_RESPONSE_HEADERS, is_access_control};
use crate::policy::Policy;
use crate::token::{eq_lowercase, list_items};

/// A function the tower layer and the actix-web middleware call with every decision's
/// [`Verdict`](crate::Verdict), for an application's own metrics
/// ([`Counter::for_verdict`](crate::counters::Counter::for_verdict) names the counters the
/// proxy-wasm plugin keeps). Cloning it shares the function.
#[derive(Clone)]
pub struct DecisionHook(std::sync::Arc<dyn Fn(crate::Verdict) + Send + Sync>);

impl DecisionHook {
    /// Wraps `hook`.
    pub fn new(hook: impl Fn(crate::Verdict) + Send + Sync + 'static) -> Self {
        Self(std::sync::Arc::new(hook))
    }

    /// Calls the function with `verdict`.
    pub fn call(&self, verdict: crate::Verdict) {
        (self.0)(verdict);
    }
}

impl std::fmt::Debug for DecisionHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DecisionHook")
    }
}

/// An application's origin predicate, as the tower layer and the actix-web middleware hold
/// it: asked about the origins a policy's lists do not allow, with the host's view of the
/// request (`R`: `http::request::Parts` for tower, `RequestHead` for actix-web). Cloning it
/// shares the function.
pub struct OriginPredicate<R: ?Sized>(std::sync::Arc<PredicateFn<R>>);

/// The function an [`OriginPredicate`] shares.
type PredicateFn<R> = dyn Fn(&crate::OriginRef<'_>, &R) -> bool + Send + Sync;

impl<R: ?Sized> OriginPredicate<R> {
    /// Wraps `predicate`.
    pub fn new(
        predicate: impl Fn(&crate::OriginRef<'_>, &R) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self(std::sync::Arc::new(predicate))
    }

    /// Whether the predicate allows `origin` for `request`.
    pub fn allows(&self, origin: &crate::OriginRef<'_>, request: &R) -> bool {
        (self.0)(origin, request)
    }
}

impl<R: ?Sized> Clone for OriginPredicate<R> {
    fn clone(&self) -> Self {
        Self(std::sync::Arc::clone(&self.0))
    }
}

impl<R: ?Sized> std::fmt::Debug for OriginPredicate<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginPredicate")
    }
}

/// Header bytes as text, for logs and tools: UTF-8 as is, anything else escaped (`\xff`).
///
/// ```
/// assert_eq!(polycors::adapter::header_text(b"https://a.example"), "https://a.example");
/// assert_eq!(polycors::adapter::header_text(b"caf\xe9"), "caf\\xe9");
/// ```
pub fn header_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => std::borrow::Cow::Owned(bytes.escape_ascii().to_string()),
    }
}

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
    /// `x-cors-reason`: why a request was answered 403, with `debug: true`.
    pub const CORS_REASON: &str = "x-cors-reason";
    /// `vary`
    pub const VARY: &str = "vary";
    /// `content-type`
    pub const CONTENT_TYPE: &str = "content-type";
}

/// A header the policy writes. Adapters map each to their own header-name constant once (a
/// `match`), rather than parsing a name per response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderField {
    /// `access-control-allow-origin`
    AllowOrigin,
    /// `access-control-allow-methods`
    AllowMethods,
    /// `access-control-allow-headers`
    AllowHeaders,
    /// `access-control-expose-headers`
    ExposeHeaders,
    /// `access-control-allow-credentials`
    AllowCredentials,
    /// `access-control-max-age`
    MaxAge,
    /// `access-control-allow-private-network`
    AllowPrivateNetwork,
    /// `x-cors-version`
    CorsVersion,
    /// `x-cors-reason` (`debug: true` rejections)
    CorsReason,
    /// `vary`
    Vary,
    /// `content-type` (rejections)
    ContentType,
}

impl HeaderField {
    /// The header's lowercase name (one of [`names`]).
    pub fn name(self) -> &'static str {
        match self {
            Self::AllowOrigin => names::ALLOW_ORIGIN,
            Self::AllowMethods => names::ALLOW_METHODS,
            Self::AllowHeaders => names::ALLOW_HEADERS,
            Self::ExposeHeaders => names::EXPOSE_HEADERS,
            Self::AllowCredentials => names::ALLOW_CREDENTIALS,
            Self::MaxAge => names::MAX_AGE,
            Self::AllowPrivateNetwork => names::ALLOW_PRIVATE_NETWORK,
            Self::CorsVersion => names::CORS_VERSION,
            Self::CorsReason => names::CORS_REASON,
            Self::Vary => names::VARY,
            Self::ContentType => names::CONTENT_TYPE,
        }
    }
}

/// Defines, in an adapter over an `http`-style `header` module (`http::header`,
/// `actix_web::http::header`, imported as `header`): `header_name(HeaderField)`,
/// `static_value(StaticValue)` and `request_header_name(RequestHeader)`, constants built at
/// compile time so that nothing is parsed or validated per request or response;
/// `fixed_values(&Policy)`, the policy's values built once; and
/// `header_value(FieldValue, &FixedValues, origin)`, the typed value of what the core writes.
#[macro_export]
macro_rules! header_conversions {
    ($header:ident) => {
        /// The typed value of `value`: the policy's values from `fixed`, the request's
        /// `origin` (taken: a response echoes it once, and an owned one is moved rather than
        /// cloned). The core only writes validated bytes; a value that does not convert is
        /// `None` (skipped) rather than a panic.
        #[inline(always)]
        fn header_value(
            value: $crate::adapter::FieldValue<'_>,
            fixed: &$crate::adapter::FixedValues<$header::HeaderValue>,
            origin: &mut Option<::std::borrow::Cow<'_, $header::HeaderValue>>,
        ) -> Option<$header::HeaderValue> {
            use $crate::adapter::FieldValue as V;
            match value {
                V::Static(value) => Some(static_value(value)),
                V::Policy(field) => fixed.get(field).cloned(),
                V::RequestOrigin => origin.take().map(::std::borrow::Cow::into_owned),
                V::Bytes(bytes) => $header::HeaderValue::from_bytes(bytes).ok(),
            }
        }

        /// The policy's fixed values, built once per layer: over [`interned`] `'static` bytes
        /// where the process's budget allows (a clone then touches no reference count), over
        /// shared bytes otherwise.
        ///
        /// [`interned`]: $crate::adapter::interned
        pub(crate) fn fixed_values(
            policy: &$crate::Policy,
        ) -> $crate::adapter::FixedValues<$header::HeaderValue> {
            $crate::adapter::FixedValues::new(policy, |value| {
                match $crate::adapter::interned(value) {
                    // `interned` returns visible ASCII only, which `from_static` accepts.
                    Some(kept) => Some($header::HeaderValue::from_static(kept)),
                    None => $header::HeaderValue::from_str(value).ok(),
                }
            })
        }

        /// The name of each header the core writes.
        fn header_name(field: $crate::adapter::HeaderField) -> $header::HeaderName {
            use $crate::adapter::HeaderField as F;
            use $crate::adapter::names as n;
            match field {
                F::AllowOrigin => $header::ACCESS_CONTROL_ALLOW_ORIGIN,
                F::AllowMethods => $header::ACCESS_CONTROL_ALLOW_METHODS,
                F::AllowHeaders => $header::ACCESS_CONTROL_ALLOW_HEADERS,
                F::ExposeHeaders => $header::ACCESS_CONTROL_EXPOSE_HEADERS,
                F::AllowCredentials => $header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                F::MaxAge => $header::ACCESS_CONTROL_MAX_AGE,
                F::AllowPrivateNetwork => {
                    const { $header::HeaderName::from_static(n::ALLOW_PRIVATE_NETWORK) }
                }
                F::CorsVersion => const { $header::HeaderName::from_static(n::CORS_VERSION) },
                F::CorsReason => const { $header::HeaderName::from_static(n::CORS_REASON) },
                F::Vary => $header::VARY,
                F::ContentType => $header::CONTENT_TYPE,
            }
        }

        /// The name of each request header the core reads ([`Policy::read_headers`]).
        ///
        /// [`Policy::read_headers`]: $crate::Policy::read_headers
        fn request_header_name(header: $crate::RequestHeader) -> $header::HeaderName {
            use $crate::RequestHeader as R;
            match header {
                R::Origin => $header::ORIGIN,
                R::Host => $header::HOST,
                R::AccessControlRequestMethod => $header::ACCESS_CONTROL_REQUEST_METHOD,
                R::AccessControlRequestHeaders => $header::ACCESS_CONTROL_REQUEST_HEADERS,
                R::AccessControlRequestPrivateNetwork => {
                    const { $header::HeaderName::from_static(R::AccessControlRequestPrivateNetwork.name()) }
                }
                R::SecFetchSite => const { $header::HeaderName::from_static(R::SecFetchSite.name()) },
                R::Forwarded => $header::FORWARDED,
                R::XForwardedHost => const { $header::HeaderName::from_static(R::XForwardedHost.name()) },
                R::XForwardedProto => const { $header::HeaderName::from_static(R::XForwardedProto.name()) },
            }
        }

        /// Each constant value the core writes.
        fn static_value(value: $crate::adapter::StaticValue) -> $header::HeaderValue {
            use $crate::adapter::StaticValue as V;
            match value {
                V::Any => const { $header::HeaderValue::from_static(V::Any.as_str()) },
                V::True => const { $header::HeaderValue::from_static(V::True.as_str()) },
                V::CorsVersion => const { $header::HeaderValue::from_static(V::CorsVersion.as_str()) },
                V::TextPlain => const { $header::HeaderValue::from_static(V::TextPlain.as_str()) },
                V::VaryOrigin => const { $header::HeaderValue::from_static(V::VaryOrigin.as_str()) },
                V::VaryOriginPreflight => const { $header::HeaderValue::from_static(V::VaryOriginPreflight.as_str()) },
                V::VaryOriginPreflightPrivateNetwork => const { $header::HeaderValue::from_static(V::VaryOriginPreflightPrivateNetwork.as_str()) },
                V::VaryPreflight => const { $header::HeaderValue::from_static(V::VaryPreflight.as_str()) },
                V::VaryPreflightPrivateNetwork => const { $header::HeaderValue::from_static(V::VaryPreflightPrivateNetwork.as_str()) },
            }
        }
    };
}

pub use crate::answer_template::{AnswerKey, AnswerTemplates};
pub use crate::decision::REJECT_BODY;
pub use crate::interned::{INTERNED_BYTES, interned};
pub use crate::policy::PolicyField;
pub use crate::rules::RouteNeeds;

/// The value of `x-cors-version` on every response the policy handles.
pub const CORS_VERSION_VALUE: &str = "1.0.0";

/// A constant header value the policy writes. Adapters can build each once (`as_str` is a
/// `const fn`) rather than validate the bytes per response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaticValue {
    /// `*`
    Any,
    /// `true`
    True,
    /// The `x-cors-version` value ([`CORS_VERSION_VALUE`]).
    CorsVersion,
    /// `text/plain` (rejections)
    TextPlain,
    /// `Vary: Origin`
    VaryOrigin,
    /// `Vary` for a preflight: `Origin` and the two request headers it varies on.
    VaryOriginPreflight,
    /// ... and `Access-Control-Request-Private-Network`.
    VaryOriginPreflightPrivateNetwork,
    /// `Vary` for a preflight of a `*` policy: the request headers only.
    VaryPreflight,
    /// ... and `Access-Control-Request-Private-Network`.
    VaryPreflightPrivateNetwork,
}

impl StaticValue {
    /// The value's text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Any => "*",
            Self::True => "true",
            Self::CorsVersion => CORS_VERSION_VALUE,
            Self::TextPlain => "text/plain",
            Self::VaryOrigin => "Origin",
            Self::VaryOriginPreflight => {
                "Origin,Access-Control-Request-Method,Access-Control-Request-Headers"
            }
            Self::VaryOriginPreflightPrivateNetwork => {
                "Origin,Access-Control-Request-Method,Access-Control-Request-Headers,Access-Control-Request-Private-Network"
            }
            Self::VaryPreflight => "Access-Control-Request-Method,Access-Control-Request-Headers",
            Self::VaryPreflightPrivateNetwork => {
                "Access-Control-Request-Method,Access-Control-Request-Headers,Access-Control-Request-Private-Network"
            }
        }
    }
}

/// A header value the policy writes, by where its bytes come from, so that adapters copy only
/// what changes per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'v> {
    /// A constant (`*`, `true`, `1.0.0`, `text/plain`, a `Vary` list).
    Static(StaticValue),
    /// A value fixed by the policy: the adapter's [`FixedValues`] has it built.
    Policy(PolicyField),
    /// The request's `Origin`, exactly as sent: the adapter holds it.
    RequestOrigin,
    /// Bytes computed for this response (merged `Vary`, echoed request values, listed
    /// response header names), valid during the call only.
    Bytes(&'v [u8]),
}

impl<'v> FieldValue<'v> {
    /// The value's bytes, for adapters that write bytes: `policy` resolves
    /// [`FieldValue::Policy`], `origin` is the request's `Origin` value.
    pub fn resolve<'a>(&'a self, policy: &'a Policy, origin: &'a [u8]) -> &'a [u8]
    where
        'v: 'a,
    {
        match self {
            Self::Static(value) => value.as_str().as_bytes(),
            Self::Policy(field) => policy.fixed_value(*field).unwrap_or_default().as_bytes(),
            Self::RequestOrigin => origin,
            Self::Bytes(bytes) => bytes,
        }
    }
}

/// An adapter's own header values for a policy's [`PolicyField`]s and for its first
/// [`LISTED_ORIGIN_VALUES`] exact origins, built once (when the layer, middleware or plugin is
/// built) and then cloned or borrowed per response.
#[derive(Debug, Clone)]
pub struct FixedValues<T> {
    fields: [Option<T>; 4],
    origins: Box<[Option<T>]>,
}

/// How many of a policy's exact origins get a [`FixedValues`] value: an echoed origin past
/// these is the request's own value.
pub const LISTED_ORIGIN_VALUES: usize = 1024;

impl<T> FixedValues<T> {
    /// Converts each value `policy` fixes with `convert`, and its exact origins (a value that
    /// does not convert is left out: a field is then never written, an origin is the
    /// request's).
    pub fn new(policy: &Policy, mut convert: impl FnMut(&str) -> Option<T>) -> Self {
        let fields = PolicyField::ALL.map(|field| policy.fixed_value(field).and_then(&mut convert));
        let origins = policy
            .inner
            .origins
            .exact_origins()
            .take(LISTED_ORIGIN_VALUES)
            .map(|origin| std::str::from_utf8(origin).ok().and_then(&mut convert))
            .collect();
        Self { fields, origins }
    }

    /// The value built for `field`.
    pub fn get(&self, field: PolicyField) -> Option<&T> {
        self.fields[field as usize].as_ref()
    }

    /// The value built for the request's `Origin` in `decision` (a decision of this policy),
    /// when it is byte for byte one of the policy's exact origins: an adapter echoes it rather
    /// than copy the request's. `None` for other origins, and for a decision whose origin is
    /// not this value (another policy's).
    pub fn listed_origin(&self, decision: &Decision<'_>) -> Option<&T>
    where
        T: AsRef<[u8]>,
    {
        let at = usize::try_from(decision.listed_origin?.get()).ok()?;
        let value = self.origins.get(at - 1)?.as_ref()?;
        (value.as_ref() == decision.origin).then_some(value)
    }

    /// The value to echo for the request's `Origin` (`request_origin`, the request's own
    /// value): the [`listed_origin`](Self::listed_origin) when there is one (built once, so
    /// cloning it touches no reference count), else the request's.
    #[inline]
    pub fn echoed_origin<'a>(
        &'a self,
        decision: &Decision<'_>,
        request_origin: Option<&'a T>,
    ) -> Option<&'a T>
    where
        T: AsRef<[u8]>,
    {
        self.listed_origin(decision).or(request_origin)
    }
}

/// A response's headers, as an adapter exposes them to the core. Implement it over your
/// framework's header map; the core does all the logic.
pub trait ResponseHeaders {
    /// Calls `f` with every header line (name, value), in order.
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8]));
    /// Removes every line whose name `matches` (called with each name as stored).
    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool);
    /// Sets the header `field` to `value`, replacing every existing line of its name.
    fn set(&mut self, field: HeaderField, value: FieldValue<'_>);
    /// Adds the header `field` with `value` to a response that has no line of that name (the
    /// core has read every line first), so a map need not look for one: a multi-value map can
    /// append, a proxy can add rather than replace. Calls [`set`](Self::set) by default.
    fn add(&mut self, field: HeaderField, value: FieldValue<'_>) {
        self.set(field, value);
    }
    /// Called once before the calls to [`set`](Self::set) with how many there will be at
    /// most, so that a map can grow once. Does nothing by default.
    fn reserve(&mut self, additional: usize) {
        let _ = additional;
    }
}

/// `Vary` values for the combinations the policy adds, when the response has no `Vary`.
fn vary_static(plan: Plan) -> Option<StaticValue> {
    Some(
        match (
            plan.vary_origin(),
            plan.vary_preflight(),
            plan.vary_private_network(),
        ) {
            (false, false, _) => return None,
            (true, false, _) => StaticValue::VaryOrigin,
            (true, true, false) => StaticValue::VaryOriginPreflight,
            (true, true, true) => StaticValue::VaryOriginPreflightPrivateNetwork,
            (false, true, false) => StaticValue::VaryPreflight,
            (false, true, true) => StaticValue::VaryPreflightPrivateNetwork,
        },
    )
}

fn exposable(name: &[u8]) -> bool {
    // Pseudo-headers (`:status` in proxy-wasm header maps) are not response headers.
    !(name.first() == Some(&b':')
        || SAFELISTED_RESPONSE_HEADERS
            .iter()
            .any(|s| s.eq_ignore_ascii_case(name))
        || name.eq_ignore_ascii_case(b"set-cookie")
        || name.eq_ignore_ascii_case(b"set-cookie2")
        || name.eq_ignore_ascii_case(names::CORS_VERSION.as_bytes())
        || is_access_control(name))
}

/// A comma-joined token list built without allocating while it fits in 512 bytes.
struct TokenList {
    inline: [u8; 512],
    len: usize,
    spilled: Vec<u8>,
}

impl TokenList {
    fn new() -> Self {
        Self {
            inline: [0; 512],
            len: 0,
            spilled: Vec::new(),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        if self.spilled.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.spilled
        }
    }

    fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    fn contains(&self, token: &[u8]) -> bool {
        list_items(self.as_bytes()).any(|t| t.eq_ignore_ascii_case(token))
    }

    /// Appends `token` (lowercased when `lowercase`), comma-separated.
    fn push(&mut self, token: &[u8], lowercase: bool) {
        let extra = token.len() + usize::from(!self.is_empty());
        if self.spilled.is_empty() && self.len + extra > self.inline.len() {
            self.spilled.extend_from_slice(&self.inline[..self.len]);
        }
        let comma = !self.is_empty();
        if self.spilled.is_empty() {
            let mut at = self.len;
            if comma {
                self.inline[at] = b',';
                at += 1;
            }
            self.inline[at..at + token.len()].copy_from_slice(token);
            if lowercase {
                self.inline[at..at + token.len()].make_ascii_lowercase();
            }
            self.len = at + token.len();
        } else {
            if comma {
                self.spilled.push(b',');
            }
            let at = self.spilled.len();
            self.spilled.extend_from_slice(token);
            if lowercase {
                self.spilled[at..].make_ascii_lowercase();
            }
        }
    }
}

fn list_value(source: ListSource, field: PolicyField, echoed: &[u8]) -> FieldValue<'_> {
    match source {
        ListSource::Policy => FieldValue::Policy(field),
        ListSource::Request => FieldValue::Bytes(echoed),
    }
}

/// The request values a local answer echoes, and a rejection's reason.
struct Echo<'a> {
    method: &'a [u8],
    headers: &'a [u8],
    rejection: Option<Rejection<'a>>,
}

/// Writes `plan` onto `headers`: removes upstream `access-control-*` headers, sets
/// `x-cors-version` and the CORS headers, merges `Vary`, and for a rejection sets
/// `content-type: text/plain`. Idempotent.
/// The headers the core sets that a response may already have after its `access-control-*`
/// lines are removed (`Vary` is tracked on its own, as it is merged).
#[derive(Clone, Copy, Default)]
struct Present {
    cors_version: bool,
    cors_reason: bool,
    content_type: bool,
}

impl Present {
    fn note(&mut self, name: &[u8]) {
        let is = |known: &str| eq_lowercase(name, known.as_bytes());
        match name.len() {
            14 if is(names::CORS_VERSION) => self.cors_version = true,
            13 if is(names::CORS_REASON) => self.cors_reason = true,
            12 if is(names::CONTENT_TYPE) => self.content_type = true,
            _ => {}
        }
    }

    /// Sets `field` where the response has it, adds it where it does not.
    fn put<H: ResponseHeaders + ?Sized>(
        self,
        headers: &mut H,
        field: HeaderField,
        value: FieldValue<'_>,
    ) {
        let present = match field {
            HeaderField::CorsVersion => self.cors_version,
            HeaderField::CorsReason => self.cors_reason,
            HeaderField::ContentType => self.content_type,
            _ => false,
        };
        if present {
            headers.set(field, value);
        } else {
            headers.add(field, value);
        }
    }
}

fn write<H: ResponseHeaders + ?Sized>(plan: Plan, echo: &Echo<'_>, headers: &mut H) {
    let from_response = plan.expose_headers() == Some(ExposeSource::Response);
    let mut strip = false;
    let mut present = Present::default();
    let mut vary_star = false;
    // Built only when the response has a `Vary` / when its header names are listed.
    let mut vary: Option<TokenList> = None;
    let mut exposed: Option<TokenList> = None;
    headers.for_each(&mut |name, value| {
        if is_access_control(name) {
            strip = true;
        } else if name.eq_ignore_ascii_case(b"vary") {
            let vary = vary.get_or_insert_with(TokenList::new);
            for token in list_items(value) {
                vary_star |= token == b"*";
                if !vary.contains(token) {
                    vary.push(token, false);
                }
            }
        } else {
            present.note(name);
        }
        if from_response && exposable(name) {
            let exposed = exposed.get_or_insert_with(TokenList::new);
            if !exposed.contains(name) {
                exposed.push(name, true);
            }
        }
    });

    if strip {
        headers.remove_matching(is_access_control);
    }
    headers.reserve(plan.max_headers());
    present.put(
        headers,
        HeaderField::CorsVersion,
        FieldValue::Static(StaticValue::CorsVersion),
    );
    if plan.reject() {
        present.put(
            headers,
            HeaderField::ContentType,
            FieldValue::Static(StaticValue::TextPlain),
        );
        if let Some(rejection) = echo.rejection.filter(|_| plan.debug()) {
            // Printable ASCII (request values are escaped): a valid header value.
            let reason = rejection.to_string();
            present.put(
                headers,
                HeaderField::CorsReason,
                FieldValue::Bytes(reason.as_bytes()),
            );
        }
    }
    if let Some(source) = plan.allow_origin() {
        let value = match source {
            OriginSource::Any => FieldValue::Static(StaticValue::Any),
            OriginSource::Request => FieldValue::RequestOrigin,
        };
        headers.add(HeaderField::AllowOrigin, value);
    }
    if let Some(source) = plan.allow_methods() {
        let value = list_value(source, PolicyField::AllowMethods, echo.method);
        headers.add(HeaderField::AllowMethods, value);
    }
    if let Some(source) = plan.allow_headers() {
        let value = list_value(source, PolicyField::AllowHeaders, echo.headers);
        headers.add(HeaderField::AllowHeaders, value);
    }
    match plan.expose_headers() {
        None => {}
        Some(ExposeSource::Policy) => headers.add(
            HeaderField::ExposeHeaders,
            FieldValue::Policy(PolicyField::ExposeHeaders),
        ),
        Some(ExposeSource::Any) => headers.add(
            HeaderField::ExposeHeaders,
            FieldValue::Static(StaticValue::Any),
        ),
        Some(ExposeSource::Response) => {
            if let Some(exposed) = exposed.as_ref().filter(|e| !e.is_empty()) {
                headers.add(
                    HeaderField::ExposeHeaders,
                    FieldValue::Bytes(exposed.as_bytes()),
                );
            }
        }
    }
    if plan.allow_credentials() {
        headers.add(
            HeaderField::AllowCredentials,
            FieldValue::Static(StaticValue::True),
        );
    }
    if plan.max_age() {
        headers.add(HeaderField::MaxAge, FieldValue::Policy(PolicyField::MaxAge));
    }
    if plan.allow_private_network() {
        headers.add(
            HeaderField::AllowPrivateNetwork,
            FieldValue::Static(StaticValue::True),
        );
    }
    let Some(add) = vary_static(plan) else { return };
    let Some(mut vary) = vary else {
        headers.add(HeaderField::Vary, FieldValue::Static(add));
        return;
    };
    if vary_star {
        return;
    }
    let before = vary.as_bytes().len();
    for token in add.as_str().split(',') {
        if !vary.contains(token.as_bytes()) {
            vary.push(token.as_bytes(), false);
        }
    }
    if vary.as_bytes().len() != before {
        headers.set(HeaderField::Vary, FieldValue::Bytes(vary.as_bytes()));
    }
}

impl Decision<'_> {
    /// Writes the decision's headers: onto the local answer (for [`Decision::local_answer`];
    /// with `debug`, a 403 also gets `x-cors-reason`), or onto the forwarded response (the
    /// same as [`Forwarded::write_headers`]).
    pub fn write_headers<H: ResponseHeaders + ?Sized>(&self, headers: &mut H) {
        let echo = Echo {
            method: self.echo_method,
            headers: &self.echo_headers,
            rejection: self.rejection(),
        };
        write(self.plan, &echo, headers);
    }

    /// The request's `Origin` value, as sent (empty when there is none): what
    /// [`FieldValue::RequestOrigin`] stands for in a local answer.
    pub fn origin(&self) -> &[u8] {
        self.origin
    }
}

impl Forwarded {
    /// Writes the headers onto the upstream's response: removes its `access-control-*`
    /// headers, sets `x-cors-version` and the CORS headers, merges `Vary`. Idempotent.
    pub fn write_headers<H: ResponseHeaders + ?Sized>(&self, headers: &mut H) {
        let echo = Echo {
            method: b"",
            headers: b"",
            rejection: None,
        };
        write(self.plan, &echo, headers);
    }
}

/// A simple ordered header list: the reference sink of the conformance suite, handy in tests.
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

    /// This list as the [`ResponseHeaders`] of a response to a request with `origin`, whose
    /// policy is `policy`.
    pub fn for_response<'a>(
        &'a mut self,
        policy: &'a Policy,
        origin: &'a [u8],
    ) -> ListResponse<'a> {
        ListResponse {
            list: self,
            policy,
            origin,
        }
    }
}

/// A [`HeaderList`] being written, with what resolves symbolic values (see
/// [`HeaderList::for_response`]).
#[derive(Debug)]
pub struct ListResponse<'a> {
    list: &'a mut HeaderList,
    policy: &'a Policy,
    origin: &'a [u8],
}

impl ResponseHeaders for ListResponse<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in &self.list.0 {
            f(name, value);
        }
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        self.list.0.retain(|(n, _)| !matches(n));
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let name = field.name();
        let value = value.resolve(self.policy, self.origin).to_vec();
        let lines = &mut self.list.0;
        match lines
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
        {
            Some(first) => {
                lines[first] = (name.as_bytes().to_vec(), value);
                let mut index = 0;
                lines.retain(|(n, _)| {
                    index += 1;
                    index - 1 == first || !n.eq_ignore_ascii_case(name.as_bytes())
                });
            }
            None => lines.push((name.as_bytes().to_vec(), value)),
        }
    }

    /// Appends the line without looking for one of the same name: a second line in a
    /// snapshot would show a wrong [`ResponseHeaders::add`].
    fn add(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let value = value.resolve(self.policy, self.origin).to_vec();
        self.list.0.push((field.name().as_bytes().to_vec(), value));
    }
}
