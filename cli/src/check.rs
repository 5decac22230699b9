//! `polycors check FILE...`: every error and warning of each file, located. The findings come
//! from the core ([`polycors::document`]); this module adds line and column and prints them.

use std::path::PathBuf;

use polycors::document::{DocumentKind, Severity};
use polycors::error::ConfigErrorKind;
use serde_json::{Value, json};

use crate::locate::Positions;
use crate::{Format, Outcome, input};

/// Arguments of `polycors check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Configuration files: policies (YAML or JSON) or Higress WasmPlugin resources.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// `text` (default) or `json` (one report on stdout).
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// One finding, placed in its file.
struct Located {
    severity: Severity,
    /// The document's index in the file, when the file could be split into documents.
    document: Option<usize>,
    path: Option<String>,
    position: Option<(usize, usize)>,
    message: String,
}

/// One document's summary.
struct DocumentSummary {
    index: usize,
    kind: &'static str,
    name: Option<String>,
    /// `None` for documents that are not CORS configurations.
    valid: Option<bool>,
    global_policy: bool,
    rules: usize,
}

/// A file's report.
struct FileReport {
    file: String,
    documents: Vec<DocumentSummary>,
    findings: Vec<Located>,
}

/// Runs `polycors check`.
pub fn run(args: &CheckArgs) -> Outcome {
    let mut unreadable = false;
    let mut reports = Vec::new();
    for path in &args.files {
        match input::read(path) {
            Ok(file) => reports.push(check_file(path.display().to_string(), file)),
            Err(message) => {
                eprintln!("error: {message}");
                unreadable = true;
            }
        }
    }
    let count = |severity| {
        reports
            .iter()
            .flat_map(|r| &r.findings)
            .filter(|f| f.severity == severity)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    let valid = errors == 0 && (warnings == 0 || !args.deny_warnings);
    match args.format {
        Format::Text => print_text(&reports, errors, warnings, args.deny_warnings),
        Format::Json => println!(
            "{}",
            json!({
                "valid": valid && !unreadable,
                "errors": errors,
                "warnings": warnings,
                "files": reports.iter().map(file_json).collect::<Vec<_>>(),
            })
        ),
    }
    if unreadable {
        Outcome::Usage
    } else if valid {
        Outcome::Success
    } else {
        Outcome::Invalid
    }
}

fn check_file(file: String, input: input::ConfigFile) -> FileReport {
    let documents = match input.documents {
        Ok(documents) => documents,
        Err(invalid) => {
            let findings = invalid
                .errors()
                .iter()
                .map(|error| Located {
                    severity: Severity::Error,
                    document: None,
                    path: None,
                    position: match error.kind() {
                        ConfigErrorKind::Syntax { position, .. } => *position,
                        _ => None,
                    },
                    message: error.kind().to_string(),
                })
                .collect();
            return FileReport {
                file,
                documents: Vec::new(),
                findings,
            };
        }
    };
    let positions = Positions::of(&input.bytes);
    let mut findings = Vec::new();
    let mut summaries = Vec::new();
    for (index, document) in documents.iter().enumerate() {
        let checked = document.check();
        let valid = !checked
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error);
        let (kind, name) = match document.kind() {
            DocumentKind::Policy => ("policy", None),
            DocumentKind::WasmPlugin { name } => ("WasmPlugin", name.clone()),
            DocumentKind::Other { .. } => ("other", None),
        };
        let cors = document.is_cors_configuration();
        summaries.push(DocumentSummary {
            index,
            kind,
            name,
            valid: cors.then_some(valid),
            global_policy: checked
                .policies
                .as_ref()
                .is_some_and(|p| p.global().is_some()),
            rules: checked.policies.as_ref().map_or(0, |p| p.rule_count()),
        });
        findings.extend(checked.findings.into_iter().map(|finding| {
            Located {
                severity: finding.severity,
                document: Some(index),
                position: finding
                    .position
                    .or_else(|| positions.find(index, &finding.path)),
                path: Some(finding.path.to_string()),
                message: finding.message,
            }
        }));
    }
    if !summaries.iter().any(|s| s.valid.is_some()) {
        findings.push(Located {
            severity: Severity::Error,
            document: None,
            path: None,
            position: None,
            message: "no CORS configuration in this file: every document is another kind of \
                      resource"
                .into(),
        });
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    FileReport {
        file,
        documents: summaries,
        findings,
    }
}

fn print_text(reports: &[FileReport], errors: usize, warnings: usize, deny_warnings: bool) {
    for report in reports {
        let several = report.documents.len() > 1;
        for finding in &report.findings {
            let mut place = report.file.clone();
            if let Some((line, column)) = finding.position {
                place.push_str(&format!(":{line}:{column}"));
            } else if let (true, Some(document)) = (several, finding.document) {
                place.push_str(&format!(" (document {})", document + 1));
            }
            let path = finding
                .path
                .as_ref()
                .map(|p| format!("{p}: "))
                .unwrap_or_default();
            println!(
                "{place}: {}: {path}{}",
                finding.severity.as_str(),
                finding.message
            );
        }
        for document in &report.documents {
            let Some(valid) = document.valid else {
                continue;
            };
            let what = match &document.name {
                Some(name) => format!("{} {name:?}", document.kind),
                None => document.kind.to_owned(),
            };
            let which = if several {
                format!("document {}, ", document.index + 1)
            } else {
                String::new()
            };
            let state = if valid {
                let global = if document.global_policy {
                    "a global policy"
                } else {
                    "no global policy"
                };
                format!("valid: {global}, {} rule(s)", document.rules)
            } else {
                "invalid".to_owned()
            };
            println!("{}: {which}{what}: {state}", report.file);
        }
    }
    let failing = if deny_warnings && warnings > 0 {
        " (warnings denied)"
    } else {
        ""
    };
    println!(
        "{} file(s) checked: {errors} error(s), {warnings} warning(s){failing}",
        reports.len()
    );
}

fn file_json(report: &FileReport) -> Value {
    json!({
        "file": report.file,
        "documents": report.documents.iter().map(|d| json!({
            "index": d.index,
            "kind": d.kind,
            "name": d.name,
            "valid": d.valid,
            "global_policy": d.global_policy,
            "rules": d.rules,
        })).collect::<Vec<_>>(),
        "findings": report.findings.iter().map(|f| json!({
            "severity": f.severity.as_str(),
            "document": f.document,
            "path": f.path,
            "line": f.position.map(|p| p.0),
            "column": f.position.map(|p| p.1),
            "message": f.message,
        })).collect::<Vec<_>>(),
    })
}
