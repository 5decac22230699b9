//! `polycors explain`: what a configuration does to one request. The core selects the policy
//! and decides; this module describes the request to it and prints the answer.

use std::ffi::OsString;
use std::path::PathBuf;

use polycors::adapter::{HeaderList, header_text};
use polycors::decision::Action;
use polycors::document::{Document, DocumentKind, Severity};
use polycors::error::Location;
use polycors::{RequestView, RouteInfo, Scope, Verdict};
use serde_json::json;

use crate::{Format, Outcome, input};

/// Arguments of `polycors explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The configuration: a policy (YAML or JSON), the plugin's JSON or a WasmPlugin resource.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Which document of the file (1-based), when it holds several CORS configurations.
    #[arg(long, value_name = "N")]
    document: Option<usize>,
    /// The route name (Envoy's `route_name`; in Higress, the ingress), for `_rules_`.
    #[arg(long, value_name = "NAME")]
    route: Option<String>,
    /// The upstream cluster (`outbound|PORT||FQDN` in Istio and Higress), for `_match_service_`.
    #[arg(long, value_name = "NAME")]
    cluster: Option<String>,
    /// The request's authority (default: its `Host` header).
    #[arg(long, value_name = "HOST")]
    authority: Option<String>,
    /// The scheme the client used (for same-origin detection).
    #[arg(long, value_enum, default_value_t = Scheme::Http)]
    scheme: Scheme,
    /// The request method, exactly as sent (methods are case-sensitive).
    #[arg(long, value_name = "METHOD")]
    method: String,
    /// A request header, `Name: value`; repeat for several (and for repeated lines).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<OsString>,
    /// `text` (default) or `json` (one object on stdout).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// The request's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Scheme {
    Http,
    Https,
}

/// Runs `polycors explain`.
pub fn run(args: &ExplainArgs) -> Outcome {
    match explain(args) {
        Ok(outcome) => outcome,
        Err(message) => {
            eprintln!("error: {message}");
            Outcome::Usage
        }
    }
}

/// `Err` is a usage error.
fn explain(args: &ExplainArgs) -> Result<Outcome, String> {
    let headers = args
        .headers
        .iter()
        .map(parse_header)
        .collect::<Result<Vec<_>, _>>()?;
    let file = input::read(&args.config)?;
    let documents = match file.documents {
        Ok(documents) => documents,
        Err(invalid) => {
            for error in invalid.errors() {
                eprintln!("{}: error: {}", args.config.display(), error.kind());
            }
            return Ok(Outcome::Invalid);
        }
    };
    let document = pick_document(&documents, args.document, &args.config)?;
    let checked = document.check();
    let Some(policies) = checked.policies else {
        for finding in checked
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
        {
            eprintln!(
                "{}: error: {}: {}",
                args.config.display(),
                finding.path,
                finding.message
            );
        }
        return Ok(Outcome::Invalid);
    };

    let authority = args.authority.clone().or_else(|| {
        headers
            .iter()
            .rev()
            .find(|(name, _)| name.eq_ignore_ascii_case("host"))
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
    });
    let route = RouteInfo {
        route_name: args.route.as_deref().map(str::as_bytes),
        authority: authority.as_deref().map(str::as_bytes),
        cluster_name: args.cluster.as_deref().map(str::as_bytes),
    };
    let selected = policies.select_scoped(&route);
    let because = policies.selection_reason(&route);
    let scope_name = selected.map(|(scope, _)| scope.to_string());
    let scope_in_file = selected.and_then(|(scope, _)| match (scope, document.kind()) {
        (Scope::Rule(rule), DocumentKind::WasmPlugin { .. }) => Some(
            document
                .path_of(&Location {
                    rule: Some(rule),
                    ..Location::default()
                })
                .to_string(),
        ),
        _ => None,
    });

    let mut view = RequestView::new(args.method.as_bytes());
    view.set_scheme(match args.scheme {
        Scheme::Http => b"http",
        Scheme::Https => b"https",
    });
    if let Some(authority) = &authority {
        view.set_authority(authority.as_bytes());
    }
    for (name, value) in &headers {
        view.add_header(name.as_bytes(), value);
    }

    let explanation = match selected {
        None => Explanation {
            // No policy applies: the core's classification, as any policy makes it.
            class: classify(polycors::Policy::default().evaluate(&view).verdict(), &view),
            decision: "forward",
            reason: None,
            reason_detail: None,
            status: None,
            body: None,
            headers: Vec::new(),
            predicate_asked: false,
        },
        Some((_, policy)) => {
            // No application code runs here: a predicate the policy needs is shown refusing.
            let predicate_asked = std::cell::Cell::new(false);
            let decision = policy.evaluate_with(&view, |_| {
                predicate_asked.set(true);
                false
            });
            let verdict = decision.verdict();
            let mut written = HeaderList::default();
            decision.write_headers(&mut written.for_response(policy, decision.origin()));
            let (status, body) = match decision.action() {
                Action::Answer(answer) => {
                    (Some(answer.status.code()), Some(answer.body.into_owned()))
                }
                Action::Forward(_) => (None, None),
            };
            Explanation {
                class: classify(verdict, &view),
                // A disallowed request is forwarded (without CORS headers).
                decision: match verdict.name() {
                    "disallowed" => "forward",
                    name => name,
                },
                reason: verdict.reason().map(|r| r.code()),
                reason_detail: decision.rejection().map(|r| r.to_string()),
                status,
                body,
                headers: written
                    .0
                    .iter()
                    .map(|(n, v)| (header_text(n).into_owned(), header_text(v).into_owned()))
                    .collect(),
                predicate_asked: predicate_asked.get(),
            }
        }
    };

    match args.format {
        Format::Json => println!(
            "{}",
            json!({
                "policy": scope_name,
                "policy_in_file": scope_in_file,
                "selected_because": because,
                "classification": explanation.class,
                "decision": explanation.decision,
                "reason": explanation.reason,
                "reason_detail": explanation.reason_detail,
                "status": explanation.status,
                "body": explanation.body,
                "headers": explanation.headers.iter().map(|(n, v)| [n, v]).collect::<Vec<_>>(),
                "origin_predicate_asked": explanation.predicate_asked,
            })
        ),
        Format::Text => {
            let policy = match (&scope_name, &scope_in_file) {
                (Some(scope), Some(in_file)) => format!("{scope} ({in_file})"),
                (Some(scope), None) => scope.clone(),
                (None, _) => "none".to_owned(),
            };
            println!("policy:    {policy}: {because}");
            println!("request:   {}", explanation.class);
            let decision = match (explanation.decision, explanation.status) {
                ("forward", _) if scope_name.is_none() => {
                    "forward: the request and its response pass untouched".to_owned()
                }
                ("forward", _) => "forward: a disallowed actual request, passed to the \
                                   upstream; its response gets no CORS headers, so the \
                                   browser keeps it from the page"
                    .to_owned(),
                (decision, Some(_)) => format!("{decision}: answered by the policy"),
                (decision, None) => format!("{decision}: forwarded to the upstream"),
            };
            println!("decision:  {decision}");
            if let (Some(code), Some(detail)) = (explanation.reason, &explanation.reason_detail) {
                println!("reason:    {code}: {detail}");
            }
            if explanation.predicate_asked {
                println!(
                    "note:      the application's origin predicate decides this origin \
                     (allow_origin_predicate); shown as if it refused"
                );
            }
            match explanation.status {
                Some(status) => {
                    println!("status:    {status}");
                    println!("headers (sent by every adapter: tower, actix-web, proxy-wasm):");
                }
                None => println!(
                    "headers added to the upstream's response (by every adapter: tower, actix-web, proxy-wasm):"
                ),
            }
            for (name, value) in &explanation.headers {
                println!("  {name}: {value}");
            }
            if explanation.headers.is_empty() {
                println!("  (none)");
            }
            if let Some(body) = explanation.body.filter(|b| !b.is_empty()) {
                println!("body:      {body}");
            }
        }
    }
    Ok(Outcome::Success)
}

/// What `explain` found, before printing.
struct Explanation {
    class: &'static str,
    decision: &'static str,
    reason: Option<&'static str>,
    reason_detail: Option<String>,
    status: Option<u16>,
    body: Option<String>,
    headers: Vec<(String, String)>,
    /// Whether the policy would ask the application's origin predicate.
    predicate_asked: bool,
}

/// `not CORS`, `preflight` or `actual` (the request's kind, whatever the decision).
fn classify(verdict: Verdict, view: &RequestView<'_>) -> &'static str {
    match verdict {
        Verdict::NotCors => "not CORS",
        _ if view.is_preflight_shaped() => "preflight",
        _ => "actual",
    }
}

/// The CORS configuration to explain with: the only one in the file, or `--document N`.
fn pick_document<'d>(
    documents: &'d [Document],
    chosen: Option<usize>,
    file: &std::path::Path,
) -> Result<&'d Document, String> {
    let cors: Vec<usize> = documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_cors_configuration())
        .map(|(i, _)| i + 1)
        .collect();
    match (chosen, &cors[..]) {
        (None, [only]) => Ok(&documents[only - 1]),
        (None, []) => Err(format!(
            "{}: no CORS configuration in this file",
            file.display()
        )),
        (None, several) => Err(format!(
            "{} holds {} CORS configurations (documents {}); pick one with --document N",
            file.display(),
            several.len(),
            several
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
        (Some(n), _) if cors.contains(&n) => Ok(&documents[n - 1]),
        (Some(n), _) => Err(format!(
            "--document {n}: {} has no CORS configuration there (documents with one: {:?})",
            file.display(),
            cors
        )),
    }
}

/// `Name: value` as a header line (the value without surrounding whitespace).
fn parse_header(line: &OsString) -> Result<(String, Vec<u8>), String> {
    let bytes = os_bytes(line);
    let Some(colon) = bytes.iter().position(|&b| b == b':') else {
        return Err(format!(
            "--header {:?}: expected `Name: value`",
            line.to_string_lossy()
        ));
    };
    let name = std::str::from_utf8(&bytes[..colon])
        .ok()
        .filter(|n| !n.is_empty() && n.bytes().all(is_token_byte))
        .ok_or_else(|| {
            format!(
                "--header {:?}: the name is not a header name",
                line.to_string_lossy()
            )
        })?;
    let value = bytes[colon + 1..].trim_ascii().to_vec();
    Ok((name.to_ascii_lowercase(), value))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A command-line argument's bytes: exactly as given on Unix (header values may be any
/// bytes), as UTF-8 elsewhere.
#[cfg(unix)]
fn os_bytes(text: &OsString) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    text.as_bytes().to_vec()
}

#[cfg(not(unix))]
fn os_bytes(text: &OsString) -> Vec<u8> {
    text.to_string_lossy().as_bytes().to_vec()
}
