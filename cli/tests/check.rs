//! `polycors check`: exit codes, located findings in a WasmPlugin with several match rules,
//! the JSON report, and hostile input (a clear error, never a panic).

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

/// A file in a fresh temporary directory.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: impl AsRef<[u8]>) -> Self {
        let dir =
            std::env::temp_dir().join(format!("polycors-check-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("file written");
        Self(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn polycors(args: &[&str], files: &[&TempFile]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polycors"))
        .args(args)
        .args(files.iter().map(|f| &f.0))
        .output()
        .expect("polycors runs")
}

fn code(output: &Output) -> i32 {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "a panic: {stderr}");
    output.status.code().expect("an exit code")
}

fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

const WASM_PLUGIN: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: httpbin
---
apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata:
  name: wasm-cors-httpbin
  namespace: higress-system
spec:
  defaultConfigDisable: true
  matchRules:
    - config:
        allow_origins:
          - http://httpbin.example.net
        allow_methods: [GET, POST, PATCH]
      ingress:
        - ingress-cors-httpbin
    - configDisable: true
      ingress: [old-route]
      config: {allow_origins: [whatever]}
    - config:
        allow_origins: [https://ok.example, 'ftp//broken']
        allow_origin_patterns: ['https://*.tenant.example']
        max_age: 99999999999
      domain: ['*.example.com']
    - config:
        allow_origins: [https://c.example]
      service: ['httpbin.default.svc.cluster.local:eighty']
  url: oci://registry.example/polycors:0.1.0
";

#[test]
fn valid_files_exit_0() {
    let plain = TempFile::new(
        "plain.yaml",
        "allow_origins: [https://a.example]\nallow_methods: GET, POST\n",
    );
    let json = TempFile::new(
        "plugin.json",
        r#"{"_rules_":[{"_match_route_":["r"],"allow_origins":["https://a.example"]}]}"#,
    );
    let resource = TempFile::new(
        "resource.yaml",
        WASM_PLUGIN
            .replace("'ftp//broken'", "https://b.example")
            .replace("99999999999", "600")
            .replace(":eighty", ":80"),
    );
    let output = polycors(&["check"], &[&plain, &json, &resource]);
    assert_eq!(
        code(&output),
        0,
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("WasmPlugin \"wasm-cors-httpbin\": valid: no global policy, 3 rule(s)"),
        "{text}"
    );
    assert!(
        text.contains("3 file(s) checked: 0 error(s), 0 warning(s)"),
        "{text}"
    );
}

#[test]
fn wasm_plugin_with_several_rules_reports_each_error_where_it_is() {
    let resource = TempFile::new("resource.yaml", WASM_PLUGIN);
    let output = polycors(&["check", "--format", "json"], &[&resource]);
    assert_eq!(code(&output), 1);
    let report = report(&output);
    assert_eq!(report["valid"], false);
    assert_eq!(report["errors"], 3);
    let findings = report["files"][0]["findings"].as_array().expect("findings");
    let located: Vec<(String, String, Value, Value)> = findings
        .iter()
        .map(|f| {
            (
                f["severity"].as_str().unwrap_or_default().to_owned(),
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["line"].clone(),
                f["column"].clone(),
            )
        })
        .collect();
    let at = |s: &str, p: &str, line: u64, column: u64| {
        (
            s.to_owned(),
            p.to_owned(),
            Value::from(line),
            Value::from(column),
        )
    };
    assert_eq!(
        located,
        [
            at(
                "error",
                "spec.matchRules[2].config.allow_origins[1]",
                24,
                45
            ),
            at("error", "spec.matchRules[2].config.max_age", 26, 9),
            at("error", "spec.matchRules[3].service[0]", 30, 17),
            at("note", "kind", 2, 1),
            at("note", "spec.matchRules[1].configDisable", 20, 7),
        ],
        "{findings:#?}"
    );
    // The messages say what to fix.
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("\"ftp//broken\"")
    );
    // Text output: file:line:column: severity: path: message.
    let output = polycors(&["check"], &[&resource]);
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or_default();
    assert!(
        first.ends_with(".yaml:24:45: error: spec.matchRules[2].config.allow_origins[1]: \"ftp//broken\" is not an origin: an origin starts with a scheme, e.g. \"https://\""),
        "{text}"
    );
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let file = TempFile::new(
        "warn.yaml",
        "allow_origins: [https://a.example]\nallow_origin_patterns: ['https://*example.com']\n",
    );
    let output = polycors(&["check", "--format", "json"], &[&file]);
    assert_eq!(code(&output), 0);
    let report = report(&output);
    assert_eq!(
        (report["errors"].as_u64(), report["warnings"].as_u64()),
        (Some(0), Some(1))
    );
    let warning = &report["files"][0]["findings"][0];
    assert_eq!(warning["path"], "allow_origin_patterns[0]");
    assert_eq!(
        (warning["line"].as_u64(), warning["column"].as_u64()),
        (Some(2), Some(25))
    );
    let output = polycors(&["check", "--deny-warnings"], &[&file]);
    assert_eq!(code(&output), 1);
    assert!(String::from_utf8_lossy(&output.stdout).contains("(warnings denied)"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(code(&polycors(&["check"], &[])), 2, "no file");
    assert_eq!(code(&polycors(&["check", "--no-such-flag", "x"], &[])), 2);
    assert_eq!(
        code(&polycors(&["check", "/nonexistent/polycors.yaml"], &[])),
        2
    );
    assert_eq!(code(&polycors(&["frobnicate"], &[])), 2);
    let file = TempFile::new("ok.yaml", "{}");
    assert_eq!(
        code(&polycors(&["explain", "--config"], &[&file])),
        2,
        "explain without --method"
    );
    let output = polycors(
        &["explain", "--method", "GET", "-H", "no colon", "--config"],
        &[&file],
    );
    assert_eq!(code(&output), 2);
    assert!(String::from_utf8_lossy(&output.stderr).contains("expected `Name: value`"));
}

#[test]
fn explain_exit_codes() {
    let valid = TempFile::new("valid.yaml", "allow_origins: [https://a.example]\n");
    let rejected = polycors(
        &[
            "explain",
            "--method",
            "GET",
            "-H",
            "Origin: https://evil.example",
            "--format",
            "json",
            "--config",
        ],
        &[&valid],
    );
    assert_eq!(
        code(&rejected),
        0,
        "a rejection is an answer, not a failure"
    );
    let json = report(&rejected);
    assert_eq!(
        (
            json["policy"].as_str(),
            json["decision"].as_str(),
            json["reason"].as_str(),
            json["status"].as_u64()
        ),
        (
            Some("global"),
            Some("reject"),
            Some("origin-not-allowed"),
            Some(403)
        )
    );
    let invalid = TempFile::new("invalid.yaml", "allow_origins: [nope]\n");
    let output = polycors(&["explain", "--method", "GET", "--config"], &[&invalid]);
    assert_eq!(code(&output), 1);
    assert!(String::from_utf8_lossy(&output.stderr).contains("allow_origins[0]"));
    let several = TempFile::new(
        "several.yaml",
        WASM_PLUGIN.replace(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: httpbin\n",
            "allow_origins: [https://x.example]\n",
        ),
    );
    let output = polycors(&["explain", "--method", "GET", "--config"], &[&several]);
    assert_eq!(
        code(&output),
        2,
        "two CORS configurations and no --document"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("--document"));
}

#[test]
fn hostile_input_is_a_clear_error() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "huge.yaml",
            {
                let mut bytes = b"allow_origins:\n".to_vec();
                while bytes.len() <= 2 << 20 {
                    bytes.extend_from_slice(b"  - https://a.example\n");
                }
                bytes
            },
            "at most 1048576 are accepted",
        ),
        (
            "binary.yaml",
            (0..=255u8).cycle().take(4096).collect(),
            "not UTF-8",
        ),
        (
            "flow.yaml",
            format!("a: {}", "[".repeat(100_000)).into_bytes(),
            "nests lists or mappings deeper",
        ),
        (
            "flow.json",
            "[".repeat(100_000).into_bytes(),
            "recursion limit exceeded",
        ),
        (
            "block.yaml",
            (0..600)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>()
                .into_bytes(),
            "recursion limit",
        ),
        (
            "aliases.yaml",
            {
                let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
                for i in 1..12 {
                    let previous = format!("*a{}", i - 1);
                    text.push_str(&format!(
                        "a{i}: &a{i} [{}]\n",
                        vec![previous; 10].join(", ")
                    ));
                }
                text.into_bytes()
            },
            "not valid YAML or JSON",
        ),
        (
            "json.json",
            b"{\"allow_origins\": [\"https://a.example\"".to_vec(),
            "EOF while parsing",
        ),
    ];
    for (name, bytes, expected) in cases {
        let file = TempFile::new(name, bytes);
        let started = std::time::Instant::now();
        let output = polycors(&["check"], &[&file]);
        assert_eq!(
            code(&output),
            1,
            "{name}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains(expected),
            "{name}: expected {expected:?} in:\n{text}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{name} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn every_subcommand_has_help() {
    for (command, mentions) in [
        ("check", "--deny-warnings"),
        ("explain", "--authority"),
        ("serve", "--adapter"),
    ] {
        let output = polycors(&[command, "--help"], &[]);
        assert_eq!(code(&output), 0);
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(mentions), "{command} --help:\n{text}");
    }
}

#[test]
fn an_origin_predicate_is_an_error_in_a_wasm_plugin_and_a_note_in_a_policy() {
    let resource = TempFile::new(
        "resource.yaml",
        "\
apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata:
  name: cors
spec:
  matchRules:
    - ingress: [tenants]
      config:
        allow_origins: [https://a.example]
        allow_origin_predicate: true
",
    );
    let output = polycors(&["check", "--format", "json"], &[&resource]);
    assert_eq!(code(&output), 1);
    let finding = &report(&output)["files"][0]["findings"][0];
    assert_eq!(finding["severity"], "error");
    assert_eq!(
        finding["path"],
        "spec.matchRules[0].config.allow_origin_predicate"
    );
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(10), Some(9))
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap_or_default()
            .contains("list the origins in allow_origins"),
        "{finding}"
    );

    let policy = TempFile::new(
        "policy.yaml",
        "allow_origins: [https://a.example]\nallow_origin_predicate: true\n",
    );
    let output = polycors(&["check", "--format", "json"], &[&policy]);
    assert_eq!(code(&output), 0);
    let finding = &report(&output)["files"][0]["findings"][0];
    assert_eq!(
        (&finding["severity"], &finding["path"]),
        (&Value::from("note"), &Value::from("allow_origin_predicate"))
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap_or_default()
            .contains("polycors-tower and polycors-actix only"),
        "{finding}"
    );

    // serve runs no application code: it refuses the policy before it listens.
    let output = Command::new(env!("CARGO_BIN_EXE_polycors"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&policy.0)
        .output()
        .expect("polycors runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(code(&output), 0, "{stderr}");
    assert!(
        stderr.contains("allow_origin_predicate: needs an origin predicate"),
        "{stderr}"
    );
}
