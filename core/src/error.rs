//! Configuration errors and warnings. Every error names where it is (field and item index, and
//! the `_rules_` entry for scoped configurations) and what to fix.

use std::fmt;

pub use crate::origin::OriginProblem;
pub use crate::pattern::PatternProblem;

/// A configuration value in a message: in double quotes, with quotes, backslashes and control
/// characters escaped as Rust's `{:?}` does (without its Unicode tables, which would make the
/// proxy-wasm plugin larger).
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                '\0' => f.write_str("\\0")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// Where in a configuration a problem is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// Index in Higress's `_rules_` list, for scoped configurations.
    pub rule: Option<usize>,
    /// The field name (empty for the document itself).
    pub field: String,
    /// The item index within a list field.
    pub index: Option<usize>,
}

impl Location {
    pub(crate) fn field(field: &str) -> Self {
        Self {
            rule: None,
            field: field.to_owned(),
            index: None,
        }
    }

    pub(crate) fn item(field: &str, index: usize) -> Self {
        Self {
            index: Some(index),
            ..Self::field(field)
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(rule) = self.rule {
            write!(f, "_rules_[{rule}]")?;
            if !self.field.is_empty() {
                f.write_str(".")?;
            }
        }
        if self.field.is_empty() && self.rule.is_none() {
            f.write_str("configuration")?;
        }
        f.write_str(&self.field)?;
        if let Some(index) = self.index {
            write!(f, "[{index}]")?;
        }
        Ok(())
    }
}

/// What is wrong with one configuration item.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The document is not valid YAML or JSON.
    Syntax {
        /// The parser's message.
        message: String,
        /// Where the parser stopped (1-based line and column), when it says.
        position: Option<(usize, usize)>,
    },
    /// The document is larger than [`crate::limits::MAX_CONFIG_BYTES`].
    TooLarge {
        /// The document's size in bytes.
        size: usize,
    },
    /// The document (or a `_rules_` entry) is not a mapping of field names to values.
    NotAMapping {
        /// What was found instead.
        found: &'static str,
    },
    /// A key that is not a configuration field.
    UnknownField {
        /// The closest known field name, when there is one.
        suggestion: Option<&'static str>,
    },
    /// A value of the wrong type.
    WrongType {
        /// What the field accepts.
        expected: &'static str,
        /// What was found.
        found: &'static str,
    },
    /// An `allow_origins` item that is not an origin.
    InvalidOrigin {
        /// The item as written.
        value: String,
        /// Why it is not an origin.
        problem: OriginProblem,
    },
    /// An `allow_origin_patterns` item that is not a pattern.
    InvalidPattern {
        /// The item as written.
        value: String,
        /// Why it is not a pattern.
        problem: PatternProblem,
    },
    /// An `allow_methods` item that is not an HTTP method token.
    InvalidMethod {
        /// The item as written.
        value: String,
    },
    /// An `allow_headers` or `expose_headers` item that is not a header name.
    InvalidHeaderName {
        /// The item as written.
        value: String,
    },
    /// `allow_origins` is present but empty and `allow_origin_patterns` has nothing: no origin
    /// could ever be allowed (often an unset variable).
    NoOrigins,
    /// `max_age` is negative.
    NegativeMaxAge,
    /// `max_age` is above [`crate::limits::MAX_MAX_AGE`].
    MaxAgeTooLarge,
    /// A `_rules_` entry without any `_match_*` key.
    RuleWithoutMatch,
    /// A `_match_*` item that is empty or malformed.
    InvalidMatch {
        /// The item as written.
        value: String,
    },
    /// `allow_origin_predicate: true` given to a host that runs no application code (the
    /// proxy-wasm plugin, the Envoy module, `polycors serve`).
    OriginPredicateUnavailable,
}

/// One problem in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    location: Location,
    kind: ConfigErrorKind,
}

impl ConfigError {
    pub(crate) fn new(location: Location, kind: ConfigErrorKind) -> Self {
        Self { location, kind }
    }

    /// Where the problem is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// What the problem is.
    pub fn kind(&self) -> &ConfigErrorKind {
        &self.kind
    }

    pub(crate) fn in_rule(mut self, rule: usize) -> Self {
        self.location.rule = Some(rule);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

/// What is wrong and what to fix, without where (see [`ConfigError`] for both).
impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigErrorKind::Syntax { message, .. } => write!(f, "not valid YAML or JSON: {message}"),
            ConfigErrorKind::TooLarge { size } => write!(
                f,
                "the document is {size} bytes; at most {} are accepted",
                crate::limits::MAX_CONFIG_BYTES
            ),
            ConfigErrorKind::NotAMapping { found } => {
                write!(f, "expected a mapping of field names to values, found {found}")
            }
            ConfigErrorKind::UnknownField { suggestion: Some(s) } => {
                write!(f, "unknown field, did you mean `{s}`?")
            }
            ConfigErrorKind::UnknownField { suggestion: None } => write!(
                f,
                "unknown field; the fields are {}",
                crate::defaults::FIELDS.join(", ")
            ),
            ConfigErrorKind::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            ConfigErrorKind::InvalidOrigin { value, problem } => {
                write!(f, "{} is not an origin: {problem}", Quoted(value))
            }
            ConfigErrorKind::InvalidPattern { value, problem } => {
                write!(f, "{} is not an origin pattern: {problem}", Quoted(value))
            }
            ConfigErrorKind::InvalidMethod { value } => write!(
                f,
                "{} is not an HTTP method: use a token such as GET or PATCH, or \"*\"",
                Quoted(value)
            ),
            ConfigErrorKind::InvalidHeaderName { value } => write!(
                f,
                "{} is not a header name: use a token such as Content-Type, or \"*\"",
                Quoted(value)
            ),
            ConfigErrorKind::NoOrigins => f.write_str(
                "is empty and allow_origin_patterns has nothing, so no origin could be allowed; list the origins, or write \"*\" to allow every origin",
            ),
            ConfigErrorKind::NegativeMaxAge => {
                f.write_str("must not be negative; use 0 to disable preflight caching")
            }
            ConfigErrorKind::MaxAgeTooLarge => write!(
                f,
                "must be at most {} seconds (browsers cap it anyway: WebKit at 600, Chromium at 7200, Firefox at 86400)",
                crate::limits::MAX_MAX_AGE
            ),
            ConfigErrorKind::RuleWithoutMatch => f.write_str(
                "a rule needs at least one of _match_route_, _match_route_prefix_, _match_domain_, _match_service_",
            ),
            ConfigErrorKind::InvalidMatch { value } => {
                write!(f, "{} is not a valid match item", Quoted(value))
            }
            ConfigErrorKind::OriginPredicateUnavailable => f.write_str(
                "needs an origin predicate, application code that only polycors-tower and polycors-actix run; here, list the origins in allow_origins or match them with allow_origin_patterns",
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A configuration that could not be loaded, with every problem found. A configuration with
/// an error is never half-applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidConfig {
    errors: Vec<ConfigError>,
}

impl InvalidConfig {
    pub(crate) fn new(errors: Vec<ConfigError>) -> Self {
        debug_assert!(!errors.is_empty());
        Self { errors }
    }

    /// Every problem found, in document order.
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }

    pub(crate) fn into_errors(self) -> Vec<ConfigError> {
        self.errors
    }
}

impl From<ConfigError> for InvalidConfig {
    fn from(error: ConfigError) -> Self {
        Self::new(vec![error])
    }
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InvalidConfig {}

/// Something in a configuration that loads but is probably not what was meant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// `allow_credentials: true` with `*` in `allow_origins`: the `*` wins and no credentials
    /// header is sent.
    CredentialsWithAnyOrigin,
    /// `allow_credentials: true` with the pattern `*`: any site may read credentialed responses.
    CredentialsWithAnyPattern,
    /// `null` is allowed: sandboxed iframes and `file:` pages of any site share that origin.
    NullOriginAllowed,
    /// An `http://` origin with credentials: the credentials can be read over plain HTTP.
    InsecureOriginWithCredentials {
        /// The origin.
        origin: String,
    },
    /// `expose_headers: *` with credentials: browsers read `*` as a header name, so the
    /// response's own header names are sent instead.
    ExposeAllWithCredentials,
    /// `max_age` above [`crate::defaults::MAX_AGE_ALL_BROWSERS`]: WebKit caps preflight caching
    /// at 600 seconds, Chromium at 7200, Firefox at 86400.
    MaxAgeAboveBrowserCap {
        /// The configured value.
        max_age: u64,
    },
    /// An origin pattern with a `*` that is not a whole label: it also matches origins that
    /// were probably not meant (`http://*example.com` matches `http://evilexample.com`).
    WildcardInsideLabel {
        /// Where it is.
        location: Location,
        /// The pattern as written.
        pattern: String,
        /// An origin it matches, probably by mistake.
        example: String,
        /// The pattern as probably meant (`http://*.example.com`), when that is clear.
        suggestion: Option<String>,
    },
    /// An `allow_headers` name browsers never let a page send (a Fetch forbidden request
    /// header such as `Cookie`, `Host` or `Sec-*`): allowing it changes nothing.
    ForbiddenRequestHeader {
        /// Where it is.
        location: Location,
        /// The name as written.
        name: String,
    },
    /// An `access-control-*` name in `allow_headers` or `expose_headers`: CORS headers are
    /// the policy's own, never a page's request header nor an exposed response header.
    AccessControlName {
        /// Where it is.
        location: Location,
        /// The name as written.
        name: String,
    },
    /// `allow_origin_predicate: true` with `*` in `allow_origins` or `allow_origin_patterns`:
    /// every origin is allowed before the predicate is asked.
    OriginPredicateUnreachable,
    /// An item that changes nothing: a duplicate, or an item next to `*`.
    RedundantItem {
        /// Where it is.
        location: Location,
        /// The item.
        item: String,
    },
}

impl Warning {
    /// Where the warning is: the item it is about, or the field for whole-policy warnings.
    pub fn location(&self) -> Location {
        match self {
            Self::CredentialsWithAnyOrigin | Self::CredentialsWithAnyPattern => {
                Location::field("allow_credentials")
            }
            Self::NullOriginAllowed | Self::InsecureOriginWithCredentials { .. } => {
                Location::field("allow_origins")
            }
            Self::ExposeAllWithCredentials => Location::field("expose_headers"),
            Self::MaxAgeAboveBrowserCap { .. } => Location::field("max_age"),
            Self::OriginPredicateUnreachable => Location::field("allow_origin_predicate"),
            Self::WildcardInsideLabel { location, .. }
            | Self::ForbiddenRequestHeader { location, .. }
            | Self::AccessControlName { location, .. }
            | Self::RedundantItem { location, .. } => location.clone(),
        }
    }

    /// What the warning says and what to do, without where.
    pub fn detail(&self) -> WarningDetail<'_> {
        WarningDetail(self)
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.detail())
    }
}

/// What a [`Warning`] says, without where ([`Warning::location`]).
#[derive(Debug, Clone, Copy)]
pub struct WarningDetail<'a>(&'a Warning);

impl fmt::Display for WarningDetail<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Warning as W;
        match self.0 {
            W::CredentialsWithAnyOrigin => f.write_str(
                "ignored because allow_origins contains \"*\"; use allow_origin_patterns: [\"*\"] to reflect origins with credentials",
            ),
            W::CredentialsWithAnyPattern => f.write_str(
                "with the allow_origin_patterns \"*\", any site may read credentialed responses",
            ),
            W::NullOriginAllowed => f.write_str(
                "has \"null\": sandboxed frames and local files of any site send that origin",
            ),
            W::InsecureOriginWithCredentials { origin } => write!(
                f,
                "has {} with allow_credentials: credentials would be readable over plain HTTP",
                Quoted(origin)
            ),
            W::ExposeAllWithCredentials => f.write_str(
                "\"*\" with allow_credentials: browsers take \"*\" literally, so the response's own header names are exposed instead",
            ),
            W::MaxAgeAboveBrowserCap { max_age } => write!(
                f,
                "{max_age} is above {}; browsers cap it (WebKit at 600 seconds, Chromium at 7200, Firefox at 86400), so use at most {} for the same caching everywhere",
                crate::defaults::MAX_AGE_ALL_BROWSERS,
                crate::defaults::MAX_AGE_ALL_BROWSERS,
            ),
            W::WildcardInsideLabel {
                pattern,
                example,
                suggestion,
                ..
            } => {
                write!(
                    f,
                    "in {}, \"*\" is not a whole label, so it also matches {}",
                    Quoted(pattern),
                    Quoted(example)
                )?;
                match suggestion {
                    Some(s) => write!(f, "; write {} to match subdomains only", Quoted(s)),
                    None => f.write_str("; make sure every origin it matches is yours"),
                }
            }
            W::ForbiddenRequestHeader { name, .. } => write!(
                f,
                "{} is a header browsers never let a page send (a forbidden request header), so allowing it changes nothing; remove it",
                Quoted(name)
            ),
            W::AccessControlName { location, name } if location.field == "expose_headers" => {
                write!(
                    f,
                    "{} is a CORS header: the policy writes those itself and removes the application's, so there is nothing to expose; remove it",
                    Quoted(name)
                )
            }
            W::AccessControlName { name, .. } => write!(
                f,
                "{} is a CORS header, which belongs on responses: a page that sends it has a bug that allowing it only hides; remove it (and fix the page)",
                Quoted(name)
            ),
            W::OriginPredicateUnreachable => f.write_str(
                "is never asked: \"*\" allows every origin first; remove the \"*\" to let the predicate decide",
            ),
            W::RedundantItem { item, .. } => {
                write!(
                    f,
                    "{} is redundant (a duplicate, or covered by \"*\")",
                    Quoted(item)
                )
            }
        }
    }
}
