//! What an application's origin predicate sees: [`OriginRef`], a request's `Origin` that
//! neither `allow_origins` nor `allow_origin_patterns` allows, parsed and normalised.

use std::borrow::Cow;
use std::fmt;

use crate::origin::{self, OriginParts, default_port};

/// A request's origin, offered to an origin predicate (`allow_origin_predicate` in
/// polycors-tower and polycors-actix): valid, cross-origin, not `null`, and in normalised
/// form (lowercase scheme and host, no default port), so that comparisons need no care.
///
/// ```
/// # use polycors::{OriginRef, Policy, RequestView, Verdict};
/// let policy = Policy::from_yaml("allow_origin_predicate: true")?;
/// let mut request = RequestView::new(b"GET");
/// request.add_header(b"origin", b"https://Tenant-7.Example.com:443");
/// let decision = policy.evaluate_with(&request, |origin: &OriginRef<'_>| {
///     assert_eq!(origin.as_str(), "https://tenant-7.example.com");
///     assert_eq!(origin.port_or_default(), Some(443));
///     origin.scheme() == "https" && origin.is_host_or_subdomain_of("example.com")
/// });
/// assert_eq!(decision.verdict(), Verdict::Actual);
/// # Ok::<(), polycors::InvalidConfig>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRef<'a> {
    serialized: Cow<'a, str>,
    scheme_end: usize,
    host_end: usize,
    port: Option<u16>,
}

impl<'a> OriginRef<'a> {
    /// The origin `raw`, parsed as `parts`; borrowed when the request sent it normalised (as
    /// browsers do). `None` only if the normalised form fails to parse, which a parsed origin's
    /// never does.
    pub(crate) fn new(raw: &'a [u8], parts: &OriginParts<'a>) -> Option<Self> {
        let bytes: Cow<'a, [u8]> = if parts.canonical {
            Cow::Borrowed(raw)
        } else {
            let mut normalised = Vec::with_capacity(raw.len());
            parts.write_normalised(&mut normalised);
            Cow::Owned(normalised)
        };
        let (scheme_end, host_end, port) = {
            let normal = origin::parse(&bytes).ok()?;
            let scheme_end = normal.scheme.len();
            (scheme_end, scheme_end + 3 + normal.host.len(), normal.port)
        };
        let serialized = match bytes {
            Cow::Borrowed(bytes) => Cow::Borrowed(std::str::from_utf8(bytes).ok()?),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8(bytes).ok()?),
        };
        Some(Self {
            serialized,
            scheme_end,
            host_end,
            port,
        })
    }

    /// The same origin, owning its text (for an asynchronous predicate's future).
    pub fn into_owned(self) -> OriginRef<'static> {
        OriginRef {
            serialized: Cow::Owned(self.serialized.into_owned()),
            scheme_end: self.scheme_end,
            host_end: self.host_end,
            port: self.port,
        }
    }

    /// The serialized origin: `https://app.example.com`, `http://localhost:3000`.
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    /// The scheme, lowercase: `https`.
    pub fn scheme(&self) -> &str {
        &self.serialized[..self.scheme_end]
    }

    /// The host, lowercase; an IPv6 address keeps its brackets (`[::1]`).
    pub fn host(&self) -> &str {
        &self.serialized[self.scheme_end + 3..self.host_end]
    }

    /// The port, when the origin names one other than its scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port, or the scheme's default (443 for `https`, 80 for `http`); `None` for a
    /// scheme without a default and no port.
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or_else(|| default_port(self.scheme().as_bytes()))
    }

    /// Whether the host is `domain` or a subdomain of it, label by label (ASCII case
    /// ignored): `example.com` covers `example.com` and `a.b.example.com`, never
    /// `evilexample.com` nor `example.com.evil.net`, the mistakes `ends_with` and
    /// `starts_with` make.
    pub fn is_host_or_subdomain_of(&self, domain: &str) -> bool {
        let host = self.host();
        let domain = domain.strip_suffix('.').unwrap_or(domain);
        if domain.is_empty() || host.starts_with('[') {
            return host.eq_ignore_ascii_case(domain) && !domain.is_empty();
        }
        if host.eq_ignore_ascii_case(domain) {
            return true;
        }
        host.len() > domain.len()
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
    }
}

impl fmt::Display for OriginRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(raw: &str) -> OriginRef<'_> {
        let parts = origin::parse(raw.as_bytes()).expect("an origin");
        OriginRef::new(raw.as_bytes(), &parts).expect("normalises")
    }

    #[test]
    fn parts_of_a_browser_origin_are_borrowed() {
        let o = origin("http://localhost:3000");
        assert!(matches!(o.serialized, Cow::Borrowed(_)));
        assert_eq!(
            (o.scheme(), o.host(), o.port(), o.port_or_default()),
            ("http", "localhost", Some(3000), Some(3000))
        );
    }

    #[test]
    fn other_forms_are_normalised() {
        let o = origin("HTTPS://API.Example.COM:443");
        assert_eq!(o.as_str(), "https://api.example.com");
        assert_eq!((o.port(), o.port_or_default()), (None, Some(443)));
        let v6 = origin("http://[0:0::1]:8080");
        assert_eq!((v6.host(), v6.port()), ("[::1]", Some(8080)));
        assert_eq!(v6.to_string(), "http://[::1]:8080");
    }

    fn request(origin: &str) -> crate::RequestView<'_> {
        let mut request = crate::RequestView::new(b"GET");
        request.add_header(b"origin", origin.as_bytes());
        request
    }

    #[test]
    fn only_a_policy_with_the_flag_asks_its_predicate() {
        let asked = std::cell::Cell::new(0);
        let ask = |_: &OriginRef<'_>| {
            asked.set(asked.get() + 1);
            true
        };
        let listed = crate::Policy::from_yaml("allow_origins: [https://a.test]").expect("valid");
        let decision = listed.evaluate_with(&request("https://b.test"), ask);
        assert_eq!(
            decision.verdict(),
            crate::Verdict::Reject(crate::Reason::OriginNotAllowed)
        );
        assert_eq!(asked.get(), 0);
        let flagged = listed.with_origin_predicate();
        assert!(flagged.needs_origin_predicate());
        let decision = flagged.evaluate_with(&request("https://b.test"), ask);
        assert_eq!(decision.verdict(), crate::Verdict::Actual);
        assert_eq!(asked.get(), 1);
        // Without a predicate, the flagged policy rejects what it does not list.
        let decision = flagged.evaluate(&request("https://b.test"));
        assert!(matches!(decision.verdict(), crate::Verdict::Reject(_)));
    }

    #[test]
    fn the_flag_changes_what_an_absent_or_empty_origin_list_means() {
        let default = crate::Policy::default();
        assert!(default.is_wildcard());
        let flagged = default.with_origin_predicate();
        assert!(!flagged.is_wildcard(), "no allow_origins is no longer `*`");
        assert!(crate::Policy::from_yaml("allow_origins: []").is_err());
        let empty = crate::Policy::from_yaml("allow_origins: []\nallow_origin_predicate: true")
            .expect("the predicate may allow origins");
        assert!(!empty.is_wildcard() && empty.warnings().is_empty());
        let unreachable =
            crate::Policy::from_yaml("allow_origins: ['*']\nallow_origin_predicate: true")
                .expect("valid");
        assert_eq!(
            unreachable.warnings(),
            [crate::Warning::OriginPredicateUnreachable]
        );
        let pattern =
            crate::Policy::from_yaml("allow_origin_patterns: ['*']\nallow_origin_predicate: true")
                .expect("valid");
        assert_eq!(
            pattern.warnings(),
            [crate::Warning::OriginPredicateUnreachable]
        );
    }

    #[test]
    fn subdomains_are_matched_by_label() {
        let o = origin("https://a.b.example.com");
        assert!(o.is_host_or_subdomain_of("example.com"));
        assert!(o.is_host_or_subdomain_of("B.Example.com."));
        assert!(o.is_host_or_subdomain_of("a.b.example.com"));
        assert!(!o.is_host_or_subdomain_of("ample.com"));
        assert!(!o.is_host_or_subdomain_of("x.a.b.example.com"));
        assert!(!o.is_host_or_subdomain_of(""));
        assert!(!origin("https://evilexample.com").is_host_or_subdomain_of("example.com"));
        assert!(!origin("https://example.com.evil.net").is_host_or_subdomain_of("example.com"));
        assert!(origin("http://[::1]").is_host_or_subdomain_of("[::1]"));
        assert!(!origin("http://[::1]").is_host_or_subdomain_of("1]"));
    }
}
