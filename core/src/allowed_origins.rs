//! The allowed origins, compiled for lookups (§3.1): exact origins keyed by their normalised
//! bytes (each with its parsed parts, so that a hit needs no parsing), and patterns indexed by
//! the host or host suffix they name, so that an origin is compared with the few patterns that
//! can match it rather than with every one.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::origin::{self, OriginParts};
use crate::pattern::{IndexKey, OriginPattern};
use crate::token::eq_bytes;

/// Up to this many exact origins are compared one by one (faster than hashing a few).
const LINEAR_MAX: usize = 8;

/// A hasher for the short keys of the origin tables, eight bytes at a time. The keys come
/// from the configuration and requests only probe, so hash flooding cannot grow the tables.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        // Final avalanche, so that the table's top bits depend on every input byte.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^ (h >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (self.0.rotate_left(5) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The bit of [`AllowedOrigins::exact_lengths`] for an origin of `length` bytes.
fn length_bit(length: usize) -> u64 {
    1 << length.min(63)
}

type Table<V> = HashMap<Box<[u8]>, V, BuildHasherDefault<KeyHasher>>;

/// An exact origin in normalised form, with where its parts are.
#[derive(Debug)]
struct Exact {
    bytes: Box<[u8]>,
    scheme_end: usize,
    host_end: usize,
    port: Option<u16>,
}

impl Exact {
    fn parts(&self) -> OriginParts<'_> {
        OriginParts {
            scheme: &self.bytes[..self.scheme_end],
            host: &self.bytes[self.scheme_end + 3..self.host_end],
            port: self.port,
            canonical: true,
        }
    }
}

/// Which patterns may match an origin, by what they name.
#[derive(Debug, Default)]
struct PatternIndex {
    /// Patterns without a wildcard, by their host.
    by_host: Table<Vec<usize>>,
    /// `*.suffix` patterns, by `.suffix`.
    by_suffix: Table<Vec<usize>>,
    /// The others, compared with every origin.
    scan: Vec<usize>,
}

/// `allow_origins` and `allow_origin_patterns`, compiled.
#[derive(Debug, Default)]
pub(crate) struct AllowedOrigins {
    /// `*`.
    pub(crate) any: bool,
    /// `null`.
    pub(crate) null: bool,
    /// `allow_origin_predicate`: the application's predicate decides the other origins.
    pub(crate) predicate: bool,
    exact: Vec<Exact>,
    /// Index into `exact` (consulted when it is longer than [`LINEAR_MAX`]).
    exact_table: Table<usize>,
    /// The lengths of the exact origins, bit `n` for `n` bytes (63 for 63 and more): an origin
    /// of another length misses the table without being hashed.
    exact_lengths: u64,
    patterns: Vec<OriginPattern>,
    index: PatternIndex,
}

impl AllowedOrigins {
    /// Adds an exact origin; `false` when it is already there.
    pub(crate) fn insert_exact(&mut self, parts: &OriginParts<'_>) -> bool {
        let mut bytes = Vec::new();
        parts.write_normalised(&mut bytes);
        if self.exact_table.contains_key(bytes.as_slice()) {
            return false;
        }
        // The normalised form of an origin is an origin.
        let Ok(normal) = origin::parse(&bytes) else {
            return false;
        };
        let scheme_end = normal.scheme.len();
        let host_end = scheme_end + 3 + normal.host.len();
        let port = normal.port;
        let bytes: Box<[u8]> = bytes.into();
        self.exact_lengths |= length_bit(bytes.len());
        self.exact_table.insert(bytes.clone(), self.exact.len());
        self.exact.push(Exact {
            bytes,
            scheme_end,
            host_end,
            port,
        });
        true
    }

    /// Adds a pattern; `false` when an equal one is already there.
    pub(crate) fn insert_pattern(&mut self, pattern: OriginPattern) -> bool {
        if self.patterns.contains(&pattern) {
            return false;
        }
        let at = self.patterns.len();
        match pattern.index_key() {
            IndexKey::Host(host) => self.index.by_host.entry(host.into()).or_default().push(at),
            IndexKey::Suffix(suffix) => {
                self.index
                    .by_suffix
                    .entry(suffix.into())
                    .or_default()
                    .push(at);
            }
            IndexKey::None => self.index.scan.push(at),
        }
        self.patterns.push(pattern);
        true
    }

    /// The patterns, in configuration order.
    pub(crate) fn patterns(&self) -> &[OriginPattern] {
        &self.patterns
    }

    /// Where `raw` is among the exact origins, byte for byte (the form browsers send), with
    /// its parts: no parsing needed.
    pub(crate) fn exact_hit(&self, raw: &[u8]) -> Option<(usize, OriginParts<'_>)> {
        let at = if self.exact.len() > LINEAR_MAX {
            if self.exact_lengths & length_bit(raw.len()) == 0 {
                return None;
            }
            *self.exact_table.get(raw)?
        } else {
            self.exact.iter().position(|e| eq_bytes(&e.bytes, raw))?
        };
        Some((at, self.exact.get(at)?.parts()))
    }

    /// The exact origins in normalised form, in the order [`exact_hit`](Self::exact_hit)
    /// numbers them.
    pub(crate) fn exact_origins(&self) -> impl Iterator<Item = &[u8]> {
        self.exact.iter().map(|e| &e.bytes[..])
    }

    /// Whether a parsed, non-null origin that is not byte for byte an exact origin is allowed:
    /// `*`, an exact origin once normalised, or a pattern.
    pub(crate) fn allows(&self, parts: &OriginParts<'_>) -> bool {
        if self.any {
            return true;
        }
        if !parts.canonical && !self.exact.is_empty() {
            let mut key = Vec::with_capacity(64);
            parts.write_normalised(&mut key);
            if self.exact_hit(&key).is_some() {
                return true;
            }
        }
        self.pattern_matches(parts)
    }

    fn pattern_matches(&self, parts: &OriginParts<'_>) -> bool {
        if self.patterns.is_empty() {
            return false;
        }
        let matches = |candidates: &[usize]| {
            candidates
                .iter()
                .any(|&i| self.patterns[i].matches_parts(parts))
        };
        // The index holds lowercase hosts; other forms are compared with every pattern.
        if !parts.canonical {
            return self.patterns.iter().any(|p| p.matches_parts(parts));
        }
        if matches(&self.index.scan) {
            return true;
        }
        let host = parts.host;
        if !self.index.by_host.is_empty()
            && self.index.by_host.get(host).is_some_and(|c| matches(c))
        {
            return true;
        }
        if self.index.by_suffix.is_empty() {
            return false;
        }
        // Each `.` after the first byte starts a suffix a `*.suffix` pattern may name.
        host.iter().enumerate().skip(1).any(|(i, &b)| {
            b == b'.'
                && self
                    .index
                    .by_suffix
                    .get(&host[i..])
                    .is_some_and(|c| matches(c))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PATTERNS: [&str; 9] = [
        "https://*.example.com",
        "http://*.b.example.com:[*]",
        "https://a.example.org:[8080,8443]",
        "https://*example.net",
        "http://*.*.example.io",
        "https://x*.example.com",
        "http://[::1]:[*]",
        "http://a*-*.example.com",
        "http://*.example.com:9090",
    ];

    fn allowed(patterns: &[&str]) -> AllowedOrigins {
        let mut allowed = AllowedOrigins::default();
        for pattern in patterns {
            assert!(allowed.insert_pattern(OriginPattern::parse(pattern).unwrap()));
        }
        allowed
    }

    #[test]
    fn a_table_of_exact_origins_finds_each_and_only_them() {
        let listed: Vec<String> = (0..40)
            .map(|i| format!("https://{}.example.com", "a".repeat(i * 2 + 1)))
            .collect();
        let mut allowed = AllowedOrigins::default();
        for origin in &listed {
            assert!(allowed.insert_exact(&origin::parse(origin.as_bytes()).unwrap()));
        }
        assert!(allowed.exact.len() > LINEAR_MAX);
        for origin in &listed {
            let (at, parts) = allowed.exact_hit(origin.as_bytes()).expect(origin);
            assert_eq!(parts, origin::parse(origin.as_bytes()).unwrap(), "{origin}");
            assert_eq!(allowed.exact_origins().nth(at), Some(origin.as_bytes()));
        }
        // Unlisted, of a listed length (below and above 63 bytes) and of an unlisted one.
        for i in [0, 30, 39] {
            let length = listed[i].len();
            let unlisted = format!("https://{}.example.net", "a".repeat(i * 2 + 1));
            assert_eq!(unlisted.len(), length);
            assert_eq!(allowed.exact_hit(unlisted.as_bytes()), None, "{unlisted}");
            let longer = format!("{}x", listed[i]);
            assert_eq!(allowed.exact_hit(longer.as_bytes()), None, "{longer}");
        }
    }

    #[test]
    fn patterns_are_indexed_by_host_and_suffix() {
        let allowed = allowed(&PATTERNS);
        assert_eq!(allowed.index.by_host.len(), 1);
        assert_eq!(allowed.index.by_suffix.len(), 2);
        assert_eq!(allowed.index.by_suffix[&b".example.com"[..]], [0, 8]);
        assert_eq!(allowed.index.scan, [3, 4, 5, 6, 7]);
        let matches =
            |text: &str| allowed.pattern_matches(&origin::parse(text.as_bytes()).unwrap());
        assert!(matches("https://a.b.example.com"));
        assert!(matches("http://x1.b.example.com:8080"));
        assert!(matches("http://x.example.com:9090"));
        assert!(matches("https://a.example.org:8443"));
        assert!(!matches("https://example.com"));
        assert!(!matches("https://a.example.org"));
        assert!(!matches("http://a.example.com"));
    }

    #[test]
    fn exact_origins_hit_byte_for_byte_with_their_parts() {
        let mut allowed = AllowedOrigins::default();
        for i in 0..20 {
            let text = format!("https://App{i}.example.com:443");
            assert!(allowed.insert_exact(&origin::parse(text.as_bytes()).unwrap()));
        }
        assert!(!allowed.insert_exact(&origin::parse(b"https://app3.example.com").unwrap()));
        let (at, parts) = allowed.exact_hit(b"https://app7.example.com").unwrap();
        assert_eq!(at, 7);
        assert_eq!(
            (parts.scheme, parts.host, parts.port),
            (&b"https"[..], &b"app7.example.com"[..], None)
        );
        assert!(allowed.exact_hit(b"https://App7.example.com").is_none());
        assert!(allowed.allows(&origin::parse(b"https://App7.example.com").unwrap()));
        assert!(!allowed.allows(&origin::parse(b"https://app20.example.com").unwrap()));
    }

    fn origin_text() -> impl Strategy<Value = String> {
        let label = prop::sample::select(vec![
            "a", "b", "x1", "example", "com", "org", "net", "io", "A", "-",
        ]);
        (
            prop::sample::select(vec!["http", "https", "HTTP"]),
            prop::collection::vec(label, 1..5),
            prop::option::of(prop::sample::select(vec![80u16, 443, 8080, 8443, 9090])),
        )
            .prop_map(|(scheme, labels, port)| {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                format!("{scheme}://{}{port}", labels.join("."))
            })
    }

    proptest! {
        #[test]
        fn the_index_finds_exactly_what_comparing_every_pattern_finds(text in origin_text()) {
            let allowed = allowed(&PATTERNS);
            let parts = origin::parse(text.as_bytes()).unwrap();
            let every = allowed.patterns.iter().any(|p| p.matches_parts(&parts));
            prop_assert_eq!(allowed.pattern_matches(&parts), every, "{}", text);
        }
    }
}
