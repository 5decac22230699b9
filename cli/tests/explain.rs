//! `polycors explain` against the conformance suite: for every request the policy answers
//! itself, the status, reason and headers `explain` prints equal the case's snapshot.

use std::process::Command;

use polycors_conformance::{load_cases, normalise_headers, snapshot_outcomes};
use serde_json::Value;

fn explain(args: &[std::ffi::OsString]) -> (i32, Value, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_polycors"))
        .arg("explain")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("polycors runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), json, stderr)
}

#[test]
fn explain_matches_every_local_answer_in_the_conformance_snapshots() {
    let dir = std::env::temp_dir().join(format!("polycors-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut compared = 0;
    let mut failures = Vec::new();
    for case in load_cases() {
        let config = dir.join(format!("{}.json", case.name));
        std::fs::write(&config, case.plugin_json()).expect("config written");
        let snapshots = snapshot_outcomes(&case);
        assert_eq!(
            snapshots.len(),
            case.requests.len(),
            "{}: snapshot length",
            case.name
        );
        for (request, expected) in case.requests.iter().zip(&snapshots) {
            if expected["answered_by"].as_str() != Some("policy") {
                continue;
            }
            let mut args: Vec<std::ffi::OsString> = vec![
                "--config".into(),
                config.clone().into(),
                "--method".into(),
                request.method.clone().into(),
                "--authority".into(),
                request.authority.clone().into(),
            ];
            if let Some(route) = &request.route_name {
                args.extend(["--route".into(), route.into()]);
            }
            if let Some(cluster) = &request.cluster_name {
                args.extend(["--cluster".into(), cluster.into()]);
            }
            for line in &request.headers {
                let (name, value) = line.pair();
                let mut header = format!("{name}: ").into_bytes();
                header.extend_from_slice(&value);
                args.extend(["--header".into(), os_string(header)]);
            }
            let (code, json, stderr) = explain(&args);
            let name = format!("{}: {}", case.name, request.name);
            if code != 0 {
                failures.push(format!("{name}: exit {code}: {stderr}"));
                continue;
            }
            compared += 1;
            let headers: Vec<(Vec<u8>, Vec<u8>)> = json["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .map(|pair| {
                    let field = |i: usize| pair[i].as_str().expect("text").as_bytes().to_vec();
                    (field(0), field(1))
                })
                .collect();
            let got_headers: Vec<String> =
                normalise_headers(headers.iter().map(|(n, v)| (&n[..], &v[..])))
                    .into_iter()
                    .map(|(n, v)| format!("{n}: {v}"))
                    .collect();
            let want_headers: Vec<String> = expected["headers"]
                .as_sequence()
                .map(|s| {
                    s.iter()
                        .filter_map(|h| h.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let got = (
                json["status"].as_u64(),
                json["reason"].as_str(),
                got_headers,
            );
            let want = (
                expected["status"].as_u64(),
                expected["reason"].as_str(),
                want_headers,
            );
            if got != want {
                failures.push(format!(
                    "{name}:\n  explain:  {got:?}\n  snapshot: {want:?}"
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every case file has local answers; a number far below this means requests were skipped.
    assert!(compared >= 100, "only {compared} local answers compared");
    println!("{compared} local answers compared");
}

#[cfg(unix)]
fn os_string(bytes: Vec<u8>) -> std::ffi::OsString {
    use std::os::unix::ffi::OsStringExt;
    std::ffi::OsString::from_vec(bytes)
}

#[test]
fn explain_says_when_the_applications_origin_predicate_decides() {
    let dir = std::env::temp_dir().join(format!("polycors-explain-p-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("policy.yaml");
    std::fs::write(
        &config,
        "allow_origins: [https://a.test]\nallow_origin_predicate: true\n",
    )
    .expect("config written");
    let run = |origin: &str| {
        explain(&[
            "--config".into(),
            config.clone().into(),
            "--method".into(),
            "GET".into(),
            "--header".into(),
            format!("Origin: {origin}").into(),
        ])
    };
    let (code, unlisted, stderr) = run("https://tenant.test");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        (&unlisted["origin_predicate_asked"], &unlisted["reason"]),
        (&Value::Bool(true), &Value::from("origin-not-allowed"))
    );
    let (_, listed, _) = run("https://a.test");
    assert_eq!(listed["origin_predicate_asked"], Value::Bool(false));
    assert_eq!(listed["decision"], "actual");
    let _ = std::fs::remove_dir_all(&dir);
}
