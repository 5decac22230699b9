//! Building a [`Policy`] in code: [`PolicyBuilder`], with arguments a tower-http or actix-cors
//! user writes (`allow_methods([Method::GET])`, `allow_headers([header::CONTENT_TYPE])`,
//! `max_age(Duration::from_secs(600))`, [`Any`]), validated exactly like a loaded
//! configuration.

use std::time::Duration;

use crate::adapter::OriginPredicate;
use crate::config::Config;
use crate::error::{ConfigError, ConfigErrorKind, InvalidConfig, Location};
use crate::origin_predicate::OriginRef;
use crate::policy::Policy;

/// Any origin, method or header: `*` in a list argument (`allow_origins(Any)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Any;

/// What a list method takes: [`Any`], or items that display as the configuration's strings
/// (`&str`, `String`, `http::Method`, `http::HeaderName`, ...).
pub trait ListArgument {
    /// The items, as the configuration holds them.
    fn into_items(self) -> Vec<String>;
}

impl ListArgument for Any {
    fn into_items(self) -> Vec<String> {
        vec!["*".to_owned()]
    }
}

impl<I> ListArgument for I
where
    I: IntoIterator,
    I::Item: std::fmt::Display,
{
    fn into_items(self) -> Vec<String> {
        self.into_iter().map(|item| item.to_string()).collect()
    }
}

/// What `max_age` takes: seconds (any integer type) or a [`Duration`] (whole seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxAge(i128);

macro_rules! max_age_from_integers {
    ($($t:ty),*) => {$(
        impl From<$t> for MaxAge {
            fn from(seconds: $t) -> Self {
                Self(i128::from(seconds))
            }
        }
    )*};
}

max_age_from_integers!(u8, u16, u32, u64, i8, i16, i32, i64);

impl From<usize> for MaxAge {
    fn from(seconds: usize) -> Self {
        Self(i128::try_from(seconds).unwrap_or(i128::MAX))
    }
}

impl From<Duration> for MaxAge {
    fn from(duration: Duration) -> Self {
        Self(i128::from(duration.as_secs()))
    }
}

/// What a [`PolicyBuilder`] builds: a [`Policy`], or an adapter's layer
/// (`polycors_tower::CorsLayer`, `polycors_actix::Cors`).
pub trait BuildTarget: Sized {
    /// The host's view of a request that an origin predicate receives (`()` for a target
    /// that takes no predicate).
    type RequestParts: ?Sized;

    /// Makes the target from the built policy and the origin predicate, if one was given.
    fn finish(
        policy: Policy,
        origin_predicate: Option<OriginPredicate<Self::RequestParts>>,
    ) -> Self;
}

/// A [`BuildTarget`] that runs an origin predicate (an adapter layer: a bare [`Policy`] has
/// no request to give it), so that its builder has
/// [`allow_origin_predicate`](PolicyBuilder::allow_origin_predicate).
pub trait AcceptsOriginPredicate: BuildTarget {}

impl BuildTarget for Policy {
    type RequestParts = ();

    fn finish(policy: Policy, _: Option<OriginPredicate<()>>) -> Self {
        policy
    }
}

/// Builds a [`Policy`] (or, through an adapter's `builder()`, the adapter's layer) in code.
/// Each list method adds to its list; [`build`](Self::build) validates everything as a loaded
/// configuration is validated and reports every problem with its field.
///
/// ```
/// use std::time::Duration;
/// use polycors::{Any, Policy};
///
/// let policy = Policy::builder()
///     .allow_origins(["https://app.example.com"])
///     .allow_methods(["GET", "POST"])
///     .allow_headers(Any)
///     .max_age(Duration::from_secs(600))
///     .build()?;
/// # let _ = policy;
/// # Ok::<(), polycors::InvalidConfig>(())
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct PolicyBuilder<T: BuildTarget = Policy> {
    config: Config,
    /// A `max_age` below zero, reported by `build` like a loaded configuration's.
    negative_max_age: bool,
    origin_predicate: Option<OriginPredicate<T::RequestParts>>,
}

impl<T: BuildTarget> Clone for PolicyBuilder<T> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            negative_max_age: self.negative_max_age,
            origin_predicate: self.origin_predicate.clone(),
        }
    }
}

impl<T: BuildTarget> std::fmt::Debug for PolicyBuilder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyBuilder")
            .field("config", &self.config)
            .field("origin_predicate", &self.origin_predicate)
            .finish_non_exhaustive()
    }
}

impl<T: BuildTarget> Default for PolicyBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: AcceptsOriginPredicate> PolicyBuilder<T> {
    /// Lets `predicate` decide the origins that neither the exact origins nor the patterns
    /// allow (and sets `allow_origin_predicate`, so that no `allow_origins` means no origin
    /// rather than `*`). It is asked only about valid, cross-origin, non-`null` origins, in
    /// normalised form, with the host's view of the request; other checks (method, headers)
    /// still apply to the origins it allows. Keep it fast and non-blocking: it runs on every
    /// request from an unlisted origin.
    pub fn allow_origin_predicate<F>(mut self, predicate: F) -> Self
    where
        F: Fn(&OriginRef<'_>, &T::RequestParts) -> bool + Send + Sync + 'static,
    {
        self.config.allow_origin_predicate = true;
        self.origin_predicate = Some(OriginPredicate::new(predicate));
        self
    }
}

impl<T: BuildTarget> PolicyBuilder<T> {
    /// A builder with the defaults; [`build`](Self::build) makes a `T`.
    pub fn new() -> Self {
        Self {
            config: Config::default(),
            negative_max_age: false,
            origin_predicate: None,
        }
    }

    /// Adds allowed origins: exact origins (`https://app.example.com`), `null`, or [`Any`]
    /// (`*`).
    pub fn allow_origins(mut self, origins: impl ListArgument) -> Self {
        self.config
            .allow_origins
            .get_or_insert_default()
            .extend(origins.into_items());
        self
    }

    /// The same as [`allow_origins`](Self::allow_origins), under tower-http's name.
    pub fn allow_origin(self, origins: impl ListArgument) -> Self {
        self.allow_origins(origins)
    }

    /// Adds origin patterns (`https://*.example.com:[*]`): subdomains and ports matched by
    /// label, never by string prefix.
    pub fn allow_origin_patterns<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        patterns: I,
    ) -> Self {
        self.config
            .allow_origin_patterns
            .extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Adds allowed methods (replacing the default list), or [`Any`].
    pub fn allow_methods(mut self, methods: impl ListArgument) -> Self {
        self.config.allow_methods.extend(methods.into_items());
        self
    }

    /// Adds allowed request headers (replacing the default list), or [`Any`].
    pub fn allow_headers(mut self, headers: impl ListArgument) -> Self {
        self.config.allow_headers.extend(headers.into_items());
        self
    }

    /// Adds exposed response headers, or [`Any`].
    pub fn expose_headers(mut self, headers: impl ListArgument) -> Self {
        self.config.expose_headers.extend(headers.into_items());
        self
    }

    /// Sets `allow_credentials`.
    pub fn allow_credentials(mut self, allow: bool) -> Self {
        self.config.allow_credentials = allow;
        self
    }

    /// Sets `max_age`: seconds, or a [`Duration`].
    pub fn max_age(mut self, max_age: impl Into<MaxAge>) -> Self {
        let MaxAge(seconds) = max_age.into();
        self.negative_max_age = seconds < 0;
        self.config.max_age = Some(u64::try_from(seconds.max(0)).unwrap_or(u64::MAX));
        self
    }

    /// Sets `allow_private_network`.
    pub fn allow_private_network(mut self, allow: bool) -> Self {
        self.config.allow_private_network = allow;
        self
    }

    /// Sets `forward_disallowed_requests`: actual requests that fail a check are forwarded
    /// without CORS headers instead of answered 403 (preflights that fail are still 403).
    pub fn forward_disallowed_requests(mut self, forward: bool) -> Self {
        self.config.forward_disallowed_requests = forward;
        self
    }

    /// Sets `debug` (403 answers say why, in the body and in `x-cors-reason`).
    pub fn debug(mut self, debug: bool) -> Self {
        self.config.debug = debug;
        self
    }

    /// Validates and compiles the policy: every problem, with its field, or the result.
    pub fn build(self) -> Result<T, InvalidConfig> {
        let policy = Policy::new(self.config);
        if self.negative_max_age {
            let negative =
                ConfigError::new(Location::field("max_age"), ConfigErrorKind::NegativeMaxAge);
            let mut errors = vec![negative];
            if let Err(invalid) = policy {
                errors.extend(invalid.into_errors());
            }
            return Err(InvalidConfig::new(errors));
        }
        let origin_predicate = self.origin_predicate;
        policy.map(|policy| T::finish(policy, origin_predicate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_a_tower_http_user_writes() {
        struct Method(&'static str);
        impl std::fmt::Display for Method {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        let policy = Policy::builder()
            .allow_origin(["https://a.example"])
            .allow_methods([Method("GET"), Method("PUT")])
            .allow_headers(Any)
            .max_age(Duration::from_secs(90))
            .build()
            .expect("valid");
        let config = policy.config();
        assert_eq!(config.allow_methods, ["GET", "PUT"]);
        assert_eq!(config.allow_headers, ["*"]);
        assert_eq!(config.max_age, Some(90));
    }

    #[test]
    fn errors_are_the_loaded_configurations() {
        let error = Policy::builder()
            .allow_origins(["http://a.test/app"])
            .max_age(-1)
            .build()
            .expect_err("invalid");
        let messages: Vec<String> = error.errors().iter().map(ToString::to_string).collect();
        let loaded = Policy::from_yaml("allow_origins: ['http://a.test/app']\nmax_age: -1\n")
            .expect_err("invalid");
        let mut expected: Vec<String> = loaded.errors().iter().map(ToString::to_string).collect();
        let mut got = messages.clone();
        expected.sort();
        got.sort();
        assert_eq!(got, expected);
    }

    #[test]
    fn permissive_constructors() {
        let permissive = Policy::permissive();
        assert!(permissive.is_wildcard());
        assert!(!permissive.config().allow_credentials);
        let very = Policy::very_permissive();
        assert!(very.config().allow_credentials);
        assert_eq!(very.config().allow_origin_patterns, ["*"]);
        assert!(!very.warnings().is_empty(), "its risk is a warning");
    }
}
