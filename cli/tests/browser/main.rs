//! Real browsers check every adapter: headless Chromium (through ChromeDriver) and WebKitGTK
//! (MiniBrowser on a private Xvfb display) load a runner page from `http://localhost:P1`, which
//! calls `polycors serve` instances on other `localhost` ports (same site, cross-origin) with
//! `fetch()`, form posts, redirects and frames from a second origin, and reports what the page
//! saw. A blocked fetch counts only with the browser's own CORS error (Chromium's DevTools
//! `corsErrorStatus`, WebKit's console security message); the servers' request logs say what
//! reached them, and how often.
//!
//! Needs Debian's `chromium`, `chromium-driver`, `webkit2gtk-driver` (for WebKitGTK and its
//! MiniBrowser) and `xvfb` (`cargo xtask test` installs them when it can), and the built plugin
//! for the proxy-wasm and Envoy runs. Writes `docs/browser-compat.md`.

#[path = "../common/mod.rs"]
mod common;

mod apis;
mod engines;
mod pages;
mod scenarios;
mod support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::apis::Api;
use crate::engines::{Chromium, Engine, WebKit};
use crate::pages::PageServer;
use crate::scenarios::{Observed, Setup, configs, scenarios};
use crate::support::scratch_dir;

const ADAPTERS: [&str; 5] = ["tower", "actix", "proxy-wasm", "envoy", "envoy-module"];

/// One scenario's verdicts: per engine, per adapter (in `ADAPTERS` order).
type Row = (&'static str, Vec<Vec<Result<String, String>>>);

/// Each scenario's verdict per engine and adapter.
struct Table {
    engines: Vec<String>,
    rows: Vec<Row>,
}

#[test]
fn browsers_allow_and_block_what_the_behaviour_says_on_every_adapter() {
    let page = PageServer::start();
    let page2 = PageServer::start();
    let dir = scratch_dir("configs");
    let mut engines: Vec<(&'static str, Box<dyn Engine>)> = vec![
        ("chromium", Box::new(Chromium::start())),
        ("webkit", Box::new(WebKit::start())),
    ];
    let mut table = Table {
        engines: Vec::new(),
        rows: Vec::new(),
    };
    let mut failures = Vec::new();
    let mut run = 0;
    for (column, adapter) in ADAPTERS.iter().enumerate() {
        let mut apis: BTreeMap<&'static str, Api> = configs(&page.origin, &page2.origin)
            .into_iter()
            .map(|(name, config)| (name, Api::start(adapter, &config, &dir, name)))
            .collect();
        if let Some(stopped) = apis.get_mut("stopped") {
            stopped.stop();
        }
        for (engine_index, (engine_name, engine)) in engines.iter_mut().enumerate() {
            let setup = Setup {
                engine: engine_name,
                page2: &page2,
                apis: &apis,
            };
            let scenarios = scenarios(&setup);
            run += 1;
            let steps: Vec<Value> = scenarios.iter().flat_map(|s| s.steps.clone()).collect();
            page.set_plan(run, &json!({"run": run, "steps": steps}));
            let outcome = engine.run(&page, run);
            for (row, scenario) in scenarios.iter().enumerate() {
                let verdict = match &outcome {
                    Ok(observed) => (scenario.check)(&Observed {
                        engine: engine_name,
                        run: observed,
                        apis: &apis,
                    }),
                    Err(error) => Err(error.clone()),
                };
                if let Err(why) = &verdict {
                    failures.push(format!(
                        "{} / {adapter}: {}: {why}",
                        engine.title(),
                        scenario.name
                    ));
                }
                if column == 0 && engine_index == 0 {
                    table.rows.push((scenario.name, Vec::new()));
                }
                let cells = &mut table.rows[row].1;
                if cells.len() <= engine_index {
                    cells.push(Vec::new());
                }
                cells[engine_index].push(verdict);
            }
        }
    }
    table.engines = engines.iter().map(|(_, e)| e.title().to_owned()).collect();
    write_report(&table);
    assert!(
        failures.is_empty(),
        "the browsers disagree with docs/behaviour.md:\n{}",
        failures.join("\n")
    );
}

/// Ports change from run to run; the report shows `localhost:P`.
fn without_ports(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("localhost:") {
        out.push_str(&rest[..at + "localhost:".len()]);
        rest = rest[at + "localhost:".len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push('P');
    }
    out.push_str(rest);
    out
}

fn cell(verdicts: &[Result<String, String>]) -> String {
    let failed: Vec<&str> = verdicts
        .iter()
        .zip(ADAPTERS)
        .filter(|(v, _)| v.is_err())
        .map(|(_, adapter)| adapter)
        .collect();
    if !failed.is_empty() {
        return format!("FAIL on {}", failed.join(", "));
    }
    let notes: Vec<String> = verdicts
        .iter()
        .filter_map(|v| v.as_ref().ok())
        .map(|note| without_ports(note))
        .collect();
    match notes.first() {
        Some(note) if !note.is_empty() && notes.iter().all(|n| n == note) => {
            format!("pass ×{}: `{note}`", verdicts.len())
        }
        Some(note) if !note.is_empty() => {
            format!("pass ×{}: `{}`", verdicts.len(), notes.join("`, `"))
        }
        _ => format!("pass ×{}", verdicts.len()),
    }
}

fn write_report(table: &Table) {
    let mut text = format!(
        "# Browser compatibility\n\n\
         Produced by `cargo xtask e2e` (`cli/tests/browser/`): each engine loads a runner page \
         from `http://localhost:P1` that calls `polycors serve` on other `localhost` ports (same \
         site, cross-origin) behind each adapter ({}). A pass means the browser allowed or \
         blocked exactly as docs/behaviour.md says, a block came with the browser's own CORS \
         error (quoted: Chromium's DevTools `corsError`, WebKit's console message), and the \
         servers' logs show exactly the requests that should reach them. `×5`: on all five \
         adapters. The last row is the suite's self-check: a stopped server must read as a \
         network failure, never as a CORS block. WebKit runs as MiniBrowser driven by the page \
         itself rather than through WebKitWebDriver, whose automation views never report \
         console messages (the only place WebKitGTK names a CORS error).\n\n| scenario | {} |\n|---|{}\n",
        ADAPTERS.join(", "),
        table.engines.join(" | "),
        "---|".repeat(table.engines.len())
    );
    for (scenario, engines) in &table.rows {
        let cells: Vec<String> = engines.iter().map(|verdicts| cell(verdicts)).collect();
        text.push_str(&format!("| {scenario} | {} |\n", cells.join(" | ")));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/browser-compat.md");
    std::fs::write(&path, text).expect("docs/browser-compat.md is writable");
}
