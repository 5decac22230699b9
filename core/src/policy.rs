//! The compiled, immutable policy: everything a request needs is computed here, once.

use std::sync::Arc;

use crate::allowed_origins::AllowedOrigins;
use crate::builder::{Any, PolicyBuilder};
use crate::config::Config;
use crate::defaults;
use crate::error::{ConfigError, ConfigErrorKind, InvalidConfig, Location, Warning};
use crate::fetch::{is_access_control, is_forbidden_request_header};
use crate::origin;
use crate::pattern::OriginPattern;
use crate::token::is_token;

/// The values a policy fixes once for all requests: an adapter builds its own header values
/// for them once ([`FixedValues`](crate::adapter::FixedValues)) and receives [`FieldValue::Policy`](crate::adapter::FieldValue::Policy) per response.
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
    /// Every field.
    pub const ALL: [PolicyField; 4] = [
        Self::AllowMethods,
        Self::AllowHeaders,
        Self::ExposeHeaders,
        Self::MaxAge,
    ];
}

/// A compiled CORS policy. Cheap to clone (the compiled form is shared), `Send + Sync`.
///
/// Build one with [`Policy::new`] from a [`Config`], with [`Policy::builder`], or load one
/// with [`Policy::from_yaml`] / [`Policy::from_json`]; then call [`Policy::evaluate`] per request.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) inner: Arc<Compiled>,
}

#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) origins: AllowedOrigins,
    pub(crate) methods: Allowed,
    pub(crate) headers: Allowed,
    pub(crate) expose: Expose,
    /// `allow_credentials`, unless a `*` origin overrides it (§1.3).
    pub(crate) credentials: bool,
    pub(crate) max_age: Box<str>,
    pub(crate) private_network: bool,
    pub(crate) forward_disallowed: bool,
    pub(crate) debug: bool,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) config: Config,
}

/// An allow list of methods or header names, or `*`.
#[derive(Debug)]
pub(crate) enum Allowed {
    Any,
    List {
        /// Methods as configured (uppercased); header names lowercased for comparison.
        names: Vec<Box<str>>,
        /// The response value: the configured names joined with `,`.
        joined: Box<str>,
    },
}

#[derive(Debug)]
pub(crate) enum Expose {
    None,
    Any,
    List(Box<str>),
}

impl Allowed {
    pub(crate) fn is_any(&self) -> bool {
        matches!(self, Self::Any)
    }
}

impl Policy {
    /// Validates and compiles a configuration. Every problem is reported; nothing is
    /// half-applied. Warnings are available from [`Policy::warnings`].
    /// Warnings are also logged at warn level.
    pub fn new(config: Config) -> Result<Self, InvalidConfig> {
        let compiled = compile(config)?;
        for warning in &compiled.warnings {
            log::warn!("CORS configuration: {warning}");
        }
        Ok(Self {
            inner: Arc::new(compiled),
        })
    }

    /// Loads and compiles a YAML configuration, reporting every error at once.
    #[cfg(feature = "yaml")]
    pub fn from_yaml(text: &str) -> Result<Self, InvalidConfig> {
        Self::from_document(&crate::config::parse_yaml(text)?)
    }

    /// Loads and compiles a JSON configuration, reporting every error at once.
    pub fn from_json(bytes: &[u8]) -> Result<Self, InvalidConfig> {
        Self::from_document(&crate::config::parse_json(bytes)?)
    }

    /// Loads and compiles a parsed document: the type errors of some fields and the
    /// validation errors of the others are reported together, in document order.
    pub(crate) fn from_document(value: &serde_json::Value) -> Result<Self, InvalidConfig> {
        let (config, mut errors) = Config::from_value_partial(value);
        if errors.is_empty() {
            return Self::new(config);
        }
        if let Err(invalid) = compile(config) {
            errors.extend(invalid.into_errors());
        }
        if let serde_json::Value::Object(map) = value {
            // Stable: errors of one field keep their item order.
            errors.sort_by_key(|e| {
                map.keys()
                    .position(|k| *k == e.location().field)
                    .map_or(0, |p| p + 1)
            });
        }
        Err(InvalidConfig::new(errors))
    }

    /// Starts a policy in code, from the defaults.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// Any origin, method and request header, without credentials: `Access-Control-Allow-Origin:
    /// *` on every response. Any site can read the responses (only those a browser would send
    /// without cookies), so use it for public, read-only APIs.
    pub fn permissive() -> Self {
        Self::builder()
            .allow_origins(Any)
            .allow_methods(Any)
            .allow_headers(Any)
            .build()
            .unwrap_or_default()
    }

    /// Like [`permissive`](Self::permissive), but with credentials: every origin is reflected
    /// and may read credentialed (cookie-bearing) responses. Any site a user visits can then
    /// act as the user on this API; use it only for local development, never in production.
    /// (The policy's warnings say so too.)
    pub fn very_permissive() -> Self {
        Self::builder()
            .allow_origin_patterns(["*"])
            .allow_methods(Any)
            .allow_headers(Any)
            .allow_credentials(true)
            .build()
            .unwrap_or_default()
    }

    /// What in the configuration loads but is probably not what was meant.
    pub fn warnings(&self) -> &[Warning] {
        &self.inner.warnings
    }

    /// The configuration this policy was compiled from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether origins that neither list nor pattern allows are left to the application's
    /// origin predicate (`allow_origin_predicate: true`); see [`Policy::evaluate_with`].
    pub fn needs_origin_predicate(&self) -> bool {
        self.inner.origins.predicate
    }

    /// This policy with `allow_origin_predicate: true`, for an adapter given a predicate:
    /// origins that neither list nor pattern allows are left to it (and a policy without
    /// `allow_origins` no longer allows every origin).
    #[must_use]
    pub fn with_origin_predicate(self) -> Self {
        if self.needs_origin_predicate() {
            return self;
        }
        let mut config = self.config().clone();
        config.allow_origin_predicate = true;
        // The flag only relaxes checks: a valid configuration stays valid with it.
        let Ok(compiled) = compile(config) else {
            return self;
        };
        // The others were logged when this policy was compiled.
        for warning in compiled
            .warnings
            .iter()
            .filter(|w| !self.warnings().contains(w))
        {
            log::warn!("CORS configuration: {warning}");
        }
        Self {
            inner: Arc::new(compiled),
        }
    }

    /// Whether `allow_origins` contains `*`: every response then carries
    /// `Access-Control-Allow-Origin: *` and no `Vary: Origin`.
    pub fn is_wildcard(&self) -> bool {
        self.inner.origins.any
    }

    /// The header value this policy fixes for `field`, if it has one (`allow_methods: *` has
    /// no fixed `Access-Control-Allow-Methods`, for example). Adapters build their own header
    /// values from these once ([`FixedValues`](crate::adapter::FixedValues)).
    pub fn fixed_value(&self, field: PolicyField) -> Option<&str> {
        let inner = &self.inner;
        match field {
            PolicyField::AllowMethods => match &inner.methods {
                Allowed::List { joined, .. } => Some(joined),
                Allowed::Any => None,
            },
            PolicyField::AllowHeaders => match &inner.headers {
                Allowed::List { joined, .. } => Some(joined),
                Allowed::Any => None,
            },
            PolicyField::ExposeHeaders => match &inner.expose {
                Expose::List(joined) => Some(joined),
                Expose::None | Expose::Any => None,
            },
            PolicyField::MaxAge => Some(&inner.max_age),
        }
    }
}

impl Default for Policy {
    /// The default policy: any origin, the default methods and headers, no credentials.
    fn default() -> Self {
        // The default configuration compiles: `defaults_allow_any_origin_without_credentials`
        // and every test that builds a default policy say so.
        #[allow(clippy::expect_used)]
        Self::new(Config::default()).expect("the default configuration is valid")
    }
}

impl TryFrom<Config> for Policy {
    type Error = InvalidConfig;
    fn try_from(config: Config) -> Result<Self, InvalidConfig> {
        Self::new(config)
    }
}

/// Collects validation results for one list field.
struct ListCompiler<'a> {
    field: &'static str,
    errors: &'a mut Vec<ConfigError>,
    warnings: &'a mut Vec<Warning>,
}

impl ListCompiler<'_> {
    fn error(&mut self, index: usize, kind: ConfigErrorKind) {
        self.errors
            .push(ConfigError::new(Location::item(self.field, index), kind));
    }

    fn redundant(&mut self, index: usize, item: &str) {
        self.warnings.push(Warning::RedundantItem {
            location: Location::item(self.field, index),
            item: item.to_owned(),
        });
    }

    /// Warns about a header name that can have no effect where it is configured.
    fn check_name(&mut self, index: usize, name: &str) {
        let location = || Location::item(self.field, index);
        let name_bytes = name.as_bytes();
        let warning = match self.field {
            "allow_headers" if is_forbidden_request_header(name_bytes) => {
                Warning::ForbiddenRequestHeader {
                    location: location(),
                    name: name.to_owned(),
                }
            }
            "allow_headers" | "expose_headers" if is_access_control(name_bytes) => {
                Warning::AccessControlName {
                    location: location(),
                    name: name.to_owned(),
                }
            }
            _ => return,
        };
        self.warnings.push(warning);
    }

    /// Compiles a method or header-name list. `key` gives the comparison form.
    fn names(
        &mut self,
        items: &[String],
        defaults: &[&str],
        key: fn(&str) -> String,
        invalid: fn(String) -> ConfigErrorKind,
    ) -> Allowed {
        let configured = !items.is_empty();
        let items: Vec<&str> = if configured {
            items.iter().map(String::as_str).collect()
        } else {
            defaults.to_vec()
        };
        let any = items.contains(&"*");
        let mut names: Vec<Box<str>> = Vec::new();
        let mut shown: Vec<String> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if *item == "*" {
                continue;
            }
            if !is_token(item.as_bytes()) {
                self.error(index, invalid((*item).to_owned()));
                continue;
            }
            let k = key(item);
            if any || names.iter().any(|n| **n == *k) {
                if configured {
                    self.redundant(index, item);
                }
                continue;
            }
            if configured {
                self.check_name(index, item);
            }
            names.push(k.into());
            shown.push(if self.field == "allow_methods" {
                item.to_ascii_uppercase()
            } else {
                (*item).to_owned()
            });
        }
        if any {
            Allowed::Any
        } else {
            Allowed::List {
                names,
                joined: shown.join(",").into(),
            }
        }
    }
}

fn compile(config: Config) -> Result<Compiled, InvalidConfig> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();

    // Origins.
    let mut origins = AllowedOrigins::default();
    let mut list = ListCompiler {
        field: "allow_origins",
        errors: &mut errors,
        warnings: &mut warnings,
    };
    let mut insecure = Vec::new();
    let configured_origins = config.allow_origins.as_deref().unwrap_or_default();
    let any_origin = configured_origins.iter().any(|o| o == "*");
    for (index, item) in configured_origins.iter().enumerate() {
        if item == "*" {
            origins.any = true;
            continue;
        }
        if item == "null" {
            if origins.null || any_origin {
                list.redundant(index, item);
            }
            origins.null = true;
            continue;
        }
        match origin::parse_configured(item) {
            Ok(parts) => {
                if parts.scheme.eq_ignore_ascii_case(b"http") {
                    insecure.push(item.clone());
                }
                if any_origin || !origins.insert_exact(&parts) {
                    list.redundant(index, item);
                }
            }
            Err(problem) => list.error(
                index,
                ConfigErrorKind::InvalidOrigin {
                    value: item.clone(),
                    problem,
                },
            ),
        }
    }

    // Patterns.
    list.field = "allow_origin_patterns";
    for (index, item) in config.allow_origin_patterns.iter().enumerate() {
        match OriginPattern::parse(item) {
            Ok(pattern) => {
                let partial = pattern.partial_label_wildcard();
                if !origins.insert_pattern(pattern) {
                    list.redundant(index, item);
                } else if let Some(found) = partial {
                    list.warnings.push(Warning::WildcardInsideLabel {
                        location: Location::item(list.field, index),
                        pattern: item.clone(),
                        example: found.example,
                        suggestion: found.suggestion,
                    });
                }
            }
            Err(problem) => list.error(
                index,
                ConfigErrorKind::InvalidPattern {
                    value: item.clone(),
                    problem,
                },
            ),
        }
    }
    match &config.allow_origins {
        // An empty list (often an unset variable) must never silently become `*` (§1).
        Some(items)
            if items.is_empty()
                && config.allow_origin_patterns.is_empty()
                && !config.allow_origin_predicate =>
        {
            list.errors.push(ConfigError::new(
                Location::field("allow_origins"),
                ConfigErrorKind::NoOrigins,
            ));
        }
        None if config.allow_origin_patterns.is_empty()
            && !config.allow_credentials
            && !config.allow_origin_predicate =>
        {
            origins.any = true;
        }
        _ => {}
    }
    origins.predicate = config.allow_origin_predicate;
    if origins.predicate && (origins.any || origins.patterns().iter().any(OriginPattern::is_any)) {
        list.warnings.push(Warning::OriginPredicateUnreachable);
    }

    // Methods and headers.
    list.field = "allow_methods";
    let methods = list.names(
        &config.allow_methods,
        &defaults::METHODS,
        str::to_ascii_uppercase,
        |value| ConfigErrorKind::InvalidMethod { value },
    );
    list.field = "allow_headers";
    let headers = list.names(
        &config.allow_headers,
        &defaults::HEADERS,
        str::to_ascii_lowercase,
        |value| ConfigErrorKind::InvalidHeaderName { value },
    );
    list.field = "expose_headers";
    let expose = match list.names(
        &config.expose_headers,
        &[],
        str::to_ascii_lowercase,
        |value| ConfigErrorKind::InvalidHeaderName { value },
    ) {
        Allowed::Any => Expose::Any,
        Allowed::List { joined, .. } if joined.is_empty() => Expose::None,
        Allowed::List { joined, .. } => Expose::List(joined),
    };

    let max_age = config.max_age.unwrap_or(defaults::MAX_AGE);
    if !errors.is_empty() {
        return Err(InvalidConfig::new(errors));
    }

    // Warnings about combinations.
    let credentials = config.allow_credentials && !origins.any;
    if config.allow_credentials && origins.any {
        warnings.push(Warning::CredentialsWithAnyOrigin);
    }
    if credentials && origins.patterns().iter().any(OriginPattern::is_any) {
        warnings.push(Warning::CredentialsWithAnyPattern);
    }
    if origins.null {
        warnings.push(Warning::NullOriginAllowed);
    }
    if credentials {
        warnings.extend(
            insecure
                .into_iter()
                .map(|origin| Warning::InsecureOriginWithCredentials { origin }),
        );
        if matches!(expose, Expose::Any) {
            warnings.push(Warning::ExposeAllWithCredentials);
        }
    }
    if max_age > defaults::MAX_AGE_ALL_BROWSERS && config.max_age.is_some() {
        warnings.push(Warning::MaxAgeAboveBrowserCap { max_age });
    }

    Ok(Compiled {
        origins,
        methods,
        headers,
        expose,
        credentials,
        max_age: max_age.to_string().into(),
        private_network: config.allow_private_network,
        forward_disallowed: config.forward_disallowed_requests,
        debug: config.debug,
        warnings,
        config,
    })
}
