//! The scenarios: what the page does (steps for the runner) and what must follow, in the
//! browser's verdict and in the servers' logs. Every URL a scenario uses is unique to the
//! engine (`/anything/<engine>/...`), so that the servers' counts are exact even though both
//! engines call the same servers.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::apis::Api;
use crate::engines::EngineRun;
use crate::pages::PageServer;

/// The configurations, by API name. `{page}` and `{page2}` are the pages' origins.
pub fn configs(page: &str, page2: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "main",
            format!(
                "allow_origins: ['{page}', '{page2}']\nallow_methods: [GET, PUT, POST]\n\
                 allow_headers: [X-Custom, Content-Type]\nexpose_headers: [X-Exposed]\nmax_age: 600\n"
            ),
        ),
        (
            "credentials",
            "allow_origin_patterns: ['http://localhost:[*]']\nallow_credentials: true\n\
             allow_methods: ['*']\nallow_headers: ['*']\nexpose_headers: ['*']\n"
                .to_owned(),
        ),
        (
            "star-credentials",
            "allow_origins: ['*']\nallow_credentials: true\n".to_owned(),
        ),
        (
            "expose-star",
            format!("allow_origins: ['{page}']\nexpose_headers: ['*']\n"),
        ),
        ("no-credentials", format!("allow_origins: ['{page}']\n")),
        (
            "no-cache",
            format!(
                "allow_origins: ['{page}']\nallow_methods: [PUT]\nallow_headers: [X-Custom]\nmax_age: 0\n"
            ),
        ),
        (
            "other-origin",
            "allow_origins: ['http://other.example']\n".to_owned(),
        ),
        (
            "forward",
            "allow_origins: ['http://other.example']\nforward_disallowed_requests: true\n"
                .to_owned(),
        ),
        ("null-origin", "allow_origins: ['null']\n".to_owned()),
        // Stopped before the run: the self-check's target.
        ("stopped", format!("allow_origins: ['{page}']\n")),
    ]
}

/// What a scenario needs to build its steps.
pub struct Setup<'a> {
    pub engine: &'static str,
    pub page2: &'a PageServer,
    pub apis: &'a BTreeMap<&'static str, Api>,
}

impl Setup<'_> {
    fn base(&self, api: &str) -> &str {
        &self.apis[api].base
    }
}

/// What a run showed: the page's report, the browser's CORS errors and the servers' logs.
pub struct Observed<'a> {
    pub engine: &'static str,
    pub run: &'a EngineRun,
    pub apis: &'a BTreeMap<&'static str, Api>,
}

/// A fetch as the page saw it (shown with `Debug` in failure messages).
#[derive(Debug)]
#[allow(dead_code)]
enum Fetched {
    /// The page could read the response.
    Read {
        status: u64,
        headers: Value,
        body: String,
    },
    /// The browser blocked it, and said why (its own CORS error).
    Blocked(String),
    /// `fetch()` failed without any CORS error: the network, not CORS.
    Failed(String),
    /// The step did not run as planned.
    Broken(String),
}

impl Observed<'_> {
    fn step(&self, id: &str) -> &Value {
        &self.run.report[id]
    }

    fn fetched(&self, id: &str, url: &str) -> Fetched {
        self.fetched_via(id, &[url])
    }

    /// A fetch whose CORS error the browser may report on any of `urls` (a redirect's hops).
    fn fetched_via(&self, id: &str, urls: &[&str]) -> Fetched {
        let result = self.step(id);
        if result["ok"] == true {
            return Fetched::Read {
                status: result["status"].as_u64().unwrap_or(0),
                headers: result["headers"].clone(),
                body: result["body"].as_str().unwrap_or_default().to_owned(),
            };
        }
        let cors = urls.iter().find_map(|url| self.run.cors.get(*url));
        match (result["thrown"].as_str(), cors) {
            (Some(thrown), Some(kind)) if thrown.starts_with("TypeError") => {
                Fetched::Blocked(kind.clone())
            }
            (Some(thrown), None) => Fetched::Failed(thrown.to_owned()),
            _ => Fetched::Broken(result.to_string()),
        }
    }

    fn api(&self, name: &str) -> &Api {
        &self.apis[name]
    }

    /// `Ok` when API `name` logged exactly `expected` requests per method on `target`.
    fn saw(&self, name: &str, target: &str, expected: &[(&str, usize)]) -> Result<(), String> {
        let api = self.api(name);
        let seen: Vec<(&str, usize)> = expected
            .iter()
            .map(|&(method, count)| (method, api.count(method, target, count)))
            .collect();
        expect(seen == expected, || {
            let seen: Vec<String> = seen.iter().map(|(m, n)| format!("{n} {m}")).collect();
            format!("server {name} saw {}", seen.join(", "))
        })
    }
}

/// The CORS failures the scenarios expect, each as the engines name it.
#[derive(Debug, Clone, Copy)]
enum Block {
    /// No `Access-Control-Allow-Origin` on the actual response (with its status).
    MissingAllowOrigin(u16),
    /// The preflight was answered 403 (without CORS headers).
    PreflightRejected,
    /// `Access-Control-Allow-Origin: *` on a credentialed request.
    WildcardWithCredentials,
    /// No `Access-Control-Allow-Credentials: true` on a credentialed request.
    MissingAllowCredentials,
}

impl Block {
    /// Whether `kind` (the engine's own words) is this failure.
    fn is(self, engine: &str, kind: &str) -> bool {
        match (engine, self) {
            ("chromium", Self::MissingAllowOrigin(_)) => kind == "MissingAllowOriginHeader",
            ("chromium", Self::PreflightRejected) => kind == "PreflightMissingAllowOriginHeader",
            ("chromium", Self::WildcardWithCredentials) => kind == "WildcardOriginNotAllowed",
            ("chromium", Self::MissingAllowCredentials) => kind == "InvalidAllowCredentials",
            (_, Self::MissingAllowOrigin(status)) => kind.ends_with(&format!(
                "is not allowed by Access-Control-Allow-Origin. Status code: {status}"
            )),
            (_, Self::PreflightRejected) => {
                kind == "Preflight response is not successful. Status code: 403"
            }
            (_, Self::WildcardWithCredentials) => {
                kind == "Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true."
            }
            (_, Self::MissingAllowCredentials) => {
                kind == "Credentials flag is true, but Access-Control-Allow-Credentials is not \"true\"."
            }
        }
    }
}

/// A check's verdict: `Ok(note)` (the note goes in the report table, e.g. the browser's CORS
/// error), or `Err(what went wrong)`.
type Verdict = Result<String, String>;

pub struct Scenario {
    pub name: &'static str,
    pub steps: Vec<Value>,
    pub check: Box<dyn Fn(&Observed<'_>) -> Verdict>,
}

fn fetch(id: &str, url: &str, init: Value, read: &[&str]) -> Value {
    json!({"id": id, "kind": "fetch", "url": url, "init": init, "read": read})
}

/// `Ok` when `fetched` is a block of kind `block`; `Err` says what happened instead.
fn blocked(engine: &str, fetched: &Fetched, block: Block) -> Verdict {
    match fetched {
        Fetched::Blocked(kind) if block.is(engine, kind) => Ok(kind.clone()),
        other => Err(format!("expected a CORS block ({block:?}), got {other:?}")),
    }
}

/// `Ok` with the headers read and the body when the page read a 200.
fn read_ok(fetched: Fetched) -> Result<(Value, String), String> {
    match fetched {
        Fetched::Read {
            status: 200,
            headers,
            body,
        } => Ok((headers, body)),
        other => Err(format!("expected the page to read a 200, got {other:?}")),
    }
}

fn expect(condition: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(what()) }
}

/// A fetch (`init` on API `main` at `base`) whose preflight the API answers 403: one preflight,
/// and the request itself never sent.
fn refused_at_preflight(
    name: &'static str,
    base: &str,
    target: String,
    init: Value,
    method: &'static str,
) -> Scenario {
    let url = format!("{base}{target}");
    // The step's id: the target's last segment, unique within a run.
    let id = target.rsplit('/').next().unwrap_or_default().to_owned();
    Scenario {
        name,
        steps: vec![fetch(&id, &url, init, &[])],
        check: Box::new(move |o| {
            let kind = blocked(o.engine, &o.fetched(&id, &url), Block::PreflightRejected)?;
            o.saw("main", &target, &[("OPTIONS", 1), (method, 0)])?;
            Ok(kind)
        }),
    }
}

/// Every scenario, in report order.
pub fn scenarios(setup: &Setup<'_>) -> Vec<Scenario> {
    let engine = setup.engine;
    let path = |name: &str| format!("/anything/{engine}/{name}");
    let main = setup.base("main").to_owned();
    let credentials = setup.base("credentials").to_owned();
    let mut all = Vec::new();

    // -- allowed requests ----------------------------------------------------------------------
    let target = format!("/response-headers?X-Exposed=yes&X-Unexposed=no&t={engine}-simple");
    let url = format!("{main}{target}");
    all.push(Scenario {
        name: "allowed simple GET; an exposed header readable, an unexposed one not",
        steps: vec![fetch(
            "simple",
            &url,
            json!({}),
            &["x-exposed", "x-unexposed"],
        )],
        check: Box::new(move |o| {
            let (headers, _) = read_ok(o.fetched("simple", &url))?;
            expect(
                headers["x-exposed"] == "yes" && headers["x-unexposed"].is_null(),
                || format!("headers read: {headers}"),
            )?;
            let gets = o.api("main").count("GET", &target, 1);
            expect(gets == 1, || format!("server saw {gets} GET"))?;
            Ok(String::new())
        }),
    });

    let target = path("put");
    let url = format!("{main}{target}");
    all.push(Scenario {
        name: "allowed preflighted PUT with custom headers: exactly one preflight",
        steps: vec![fetch(
            "put",
            &url,
            json!({"method": "PUT", "headers": {"X-Custom": "1", "Content-Type": "application/json"}, "body": "{}"}),
            &[],
        )],
        check: Box::new(move |o| {
            read_ok(o.fetched("put", &url))?;
            o.saw("main", &target, &[("OPTIONS", 1), ("PUT", 1)])?;
            Ok(String::new())
        }),
    });

    // -- blocked requests ----------------------------------------------------------------------
    let other = setup.base("other-origin").to_owned();
    let target = path("other");
    let url = format!("{other}{target}");
    all.push(Scenario {
        name: "disallowed origin: blocked, after the server answered 403",
        steps: vec![fetch("other", &url, json!({}), &[])],
        check: Box::new(move |o| {
            let kind = blocked(
                o.engine,
                &o.fetched("other", &url),
                Block::MissingAllowOrigin(403),
            )?;
            let line = o.api("other-origin").line("GET", &target);
            expect(
                line.contains("-> reject: origin-not-allowed [global] -> 403"),
                || format!("server logged {line:?}"),
            )?;
            Ok(kind)
        }),
    });

    all.push(refused_at_preflight(
        "disallowed method: blocked at the preflight (exactly one), no DELETE sent",
        &main,
        path("delete"),
        json!({"method": "DELETE"}),
        "DELETE",
    ));
    all.push(refused_at_preflight(
        "disallowed request header: blocked at the preflight (exactly one), no GET sent",
        &main,
        path("header"),
        json!({"headers": {"X-Forbidden": "1"}}),
        "GET",
    ));

    // -- credentials ---------------------------------------------------------------------------
    let target = path("authorization");
    let url = format!("{credentials}{target}");
    all.push(Scenario {
        name: "allow_headers * covers Authorization on a credentialed request",
        steps: vec![fetch(
            "authorization",
            &url,
            json!({"credentials": "include", "headers": {"Authorization": "Bearer t"}}),
            &[],
        )],
        check: Box::new(move |o| {
            let (_, body) = read_ok(o.fetched("authorization", &url))?;
            expect(body.contains("Bearer t"), || {
                format!("the echo lacks the header: {body}")
            })?;
            Ok(String::new())
        }),
    });

    let target = path("delete-credentialed");
    let url = format!("{credentials}{target}");
    all.push(Scenario {
        name: "allow_methods * with credentials: a credentialed DELETE works (the method is echoed)",
        steps: vec![fetch(
            "delete-credentialed",
            &url,
            json!({"method": "DELETE", "credentials": "include"}),
            &[],
        )],
        check: Box::new(move |o| {
            read_ok(o.fetched("delete-credentialed", &url))?;
            o.saw("credentials", &target, &[("OPTIONS", 1), ("DELETE", 1)])?;
            Ok(String::new())
        }),
    });

    let star = setup.base("star-credentials").to_owned();
    let (with_url, without_url) = (
        format!("{star}{}", path("star-with")),
        format!("{star}{}", path("star-without")),
    );
    all.push(Scenario {
        name: "allow_origins * with credentials: the credentialed read is blocked, the uncredentialed one works",
        steps: vec![
            fetch("star-with", &with_url, json!({"credentials": "include"}), &[]),
            fetch("star-without", &without_url, json!({}), &[]),
        ],
        check: Box::new(move |o| {
            let kind = blocked(
                o.engine,
                &o.fetched("star-with", &with_url),
                Block::WildcardWithCredentials,
            )?;
            read_ok(o.fetched("star-without", &without_url))?;
            Ok(kind)
        }),
    });

    let expose = setup.base("expose-star").to_owned();
    let read = ["x-exposed", "x-other", "set-cookie", "content-type"];
    let cookie = format!("Set-Cookie=expose_{engine}%3D1%3B%20Path%3D%2F");
    let url = format!("{expose}/response-headers?X-Exposed=1&X-Other=2&{cookie}&t={engine}-expose");
    all.push(Scenario {
        name: "expose_headers * without credentials: every header readable, Set-Cookie never",
        steps: vec![fetch("expose", &url, json!({}), &read)],
        check: Box::new(move |o| {
            let (headers, _) = read_ok(o.fetched("expose", &url))?;
            expect(
                headers["x-exposed"] == "1"
                    && headers["x-other"] == "2"
                    && headers["set-cookie"].is_null(),
                || format!("headers read: {headers}"),
            )?;
            Ok(String::new())
        }),
    });

    let url = format!(
        "{credentials}/response-headers?X-Exposed=1&X-Other=2&{cookie}&t={engine}-expose-credentialed"
    );
    all.push(Scenario {
        name: "expose_headers * with credentials: the response's own header names readable, Set-Cookie never",
        steps: vec![fetch(
            "expose-credentialed",
            &url,
            json!({"credentials": "include"}),
            &read,
        )],
        check: Box::new(move |o| {
            let (headers, _) = read_ok(o.fetched("expose-credentialed", &url))?;
            expect(
                headers["x-exposed"] == "1"
                    && headers["x-other"] == "2"
                    && headers["set-cookie"].is_null(),
                || format!("headers read: {headers}"),
            )?;
            Ok(String::new())
        }),
    });

    let cookie = format!("polycors_{engine}=session{}", std::process::id());
    let set_url = format!(
        "{credentials}/response-headers?Set-Cookie={}%3B%20Path%3D%2F%3B%20SameSite%3DLax&t={engine}-cookie",
        cookie.replace('=', "%3D")
    );
    let echo_url = format!("{credentials}{}", path("cookie"));
    let no_credentials_url = format!("{}{}", setup.base("no-credentials"), path("cookie"));
    all.push(Scenario {
        name: "real cookies: a cookie the API sets comes back on credentialed requests; without allow_credentials they are blocked",
        steps: vec![
            fetch("cookie-set", &set_url, json!({"credentials": "include"}), &[]),
            fetch("cookie-echo", &echo_url, json!({"credentials": "include"}), &[]),
            fetch("cookie-refused", &no_credentials_url, json!({"credentials": "include"}), &[]),
        ],
        check: Box::new(move |o| {
            read_ok(o.fetched("cookie-set", &set_url))?;
            let (_, body) = read_ok(o.fetched("cookie-echo", &echo_url))?;
            expect(body.contains(&cookie), || {
                format!("the API did not get the cookie {cookie}: {body}")
            })?;
            blocked(
                o.engine,
                &o.fetched("cookie-refused", &no_credentials_url),
                Block::MissingAllowCredentials,
            )
        }),
    });

    // -- preflight cache -----------------------------------------------------------------------
    let init = json!({"method": "PUT", "headers": {"X-Custom": "1"}});
    let target = path("twice");
    let (uncached, cached) = (
        format!("{}{target}", setup.base("no-cache")),
        format!("{main}{target}"),
    );
    all.push(Scenario {
        name: "max_age 0: a preflight every time; max_age 600: one preflight for two requests",
        steps: vec![
            fetch("uncached-1", &uncached, init.clone(), &[]),
            fetch("uncached-2", &uncached, init.clone(), &[]),
            fetch("cached-1", &cached, init.clone(), &[]),
            fetch("cached-2", &cached, init, &[]),
        ],
        check: Box::new(move |o| {
            for (id, url) in [
                ("uncached-1", &uncached),
                ("uncached-2", &uncached),
                ("cached-1", &cached),
                ("cached-2", &cached),
            ] {
                read_ok(o.fetched(id, url)).map_err(|e| format!("{id}: {e}"))?;
            }
            let without = o.api("no-cache").count("OPTIONS", &target, 2);
            let with = o.api("main").count("OPTIONS", &target, 1);
            expect(without == 2 && with == 1, || {
                format!("preflights: {without} with max_age 0, {with} with max_age 600")
            })?;
            Ok(String::new())
        }),
    });

    // -- redirects -----------------------------------------------------------------------------
    let null_target = path("after-redirect");
    let to_null = format!("{}{null_target}", setup.base("null-origin"));
    let redirect = format!("{main}/redirect-to?url={}&t={engine}", encode(&to_null));
    all.push(Scenario {
        name: "a cross-origin redirect sends Origin: null to the next hop, which allows null",
        steps: vec![fetch("redirect-null", &redirect, json!({}), &[])],
        check: Box::new(move |o| {
            read_ok(o.fetched("redirect-null", &redirect))?;
            let line = o.api("null-origin").line("GET", &null_target);
            expect(
                line.contains("origin=null -> actual [global] -> 200"),
                || format!("next hop logged {line:?}"),
            )?;
            Ok(String::new())
        }),
    });

    let other_target = path("after-redirect");
    let to_other = format!("{other}{other_target}");
    let redirect = format!(
        "{main}/redirect-to?url={}&t={engine}-other",
        encode(&to_other)
    );
    all.push(Scenario {
        name: "a cross-origin redirect to a next hop that does not allow null is blocked",
        steps: vec![fetch("redirect-other", &redirect, json!({}), &[])],
        check: Box::new(move |o| {
            // Chromium reports the block on the URL the page fetched, WebKit on the last hop.
            let kind = blocked(
                o.engine,
                &o.fetched_via("redirect-other", &[&redirect, &to_other]),
                Block::MissingAllowOrigin(403),
            )?;
            let line = o.api("other-origin").line("GET", &other_target);
            expect(
                line.contains("origin=null -> reject: origin-not-allowed [global] -> 403"),
                || format!("next hop logged {line:?}"),
            )?;
            Ok(kind)
        }),
    });

    // -- form posts ----------------------------------------------------------------------------
    let target = path("null-form");
    let html = format!(
        "<!doctype html><meta name=referrer content=no-referrer><form method=post action={target}>\
         <input name=a value=1></form>\
         <script>onload = () => setTimeout(() => document.forms[0].submit(), 0)</script>"
    );
    let frame = format!("{main}/base64/{}", base64url(html.as_bytes()));
    all.push(Scenario {
        name: "same-origin form post under no-referrer (Origin: null) reaches the application",
        steps: vec![json!({"id": "null-form", "kind": "frame", "url": frame, "loads": 2})],
        check: Box::new(move |o| {
            expect(o.step("null-form")["loaded"] == 2, || {
                format!("the frame: {}", o.step("null-form"))
            })?;
            // Both engines send `Origin: null` here, with `Sec-Fetch-Site: same-origin`.
            let line = o.api("main").line("POST", &target);
            expect(
                line.contains("origin=null -> not-cors [global] -> 200"),
                || format!("server logged {line:?}"),
            )?;
            Ok("Origin: null".to_owned())
        }),
    });

    let target = path("form");
    let rejected = format!("{other}{target}");
    let forwarded = format!("{}{target}", setup.base("forward"));
    all.push(Scenario {
        name: "cross-origin form post: 403 by default, reaches the application with forward_disallowed_requests",
        steps: vec![
            json!({"id": "form-rejected", "kind": "form", "action": rejected}),
            json!({"id": "form-forwarded", "kind": "form", "action": forwarded}),
        ],
        check: Box::new(move |o| {
            let rejected = o.api("other-origin").line("POST", &target);
            let forwarded = o.api("forward").line("POST", &target);
            expect(
                rejected.contains("-> reject: origin-not-allowed [global] -> 403")
                    && forwarded.ends_with("-> disallowed: origin-not-allowed [global] -> 200"),
                || format!("servers logged {rejected:?} and {forwarded:?}"),
            )?;
            Ok(String::new())
        }),
    });

    let target = path("forwarded");
    let url = format!("{}{target}", setup.base("forward"));
    all.push(Scenario {
        name: "forward_disallowed_requests: a disallowed fetch reaches the application, the browser blocks the read",
        steps: vec![fetch("forwarded", &url, json!({}), &[])],
        check: Box::new(move |o| {
            let kind = blocked(o.engine, &o.fetched("forwarded", &url), Block::MissingAllowOrigin(200))?;
            let line = o.api("forward").line("GET", &target);
            expect(line.ends_with("-> disallowed: origin-not-allowed [global] -> 200"), || {
                format!("server logged {line:?}")
            })?;
            Ok(kind)
        }),
    });

    // -- Vary and the HTTP cache ---------------------------------------------------------------
    let target = format!("/response-headers?Cache-Control=max-age%3D600&t={engine}-vary");
    let url = format!("{main}{target}");
    let frame = setup.page2.frame_url();
    all.push(Scenario {
        name: "Vary: Origin: two origins fetching one cacheable URL in turn each get their own answer",
        steps: vec![
            fetch("vary-1", &url, json!({}), &[]),
            fetch("vary-2", &url, json!({}), &[]),
            json!({"id": "vary-3", "kind": "frame-fetch", "frame": frame, "url": url, "init": {}, "read": []}),
        ],
        check: Box::new(move |o| {
            for id in ["vary-1", "vary-2", "vary-3"] {
                read_ok(o.fetched(id, &url)).map_err(|e| format!("{id}: {e}"))?;
            }
            // The page's second fetch came from the cache; the other origin's did not.
            let gets = o.api("main").count("GET", &target, 2);
            expect(gets == 2, || format!("server saw {gets} GET for 3 fetches"))?;
            Ok(String::new())
        }),
    });

    // -- the self-check ------------------------------------------------------------------------
    let url = format!("{}{}", setup.base("stopped"), path("stopped"));
    all.push(Scenario {
        name: "self-check: a stopped server is a network failure, never taken for a CORS block",
        steps: vec![fetch("stopped", &url, json!({}), &[])],
        check: Box::new(move |o| {
            let fetched = o.fetched("stopped", &url);
            // The check every blocked scenario uses must refuse this one.
            if let Ok(kind) = blocked(o.engine, &fetched, Block::MissingAllowOrigin(403)) {
                return Err(format!("a stopped server passed as a CORS block: {kind}"));
            }
            match fetched {
                Fetched::Failed(thrown) => Ok(thrown),
                other => Err(format!("expected a network failure, got {other:?}")),
            }
        }),
    });

    all
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let mut bits = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            bits |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((bits >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}
