//! The benchmark cases every overhead benchmark shares (core, tower, actix): the policies and
//! the requests, so that each framework measures the same work. Included with `#[path]` by the
//! adapters' benchmarks.

#![allow(dead_code)]

use std::ops::Range;
use std::sync::OnceLock;

use polycors::Policy;

/// The exact origins of the small policy.
pub const ORIGINS: [&str; 3] = [
    "https://app.example.com",
    "https://admin.example.com",
    "http://localhost:3000",
];
pub const METHODS: [&str; 3] = ["GET", "POST", "PUT"];
pub const HEADERS: [&str; 3] = ["content-type", "authorization", "x-token"];
pub const EXPOSE: &str = "x-request-id";
pub const MAX_AGE: u64 = 600;
/// The request's own authority (never the Origin's: these are cross-origin requests).
pub const HOST: &str = "api.example.com";

/// The other headers a browser sends with a cross-origin `fetch` (Chromium's, trimmed): every
/// request the adapters' benchmarks build carries them, as a server receives it, so that a
/// layer whose cost grows with the request's header count shows it.
pub const BROWSER_HEADERS: [(&str, &str); 10] = [
    (
        "user-agent",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    ),
    ("accept", "*/*"),
    ("accept-language", "en-US,en;q=0.9"),
    ("accept-encoding", "gzip, deflate, br, zstd"),
    ("referer", "https://admin.example.com/"),
    ("sec-fetch-mode", "cors"),
    ("sec-fetch-site", "cross-site"),
    ("sec-fetch-dest", "empty"),
    ("sec-ch-ua-platform", "\"Linux\""),
    ("connection", "keep-alive"),
];

/// The header lines of `case`'s request, in order: `host`, `origin`, the preflight's and the
/// [`BROWSER_HEADERS`].
pub fn request_headers(case: &Case) -> impl Iterator<Item = (&'static str, &'static str)> {
    let preflight = case.preflight.map(|(method, headers)| {
        [
            ("access-control-request-method", method),
            ("access-control-request-headers", headers),
        ]
    });
    [("host", HOST)]
        .into_iter()
        .chain(case.origin.map(|origin| ("origin", origin)))
        .chain(preflight.into_iter().flatten())
        .chain(BROWSER_HEADERS)
}

/// The header lines of `case`'s request as a server holds them ([`request_headers`], in
/// order): each value a slice of one buffer, shared rather than copied (cloning one counts a
/// reference), as a server's values are slices of what it read.
pub fn received_headers(case: &Case) -> impl Iterator<Item = (&'static str, bytes::Bytes)> {
    let (bytes, ranges) = received(case);
    request_headers(case)
        .zip(ranges)
        .map(|((name, _), range)| (name, bytes.slice(range.clone())))
}

/// The bytes a server has read for `case`'s requests, made once, and where each header
/// value is in them.
fn received(case: &Case) -> &'static (bytes::Bytes, [Range<usize>; 16]) {
    static RECEIVED: OnceLock<Vec<(bytes::Bytes, [Range<usize>; 16])>> = OnceLock::new();
    let received = RECEIVED.get_or_init(|| {
        CASES
            .iter()
            .map(|case| {
                let mut buffer = Vec::with_capacity(512);
                let mut ranges: [Range<usize>; 16] = Default::default();
                for ((_, value), range) in request_headers(case).zip(&mut ranges) {
                    let start = buffer.len();
                    buffer.extend_from_slice(value.as_bytes());
                    *range = start..buffer.len();
                }
                (bytes::Bytes::from(buffer), ranges)
            })
            .collect()
    });
    let at = CASES.iter().position(|c| c.name == case.name);
    &received[at.expect("one of CASES")]
}

/// A case: what the request carries.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Its name in the output (`actual`, `preflight`, ...).
    pub name: &'static str,
    pub method: &'static str,
    pub origin: Option<&'static str>,
    /// `Access-Control-Request-Method` and `-Headers`.
    pub preflight: Option<(&'static str, &'static str)>,
    /// Whether it runs against the big policy (100 exact origins, 20 patterns).
    pub big: bool,
}

pub const CASES: [Case; 5] = [
    Case {
        name: "actual",
        method: "GET",
        origin: Some("https://admin.example.com"),
        preflight: None,
        big: false,
    },
    Case {
        name: "preflight",
        method: "OPTIONS",
        origin: Some("https://admin.example.com"),
        preflight: Some(("PUT", "content-type,authorization,x-token")),
        big: false,
    },
    Case {
        name: "rejected",
        method: "GET",
        origin: Some("https://evil.example"),
        preflight: None,
        big: false,
    },
    Case {
        name: "no-origin",
        method: "GET",
        origin: None,
        preflight: None,
        big: false,
    },
    Case {
        name: "pattern",
        method: "GET",
        origin: Some("https://eu.tenant19.example.org:8443"),
        preflight: None,
        big: true,
    },
];

/// `POLYCORS_COUNT="<case> <implementation> <requests>"`: the benchmark binary then only sends
/// that many requests (for instruction counts under callgrind) instead of measuring times.
pub fn count_request() -> Option<(&'static Case, &'static str, usize)> {
    let spec = std::env::var("POLYCORS_COUNT").ok()?;
    let parsed = || {
        let mut words = spec.split_whitespace();
        let (case, implementation, requests) = (words.next()?, words.next()?, words.next()?);
        let case = CASES.iter().find(|c| c.name == case)?;
        let implementation = ["none", "peer", "polycors"]
            .into_iter()
            .find(|i| *i == implementation)?;
        Some((case, implementation, requests.parse().ok()?))
    };
    Some(parsed().unwrap_or_else(|| {
        panic!("POLYCORS_COUNT={spec:?}: expected \"<case> none|peer|polycors <requests>\"")
    }))
}

/// `POLYCORS_OVERHEAD=<rounds>`: the benchmark binary then measures overheads by interleaving
/// (see [`print_overheads`]) instead of running criterion.
pub fn overhead_rounds() -> Option<usize> {
    let rounds = std::env::var("POLYCORS_OVERHEAD").ok()?;
    Some(
        rounds.parse().unwrap_or_else(|_| {
            panic!("POLYCORS_OVERHEAD={rounds:?}: expected a number of rounds")
        }),
    )
}

/// Requests per implementation per round of [`print_overheads`].
const BATCH: usize = 200;

/// Measures `case` through no layer, the peer and polycors in turn, `rounds` times: each
/// `timers[i](n)` times building `n` requests one at a time, each sent through its stack and
/// its response dropped at once, and returns the time taken (building a request is the same
/// work in every stack: it cancels out of the differences). A round's overhead is its time per request minus
/// the same round's time without a layer; the medians over rounds are printed as
/// `overhead <framework> <case> <implementation> <ns>` lines and an `overhead-ratio` line.
/// Interleaving keeps the machine's drift (other processes, frequency) out of the
/// differences, which sequential measurements on a shared machine do not.
pub fn print_overheads(
    framework: &str,
    case: &Case,
    rounds: usize,
    timers: [&mut dyn FnMut(usize) -> std::time::Duration; 3],
) {
    let [none, peer, polycors] = timers;
    // Warm-up: caches, allocator, branch predictors.
    for timer in [&mut *none, &mut *peer, &mut *polycors] {
        timer(BATCH);
    }
    let per_request = |elapsed: std::time::Duration| elapsed.as_nanos() as f64 / BATCH as f64;
    let mut overheads: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        let base = per_request(none(BATCH));
        overheads[0].push(per_request(peer(BATCH)) - base);
        overheads[1].push(per_request(polycors(BATCH)) - base);
    }
    let [peer, polycors] = overheads.map(|mut values| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    });
    println!("overhead {framework} {} peer {peer:.1}", case.name);
    println!("overhead {framework} {} polycors {polycors:.1}", case.name);
    println!(
        "overhead-ratio {framework} {} polycors/peer {:.2}",
        case.name,
        polycors / peer
    );
}

/// The big policy's exact origins: `https://app{i}.example.com`, i < 100.
pub fn big_origins() -> Vec<String> {
    (0..100)
        .map(|i| format!("https://app{i}.example.com"))
        .collect()
}

/// The big policy's patterns: `https://*.tenant{i}.example.org:[*]`, i < 20.
pub fn big_patterns() -> Vec<String> {
    (0..20)
        .map(|i| format!("https://*.tenant{i}.example.org:[*]"))
        .collect()
}

/// The host suffixes of [`big_patterns`], for the peers' origin predicates.
pub fn big_suffixes() -> Vec<String> {
    (0..20).map(|i| format!(".tenant{i}.example.org")).collect()
}

/// What a peer's user writes for `https://*.<suffix>:[*]`: `https`, a host ending with one of
/// `suffixes` (with at least one character before), any port.
pub fn matches_suffix_pattern(origin: &[u8], suffixes: &[String]) -> bool {
    let Some(rest) = origin.strip_prefix(b"https://") else {
        return false;
    };
    let host = match rest.iter().rposition(|&b| b == b':') {
        Some(colon) if rest[colon + 1..].iter().all(u8::is_ascii_digit) => &rest[..colon],
        _ => rest,
    };
    suffixes
        .iter()
        .any(|suffix| host.len() > suffix.len() && host.ends_with(suffix.as_bytes()))
}

/// The polycors policy of `case`, equivalent to the peers' configurations.
pub fn policy(case: &Case) -> Policy {
    let builder = Policy::builder()
        .allow_methods(METHODS)
        .allow_headers(HEADERS)
        .expose_headers([EXPOSE])
        .allow_credentials(true)
        .max_age(MAX_AGE);
    let builder = if case.big {
        builder
            .allow_origins(big_origins())
            .allow_origin_patterns(big_patterns())
    } else {
        builder.allow_origins(ORIGINS)
    };
    builder.build().expect("a valid policy")
}
