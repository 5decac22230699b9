//! Origin patterns (`http://*.example.com:[8080,9090]`): parsed once into a structural matcher,
//! anchored on the whole origin. No regex engine is involved.

use std::fmt;

use crate::ipv6::{Ipv6, Ipv6Text};
use crate::origin::{self, OriginParts, default_port, is_scheme, parse_port};
use crate::token::eq_lowercase;

/// Longest host a pattern or a matched origin may have (a DNS name is at most 253 bytes).
const MAX_HOST: usize = 255;

/// What is wrong with an `allow_origin_patterns` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PatternProblem {
    /// The value is empty.
    Empty,
    /// No `scheme://` prefix (write `*` alone to match every origin).
    MissingScheme,
    /// The scheme is not a literal scheme (wildcards are only allowed in the host and port).
    InvalidScheme,
    /// The host pattern is empty, too long, or has characters a host cannot have.
    InvalidHost,
    /// A `[` without its `]`, or the reverse.
    UnbalancedBracket,
    /// A port that is not a number from 0 to 65535, or an empty item in a port list.
    InvalidPort,
    /// A port written `:*` (any port is written `:[*]`).
    StarPort,
    /// A path, query, fragment or user information.
    HasPath,
    /// `null` is not a pattern; put it in `allow_origins`.
    Null,
}

impl fmt::Display for PatternProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "it is empty",
            Self::MissingScheme => {
                "a pattern starts with a scheme, e.g. \"https://*.example.com\", or is \"*\" alone"
            }
            Self::InvalidScheme => {
                "the scheme must be written out (letters, digits, '+', '-', '.'); wildcards go in the host"
            }
            Self::InvalidHost => {
                "the host may only have letters, digits, '-', '.', '_' and '*', at most 255 characters"
            }
            Self::UnbalancedBracket => "a port list must be written \":[8080,9090]\" or \":[*]\"",
            Self::InvalidPort => {
                "ports must be numbers from 0 to 65535 without leading zeros: write \":8080\", \":[8080,9090]\" or \":[*]\""
            }
            Self::StarPort => "any port is written \":[*]\", not \":*\"",
            Self::HasPath => "a pattern has no path, query, fragment or user information",
            Self::Null => "\"null\" is not a pattern; list it in allow_origins",
        })
    }
}

/// What [`OriginPattern::partial_label_wildcard`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartialLabel {
    /// An origin the pattern matches, probably by mistake.
    pub(crate) example: String,
    /// The pattern as probably meant.
    pub(crate) suggestion: Option<String>,
}

/// What an origin's host must be or end with for a pattern to match it: how
/// [`AllowedOrigins`](crate::allowed_origins::AllowedOrigins) indexes patterns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexKey<'p> {
    /// No wildcard: exactly this (lowercase) host.
    Host(&'p [u8]),
    /// `*.suffix`: a host ending with this `.suffix`, after at least one byte.
    Suffix(&'p [u8]),
    /// Anything else (`*`, IPv6 hosts, wildcards inside labels or several wildcards).
    None,
}

/// Which ports a pattern accepts, compared with an origin's effective port.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PortSpec {
    /// No port-spec: only the scheme's default port.
    Default,
    /// `[*]`: any port, or none.
    Any,
    /// `8080` or `[8080,9090]`.
    OneOf(Vec<u16>),
}

/// One `allow_origin_patterns` item, compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPattern {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `*`: every origin except `null`.
    Any,
    Structured {
        scheme: Box<str>,
        host: HostPattern,
        ports: PortSpec,
    },
}

impl OriginPattern {
    /// Parses a pattern as written in configuration.
    pub fn parse(text: &str) -> Result<Self, PatternProblem> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PatternProblem::Empty);
        }
        if text == "*" {
            return Ok(Self { kind: Kind::Any });
        }
        if text.eq_ignore_ascii_case("null") {
            return Err(PatternProblem::Null);
        }
        let text = text.strip_suffix('/').unwrap_or(text);
        let (scheme, rest) = text
            .split_once("://")
            .ok_or(PatternProblem::MissingScheme)?;
        if !is_scheme(scheme.as_bytes()) {
            return Err(PatternProblem::InvalidScheme);
        }
        if rest.contains(['/', '?', '#', '@']) {
            return Err(PatternProblem::HasPath);
        }
        let (host, port_text) = split_port_spec(rest)?;
        let ports = parse_port_spec(port_text)?;
        let mut host = host.to_ascii_lowercase();
        let host_ok = if host.starts_with('[') {
            match Ipv6::from_host(host.as_bytes()) {
                Some(address) => {
                    // Compared in the form browsers serialize (§1.1).
                    host = String::from_utf8_lossy(Ipv6Text::new(address).as_bytes()).into_owned();
                    true
                }
                None => false,
            }
        } else {
            !host.is_empty()
                && host.len() <= MAX_HOST
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'*'))
        };
        if !host_ok {
            let bracketed = host.starts_with('[') && host.ends_with(']');
            return Err(if host.contains(['[', ']']) && !bracketed {
                PatternProblem::UnbalancedBracket
            } else {
                PatternProblem::InvalidHost
            });
        }
        let mut compact = Vec::with_capacity(host.len());
        for b in host.bytes() {
            if !(b == b'*' && compact.last() == Some(&b'*')) {
                compact.push(b);
            }
        }
        Ok(Self {
            kind: Kind::Structured {
                scheme: scheme.to_ascii_lowercase().into(),
                host: HostPattern::new(compact),
                ports,
            },
        })
    }

    /// The host or host suffix every origin this pattern matches has (see [`IndexKey`]).
    pub(crate) fn index_key(&self) -> IndexKey<'_> {
        let Kind::Structured { host, .. } = &self.kind else {
            return IndexKey::None;
        };
        let bytes = &host.bytes[..];
        if bytes.first() == Some(&b'[') {
            return IndexKey::None;
        }
        match (host.stars, host.prefix) {
            (0, _) => IndexKey::Host(bytes),
            (1, 0) if bytes.get(1) == Some(&b'.') => IndexKey::Suffix(&bytes[1..]),
            _ => IndexKey::None,
        }
    }

    /// Whether this is the single `*` pattern.
    pub fn is_any(&self) -> bool {
        matches!(self.kind, Kind::Any)
    }

    /// For a pattern with a `*` that is not a whole label (`http://*example.com`, which also
    /// matches `http://evilexample.com`): an origin it matches that was probably not meant, and
    /// the pattern as probably meant when that is clear (`http://*.example.com`).
    pub(crate) fn partial_label_wildcard(&self) -> Option<PartialLabel> {
        let Kind::Structured {
            scheme,
            host,
            ports,
        } = &self.kind
        else {
            return None;
        };
        let bytes = &host.bytes;
        let mut example = Vec::with_capacity(bytes.len() + 8);
        let mut suggested = Vec::with_capacity(bytes.len() + 2);
        let (mut partial, mut clear) = (false, true);
        for (i, &b) in bytes.iter().enumerate() {
            suggested.push(b);
            if b != b'*' {
                example.push(b);
                continue;
            }
            example.extend_from_slice(b"evil");
            let starts_label = i == 0 || bytes[i - 1] == b'.';
            let ends_label = matches!(bytes.get(i + 1), None | Some(b'.'));
            if starts_label && ends_label {
                continue;
            }
            partial = true;
            if starts_label {
                // `*example.com` was meant as `*.example.com`.
                suggested.push(b'.');
            } else {
                clear = false;
            }
        }
        if !partial {
            return None;
        }
        let port_spec = match ports {
            PortSpec::Default => String::new(),
            PortSpec::Any => ":[*]".to_owned(),
            PortSpec::OneOf(list) if list.len() == 1 => format!(":{}", list[0]),
            PortSpec::OneOf(list) => {
                let list: Vec<String> = list.iter().map(u16::to_string).collect();
                format!(":[{}]", list.join(","))
            }
        };
        let example_port = match ports {
            PortSpec::OneOf(list) => list.first().map(|p| format!(":{p}")).unwrap_or_default(),
            PortSpec::Default | PortSpec::Any => String::new(),
        };
        let text =
            |host: &[u8], port: &str| format!("{scheme}://{}{port}", String::from_utf8_lossy(host));
        Some(PartialLabel {
            example: text(&example, &example_port),
            suggestion: clear.then(|| text(&suggested, &port_spec)),
        })
    }

    /// Whether `origin` (a serialized origin, not `null`) matches the whole pattern.
    pub fn matches(&self, origin: &[u8]) -> bool {
        origin::parse(origin).is_ok_and(|parts| self.matches_parts(&parts))
    }

    pub(crate) fn matches_parts(&self, origin: &OriginParts<'_>) -> bool {
        match &self.kind {
            Kind::Any => true,
            Kind::Structured {
                scheme,
                host,
                ports,
            } => {
                eq_lowercase(origin.scheme, scheme.as_bytes())
                    && ports_match(ports, scheme.as_bytes(), origin)
                    && host.matches(origin.host)
            }
        }
    }
}

fn ports_match(spec: &PortSpec, scheme: &[u8], origin: &OriginParts<'_>) -> bool {
    match spec {
        PortSpec::Any => true,
        PortSpec::Default => origin.effective_port() == default_port(scheme),
        PortSpec::OneOf(ports) => origin.effective_port().is_some_and(|p| ports.contains(&p)),
    }
}

/// Splits `host-pattern[:port-spec]`, with bracketed IPv6 hosts.
fn split_port_spec(rest: &str) -> Result<(&str, Option<&str>), PatternProblem> {
    let host_end = if rest.starts_with('[') && !rest.starts_with("[*]") {
        rest.find(']').ok_or(PatternProblem::UnbalancedBracket)? + 1
    } else {
        rest.find(':').unwrap_or(rest.len())
    };
    let (host, port) = rest.split_at(host_end);
    match port.strip_prefix(':') {
        None if port.is_empty() => Ok((host, None)),
        None => Err(PatternProblem::InvalidHost),
        Some(spec) => Ok((host, Some(spec))),
    }
}

fn parse_port_spec(spec: Option<&str>) -> Result<PortSpec, PatternProblem> {
    let Some(spec) = spec else {
        return Ok(PortSpec::Default);
    };
    if spec.trim() == "*" {
        return Err(PatternProblem::StarPort);
    }
    let port = |text: &str| parse_port(text.trim().as_bytes()).ok_or(PatternProblem::InvalidPort);
    match (spec.strip_prefix('['), spec.strip_suffix(']')) {
        (Some(_), Some(_)) => {
            let inner = spec[1..spec.len() - 1].trim();
            if inner == "*" {
                return Ok(PortSpec::Any);
            }
            if inner.contains(['[', ']']) {
                return Err(PatternProblem::UnbalancedBracket);
            }
            let ports = inner.split(',').map(port).collect::<Result<Vec<_>, _>>()?;
            Ok(PortSpec::OneOf(ports))
        }
        (None, None) => Ok(PortSpec::OneOf(vec![port(spec)?])),
        _ => Err(PatternProblem::UnbalancedBracket),
    }
}

/// Whether `b` may be covered by a `*` in a host pattern.
fn wildcard_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'
}

/// A lowercase host pattern where `*` stands for one or more of `[a-z0-9.-]`, with its
/// literal prefix and suffix (around the first and last `*`) precomputed: most patterns have
/// one `*`, and match with two slice comparisons and a character-class scan.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPattern {
    bytes: Box<[u8]>,
    prefix: usize,
    suffix: usize,
    stars: usize,
}

impl HostPattern {
    fn new(bytes: Vec<u8>) -> Self {
        let stars = bytes.iter().filter(|&&b| b == b'*').count();
        let prefix = bytes.iter().position(|&b| b == b'*').unwrap_or(bytes.len());
        let suffix = bytes.iter().rev().position(|&b| b == b'*').unwrap_or(0);
        Self {
            bytes: bytes.into(),
            prefix,
            suffix,
            stars,
        }
    }

    fn matches(&self, host: &[u8]) -> bool {
        if self.stars == 0 {
            return origin::same_host(host, &self.bytes);
        }
        let n = host.len();
        if n < self.prefix + self.suffix + self.stars || n > MAX_HOST {
            return false;
        }
        let (prefix, suffix) = (
            &self.bytes[..self.prefix],
            &self.bytes[self.bytes.len() - self.suffix..],
        );
        if !eq_lowercase(&host[..self.prefix], prefix)
            || !eq_lowercase(&host[n - self.suffix..], suffix)
        {
            return false;
        }
        let middle = &host[self.prefix..n - self.suffix];
        if self.stars == 1 {
            return middle.iter().all(|b| wildcard_byte(b.to_ascii_lowercase()));
        }
        let inner = &self.bytes[self.prefix..self.bytes.len() - self.suffix];
        host_matches(inner, middle)
    }
}

/// Anchored match of a lowercase host pattern against a host (any case), where each `*`
/// covers one or more wildcard bytes. Dynamic programming over the host, O(pattern × host),
/// with no allocation.
fn host_matches(pattern: &[u8], host: &[u8]) -> bool {
    if host.len() > MAX_HOST {
        return false;
    }
    let n = host.len();
    // rows[cur][j]: the pattern so far matches host[..j].
    let mut rows = [[false; MAX_HOST + 1]; 2];
    let mut cur = 0;
    rows[cur][0] = true;
    for &p in pattern {
        let (a, b) = rows.split_at_mut(1);
        let (reach, next) = if cur == 0 {
            (&a[0], &mut b[0])
        } else {
            (&b[0], &mut a[0])
        };
        next[0] = false;
        for j in 1..=n {
            let h = host[j - 1].to_ascii_lowercase();
            next[j] = if p == b'*' {
                wildcard_byte(h) && (reach[j - 1] || next[j - 1])
            } else {
                reach[j - 1] && h == p
            };
        }
        cur = 1 - cur;
    }
    rows[cur][n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, origin: &str) -> bool {
        OriginPattern::parse(pattern)
            .unwrap()
            .matches(origin.as_bytes())
    }

    #[test]
    fn pattern_wildcard_spans_labels_but_needs_one_character() {
        assert!(m("http://*.example.com", "http://a.example.com"));
        assert!(m("http://*.example.com", "http://a.b.example.com"));
        assert!(!m("http://*.example.com", "http://example.com"));
        assert!(!m("http://*.example.com", "http://.example.com"));
    }

    #[test]
    fn pattern_is_anchored_on_the_whole_origin() {
        assert!(!m("http://*.example.com", "http://a.example.com.evil.com"));
        assert!(!m("http://*.example.com", "http://a.example.com:8080"));
        assert!(!m("http://*.example.com", "https://a.example.com"));
        assert!(!m("http://*.example.com", "http://evil.com/a.example.com"));
    }

    #[test]
    fn pattern_wildcard_does_not_cover_other_characters() {
        assert!(!m("http://*.example.com", "http://a_b.example.com"));
        assert!(m("http://a_*.example.com", "http://a_b.example.com"));
    }

    #[test]
    fn pattern_port_list_compares_effective_port() {
        assert!(m("http://*.a.com:[80,8080]", "http://x.a.com"));
        assert!(m("http://*.a.com:[80, 8080]", "http://x.a.com:8080"));
        assert!(!m("http://*.a.com:[80,8080]", "http://x.a.com:9090"));
        assert!(m("http://*.a.com:8080", "http://x.a.com:8080"));
        assert!(m("https://*.a.com", "https://x.a.com:443"));
    }

    #[test]
    fn pattern_any_port_matches_with_and_without_port() {
        assert!(m("http://*.example.com:[*]", "http://a.example.com"));
        assert!(m("http://*.example.com:[*]", "http://a.example.com:1"));
    }

    #[test]
    fn pattern_star_alone_matches_every_origin_but_null() {
        assert!(m("*", "https://x.y"));
        assert!(!m("*", "null"));
    }

    #[test]
    fn pattern_matches_case_insensitively() {
        assert!(m("HTTP://*.Example.COM", "http://A.example.com"));
    }

    #[test]
    fn pattern_with_several_wildcards() {
        assert!(m(
            "https://*.eu-*.example.com",
            "https://a.eu-west.example.com"
        ));
        assert!(m("https://*-*.example.com", "https://a-b-c.example.com"));
        assert!(!m("https://*-*.example.com", "https://ab.example.com"));
        assert!(!m(
            "https://*.eu-*.example.com",
            "https://a.eu-.example.com"
        ));
        assert!(m("https://api*", "https://api2"));
        assert!(!m("https://api*", "https://api"));
    }

    #[test]
    fn pattern_ipv6_host() {
        assert!(m("http://[::1]:[*]", "http://[::1]:3000"));
        assert!(m("http://[0:0:0:0:0:0:0:1]:[*]", "http://[::1]:3000"));
        assert!(!m("http://[::1]", "http://[::2]"));
    }

    #[test]
    fn partial_label_wildcards_are_found_with_an_example_and_a_suggestion() {
        let hint = |text: &str| OriginPattern::parse(text).unwrap().partial_label_wildcard();
        assert_eq!(hint("http://*.example.com"), None);
        assert_eq!(hint("http://a.*.example.com:[*]"), None);
        assert_eq!(hint("*"), None);
        let found = hint("http://*example.com:8080").unwrap();
        assert_eq!(found.example, "http://evilexample.com:8080");
        assert_eq!(
            found.suggestion.as_deref(),
            Some("http://*.example.com:8080")
        );
        let found = hint("https://api-*.example.com").unwrap();
        assert_eq!(found.example, "https://api-evil.example.com");
        assert_eq!(found.suggestion, None);
    }

    #[test]
    fn pattern_tolerates_one_trailing_slash() {
        assert!(m("http://*.a.com/", "http://x.a.com"));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        use PatternProblem::*;
        for (text, problem) in [
            ("", Empty),
            ("*.example.com", MissingScheme),
            ("*://a.com", InvalidScheme),
            ("http://*.a.com:[80", UnbalancedBracket),
            ("http://*.a.com:80]", UnbalancedBracket),
            ("http://*.a.com:[8x]", InvalidPort),
            ("http://*.a.com:[70000]", InvalidPort),
            ("http://*.a.com:[80,]", InvalidPort),
            ("http://*.a.com:*", StarPort),
            ("http://*.a.com:[080]", InvalidPort),
            ("http://[1:2]", InvalidHost),
            ("http://*.a.com/path", HasPath),
            ("http://a b", InvalidHost),
            ("null", Null),
        ] {
            assert_eq!(OriginPattern::parse(text), Err(problem), "{text}");
        }
    }
}
