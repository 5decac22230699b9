//! Serialized origins (`scheme://host[:port]`): parsing, normalisation and comparison.

use std::fmt;

use crate::ipv6::{Ipv6, Ipv6Text};
use crate::token::eq_lowercase;

/// What is wrong with a string that was meant to be an origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginProblem {
    /// The value is empty.
    Empty,
    /// No `scheme://` prefix.
    MissingScheme,
    /// The scheme has characters other than letters, digits, `+`, `-` and `.`.
    InvalidScheme,
    /// The host is empty or has characters a host cannot have.
    InvalidHost,
    /// The host has non-ASCII characters (write its punycode form).
    NonAsciiHost,
    /// The port is empty, not 1 to 5 digits without a leading zero, or above 65535.
    InvalidPort,
    /// A path after the authority (an origin ends after the host and port).
    HasPath,
    /// A `?query`.
    HasQuery,
    /// A `#fragment`.
    HasFragment,
    /// `user@` information.
    HasUserinfo,
    /// A `*` wildcard (wildcards belong in `allow_origin_patterns`).
    HasWildcard,
}

impl fmt::Display for OriginProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "it is empty",
            Self::MissingScheme => "an origin starts with a scheme, e.g. \"https://\"",
            Self::InvalidScheme => "the scheme may only have letters, digits, '+', '-' and '.'",
            Self::InvalidHost => "the host is empty or has characters a host cannot have",
            Self::NonAsciiHost => "the host is not ASCII; write its punycode (xn--) form",
            Self::InvalidPort => {
                "the port must be 1 to 5 digits without a leading zero, at most 65535"
            }
            Self::HasPath => "an origin has no path; remove everything after the host and port",
            Self::HasQuery => "an origin has no query",
            Self::HasFragment => "an origin has no fragment",
            Self::HasUserinfo => "an origin has no user information (user@)",
            Self::HasWildcard => "wildcards belong in allow_origin_patterns",
        })
    }
}

/// The default port of the schemes browsers send in `Origin`.
pub(crate) fn default_port(scheme: &[u8]) -> Option<u16> {
    // Dispatch on the length; schemes are usually lowercase, which compares byte for byte.
    let is = |known: &[u8]| eq_lowercase(scheme, known);
    match scheme.len() {
        4 if is(b"http") => Some(80),
        5 if is(b"https") => Some(443),
        2 if is(b"ws") => Some(80),
        3 if is(b"wss") => Some(443),
        _ => None,
    }
}

/// An origin parsed from bytes, borrowing them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OriginParts<'a> {
    pub(crate) scheme: &'a [u8],
    /// The host as written; IPv6 hosts keep their brackets.
    pub(crate) host: &'a [u8],
    /// The explicit port, if any.
    pub(crate) port: Option<u16>,
    /// Whether the bytes are already in normalised form (lowercase, no default port, IPv6 in
    /// the form browsers serialize), so they can serve as their own lookup key.
    pub(crate) canonical: bool,
}

impl OriginParts<'_> {
    /// The explicit port, or the scheme's default.
    pub(crate) fn effective_port(&self) -> Option<u16> {
        self.port.or_else(|| default_port(self.scheme))
    }

    /// Appends the normalised form (`scheme://host[:port]`, lowercase, default port dropped).
    pub(crate) fn write_normalised(&self, out: &mut Vec<u8>) {
        out.extend(self.scheme.iter().map(u8::to_ascii_lowercase));
        out.extend_from_slice(b"://");
        match Ipv6::from_host(self.host) {
            Some(address) => out.extend_from_slice(Ipv6Text::new(address).as_bytes()),
            None => out.extend(self.host.iter().map(u8::to_ascii_lowercase)),
        }
        if let Some(port) = self.port.filter(|&p| Some(p) != default_port(self.scheme)) {
            out.push(b':');
            out.extend_from_slice(port.to_string().as_bytes());
        }
    }
}

pub(crate) fn is_scheme(scheme: &[u8]) -> bool {
    matches!(scheme.first(), Some(b) if b.is_ascii_alphabetic())
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

const fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')
}

/// Whether two hosts are the same: IPv6 literals by address, names case-insensitively.
pub(crate) fn same_host(a: &[u8], b: &[u8]) -> bool {
    if a.first() == Some(&b'[') && b.first() == Some(&b'[') {
        return match (Ipv6::from_host(a), Ipv6::from_host(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        };
    }
    a.eq_ignore_ascii_case(b)
}

/// Parses a port as a serialized origin writes it: 1 to 5 digits without a leading zero
/// (`0` itself aside), at most 65535.
pub(crate) fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    let mut value = 0u32;
    for &byte in digits {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u32::from(digit);
    }
    u16::try_from(value).ok()
}

/// Splits `host[:port]` (host possibly a bracketed IPv6 literal) without validating the host.
/// Returns `None` when the port part is malformed.
pub(crate) fn split_host_port(authority: &[u8]) -> Option<(&[u8], Option<u16>)> {
    let (host, rest) = if authority.first() == Some(&b'[') {
        let close = authority.iter().position(|&b| b == b']')?;
        authority.split_at(close + 1)
    } else {
        match authority.iter().position(|&b| b == b':') {
            Some(colon) => authority.split_at(colon),
            None => (authority, &b""[..]),
        }
    };
    match rest {
        [] => Some((host, None)),
        [b':', digits @ ..] => Some((host, Some(parse_port(digits)?))),
        _ => None,
    }
}

/// Whether `host` is a valid origin host: a registered name, IPv4 address, or bracketed IPv6.
pub(crate) fn check_host(host: &[u8]) -> Result<(), OriginProblem> {
    if host.first() == Some(&b'[') {
        return match Ipv6::from_host(host) {
            Some(_) => Ok(()),
            None => Err(OriginProblem::InvalidHost),
        };
    }
    if host.iter().any(|b| !b.is_ascii()) {
        return Err(OriginProblem::NonAsciiHost);
    }
    if host.is_empty() || !host.iter().all(|&b| is_host_byte(b)) {
        return Err(OriginProblem::InvalidHost);
    }
    Ok(())
}

/// Parses a serialized origin strictly, as a request's `Origin` header must be.
pub(crate) fn parse(bytes: &[u8]) -> Result<OriginParts<'_>, OriginProblem> {
    match parse_plain(bytes) {
        Some(parts) => Ok(parts),
        None => parse_any(bytes),
    }
}

/// Byte classes for [`parse_plain`]: scheme bytes, host bytes, uppercase letters.
const SCHEME_BYTE: u8 = 1;
const HOST_BYTE: u8 = 2;
const UPPERCASE: u8 = 4;
static CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        let mut class = 0;
        if byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.') {
            class |= SCHEME_BYTE;
        }
        if is_host_byte(byte) {
            class |= HOST_BYTE;
        }
        if byte.is_ascii_uppercase() {
            class |= UPPERCASE;
        }
        table[b] = class;
        b += 1;
    }
    table
};

/// The length of the run of `[a-z0-9.-]` that starts `bytes[start..]`: a lowercase host (these
/// bytes are host bytes, none uppercase), checked eight bytes at a time.
fn lowercase_host_run(bytes: &[u8], start: usize) -> usize {
    crate::token::range_run(bytes, start, [(b'a', b'z'), (b'0', b'9'), (b'-', b'.')])
}

/// The length of the run of `class` bytes that starts `bytes`, adding their classes to `seen`.
#[inline(always)]
fn class_run(bytes: &[u8], class: u8, seen: &mut u8) -> usize {
    for (at, &byte) in bytes.iter().enumerate() {
        let classes = CLASSES[usize::from(byte)];
        if classes & class == 0 {
            return at;
        }
        *seen |= classes;
    }
    bytes.len()
}

/// The common case in one pass: `scheme://host[:port]` with a name or IPv4 host. `None` for
/// anything else (IPv6 hosts, malformed values), which [`parse_any`] handles and explains;
/// whatever this accepts, [`parse_any`] accepts with the same parts.
fn parse_plain(bytes: &[u8]) -> Option<OriginParts<'_>> {
    let mut seen = 0u8;
    // The schemes browsers send most, compared whole; then any scheme.
    let (scheme_end, default) = if bytes.starts_with(b"https://") {
        (5, Some(443))
    } else if bytes.starts_with(b"http://") {
        (4, Some(80))
    } else {
        if !bytes.first()?.is_ascii_alphabetic() {
            return None;
        }
        let at = class_run(bytes, SCHEME_BYTE, &mut seen);
        if bytes.get(at..at + 3)? != b"://" {
            return None;
        }
        (at, default_port(&bytes[..at]))
    };
    let host_start = scheme_end + 3;
    let end = host_start + lowercase_host_run(bytes, host_start);
    let end = end + class_run(&bytes[end..], HOST_BYTE, &mut seen);
    if end == host_start {
        return None;
    }
    let port = match &bytes[end..] {
        [] => None,
        [b':', digits @ ..] => Some(parse_port(digits)?),
        _ => return None,
    };
    Some(OriginParts {
        scheme: &bytes[..scheme_end],
        host: &bytes[host_start..end],
        port,
        canonical: seen & UPPERCASE == 0 && port.is_none_or(|p| Some(p) != default),
    })
}

/// The full parser: every form, and the problem with what is not an origin.
fn parse_any(bytes: &[u8]) -> Result<OriginParts<'_>, OriginProblem> {
    if bytes.is_empty() {
        return Err(OriginProblem::Empty);
    }
    let sep = find(bytes, b"://").ok_or(OriginProblem::MissingScheme)?;
    let (scheme, rest) = (&bytes[..sep], &bytes[sep + 3..]);
    if !is_scheme(scheme) {
        return Err(OriginProblem::InvalidScheme);
    }
    // One pass for the five bytes an origin cannot have after the scheme; the problem
    // reported is the first of path, query, fragment, userinfo, wildcard that occurs.
    let mut seen = 0u8;
    for &byte in rest {
        seen |= match byte {
            b'/' => 1,
            b'?' => 2,
            b'#' => 4,
            b'@' => 8,
            b'*' => 16,
            _ => 0,
        };
    }
    if seen != 0 {
        return Err(match seen.trailing_zeros() {
            0 => OriginProblem::HasPath,
            1 => OriginProblem::HasQuery,
            2 => OriginProblem::HasFragment,
            3 => OriginProblem::HasUserinfo,
            _ => OriginProblem::HasWildcard,
        });
    }
    let (host, port) = split_host_port(rest).ok_or(OriginProblem::InvalidPort)?;
    check_host(host)?;
    let default = default_port(scheme);
    let canonical_host = match Ipv6::from_host(host) {
        Some(address) => Ipv6Text::new(address).as_bytes() == host,
        None => !host.iter().any(u8::is_ascii_uppercase),
    };
    let canonical = canonical_host
        && !scheme.iter().any(u8::is_ascii_uppercase)
        && port.is_none_or(|p| Some(p) != default);
    Ok(OriginParts {
        scheme,
        host,
        port,
        canonical,
    })
}

/// Parses an origin from configuration: like [`parse`], but one trailing `/` is tolerated.
pub(crate) fn parse_configured(text: &str) -> Result<OriginParts<'_>, OriginProblem> {
    let bytes = text.as_bytes();
    let bytes = match bytes.strip_suffix(b"/") {
        // `http://` is an origin without a host, not `http:/` with a trailing slash.
        Some(stripped) if !bytes.ends_with(b"://") => stripped,
        _ => bytes,
    };
    parse(bytes)
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_parses_scheme_host_and_port() {
        let o = parse(b"http://a.com:8080").unwrap();
        assert_eq!(
            (o.scheme, o.host, o.port),
            (&b"http"[..], &b"a.com"[..], Some(8080))
        );
        assert!(o.canonical);
    }

    #[test]
    fn origin_default_port_and_case_are_not_canonical() {
        assert!(!parse(b"http://a.com:80").unwrap().canonical);
        assert!(!parse(b"HTTP://a.com").unwrap().canonical);
        assert!(!parse(b"http://A.com").unwrap().canonical);
        assert!(!parse(b"http://[0:0::1]").unwrap().canonical);
        assert!(parse(b"http://[::1]").unwrap().canonical);
        let mut out = Vec::new();
        parse(b"HTTP://A.COM:80")
            .unwrap()
            .write_normalised(&mut out);
        assert_eq!(out, b"http://a.com");
    }

    #[test]
    fn origin_ipv6_hosts_are_supported() {
        let o = parse(b"http://[::1]:3000").unwrap();
        assert_eq!((o.host, o.port), (&b"[::1]"[..], Some(3000)));
        assert_eq!(parse(b"http://[zz::1]"), Err(OriginProblem::InvalidHost));
        assert_eq!(parse(b"http://[1:2]"), Err(OriginProblem::InvalidHost));
        let mut out = Vec::new();
        parse(b"http://[0:0:0:0:0:0:0:1]:9090")
            .unwrap()
            .write_normalised(&mut out);
        assert_eq!(out, b"http://[::1]:9090");
        assert!(same_host(b"[::1]", b"[0:0:0:0:0:0:0:1]"));
        assert!(!same_host(b"[::1]", b"[::2]"));
        assert!(same_host(b"A.com", b"a.COM"));
        assert_eq!(parse(b"http://[::1"), Err(OriginProblem::InvalidPort));
    }

    #[test]
    fn origin_rejects_what_is_not_an_origin() {
        assert_eq!(parse(b""), Err(OriginProblem::Empty));
        assert_eq!(parse(b"a.com"), Err(OriginProblem::MissingScheme));
        assert_eq!(parse(b"1http://a.com"), Err(OriginProblem::InvalidScheme));
        assert_eq!(parse(b"http://a.com/"), Err(OriginProblem::HasPath));
        assert_eq!(parse(b"http://a.com?x"), Err(OriginProblem::HasQuery));
        assert_eq!(parse(b"http://a.com#x"), Err(OriginProblem::HasFragment));
        assert_eq!(parse(b"http://u@a.com"), Err(OriginProblem::HasUserinfo));
        assert_eq!(parse(b"http://*.a.com"), Err(OriginProblem::HasWildcard));
        assert_eq!(parse(b"http://a.com:"), Err(OriginProblem::InvalidPort));
        assert_eq!(
            parse(b"http://a.com:65536"),
            Err(OriginProblem::InvalidPort)
        );
        assert_eq!(parse(b"http://a.com:8x"), Err(OriginProblem::InvalidPort));
        assert_eq!(
            parse(b"http://a.com:09090"),
            Err(OriginProblem::InvalidPort)
        );
        assert_eq!(
            parse(b"http://a.com:123456"),
            Err(OriginProblem::InvalidPort)
        );
        assert!(parse(b"http://a.com:0").is_ok());
        assert_eq!(parse(b"http://"), Err(OriginProblem::InvalidHost));
        assert_eq!(parse(b"http://a b"), Err(OriginProblem::InvalidHost));
        assert_eq!(
            parse(b"http://\xc3\xa9.com"),
            Err(OriginProblem::NonAsciiHost)
        );
    }

    #[test]
    fn the_one_pass_parser_takes_the_forms_browsers_send() {
        for origin in [
            "https://app.example.com",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "https://A.example.com:443",
        ] {
            assert_eq!(
                parse_plain(origin.as_bytes()).map(Ok),
                Some(parse_any(origin.as_bytes()))
            );
        }
        for other in [
            "http://[::1]",
            "http://a.com/",
            "http://a.com:",
            "a.com",
            "http://",
        ] {
            assert_eq!(parse_plain(other.as_bytes()), None, "{other}");
        }
    }

    #[test]
    fn the_lowercase_host_run_stops_at_the_first_other_byte() {
        // `token::range_run` is tested on every length, start and stopping byte; here, the set.
        let origin = b"https://eu.tenant19.example.org:8443";
        assert_eq!(lowercase_host_run(origin, 8), 23);
        assert_eq!(lowercase_host_run(b"a-b.c9", 0), 6);
        for other in [b'A', b'_', b':', b'/', b'[', b',', 0x80] {
            let host = [b'a', b'.', other, b'b'];
            assert_eq!(lowercase_host_run(&host, 0), 2, "{other:#x}");
        }
    }

    /// Whatever the one-pass parser accepts, the full parser accepts with the same parts.
    fn parsers_agree(text: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        if let Some(parts) = parse_plain(text.as_bytes()) {
            proptest::prop_assert_eq!(Ok(parts), parse_any(text.as_bytes()));
        }
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn the_one_pass_parser_agrees_with_the_full_one_on_long_hosts(
            text in "[a-z]{1,5}://[a-zA-Z0-9._~,-]{0,40}(:[0-9]{0,6})?"
        ) {
            parsers_agree(&text)?;
        }

        #[test]
        fn the_one_pass_parser_agrees_with_the_full_one_on_web_schemes(
            text in "(http|https|HTTP|Https|httpx|ws|wss)://[a-zA-Z0-9._~,\\[\\]-]{0,30}(:[0-9]{0,6})?"
        ) {
            parsers_agree(&text)?;
        }

        /// The evaluation looks for a comma (several origins in one line) only in a value
        /// that does not parse.
        #[test]
        fn no_origin_with_a_comma_parses(
            before in "([a-zA-Z]{1,5}://)?[a-zA-Z0-9._~\\[\\]:-]{0,20}",
            after in "[a-zA-Z0-9._~\\[\\]: /-]{0,20}",
        ) {
            let text = format!("{before},{after}");
            proptest::prop_assert!(parse(text.as_bytes()).is_err(), "{text:?} parsed");
        }

        #[test]
        fn the_one_pass_parser_agrees_with_the_full_one(
            text in "[a-zA-Z1+][a-zA-Z0-9+.-]{0,4}(:|://|:/)?[a-zA-Z0-9._:\\[\\]/@*?#-]{0,16}"
        ) {
            parsers_agree(&text)?;
        }
    }

    #[test]
    fn configured_origin_tolerates_one_trailing_slash() {
        assert!(parse_configured("http://a.com/").is_ok());
        assert_eq!(
            parse_configured("http://a.com//"),
            Err(OriginProblem::HasPath)
        );
    }
}
