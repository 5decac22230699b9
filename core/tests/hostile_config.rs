//! Hostile configurations: every one is rejected with a message that names the field, the item
//! and what to fix, and documents built to exhaust the parser are refused by construction (size
//! cap before parsing, bounded nesting), not by luck.

use polycors::error::ConfigErrorKind;
use polycors::{InvalidConfig, Policy};

fn rejected(yaml: &str) -> InvalidConfig {
    match Policy::from_yaml(yaml) {
        Ok(_) => panic!("accepted: {yaml}"),
        Err(invalid) => invalid,
    }
}

/// Asserts one error at `location` whose message contains every `hint`.
fn assert_error(yaml: &str, location: &str, hints: &[&str]) {
    let invalid = rejected(yaml);
    let error = invalid
        .errors()
        .iter()
        .find(|e| e.location().to_string() == location)
        .unwrap_or_else(|| panic!("no error at {location} for {yaml:?}: {invalid}"));
    let message = error.to_string();
    assert!(message.starts_with(location), "{message}");
    for hint in hints {
        assert!(
            message.to_lowercase().contains(&hint.to_lowercase()),
            "{yaml:?}: {message:?} lacks {hint:?}"
        );
    }
}

#[test]
fn non_origin_strings_are_rejected_with_the_fix() {
    assert_error(
        "allow_origins: [example.com]",
        "allow_origins[0]",
        &["scheme"],
    );
    assert_error(
        "allow_origins: ['http://a.test', 'ftp:/x']",
        "allow_origins[1]",
        &["not an origin"],
    );
    assert_error("allow_origins: ['http://']", "allow_origins[0]", &["host"]);
}

#[test]
fn paths_queries_and_userinfo_are_rejected() {
    assert_error(
        "allow_origins: ['http://a.test/app']",
        "allow_origins[0]",
        &["path", "remove"],
    );
    assert_error(
        "allow_origins: ['http://a.test?x=1']",
        "allow_origins[0]",
        &["query"],
    );
    assert_error(
        "allow_origins: ['http://user:pw@a.test']",
        "allow_origins[0]",
        &["user"],
    );
    assert_error(
        "allow_origin_patterns: ['http://*.a.test/app']",
        "allow_origin_patterns[0]",
        &["path"],
    );
}

#[test]
fn bad_ports_are_rejected() {
    assert_error(
        "allow_origins: ['http://a.test:99999']",
        "allow_origins[0]",
        &["port"],
    );
    assert_error(
        "allow_origins: ['http://a.test:8o']",
        "allow_origins[0]",
        &["port"],
    );
    assert_error(
        "allow_origin_patterns: ['http://*.a.test:70000']",
        "allow_origin_patterns[0]",
        &["port"],
    );
}

#[test]
fn malformed_port_lists_are_rejected() {
    for (pattern, hint) in [
        ("http://*.a.test:[80", "["),
        ("http://*.a.test:[8a]", "port"),
        ("http://*.a.test:[70000]", "port"),
        ("http://*.a.test:[]", "port"),
        ("http://*.a.test:[80,,90]", "port"),
    ] {
        assert_error(
            &format!("allow_origin_patterns: ['http://ok.test', '{pattern}']"),
            "allow_origin_patterns[1]",
            &[hint],
        );
    }
}

#[test]
fn wildcards_in_exact_origins_point_to_patterns() {
    assert_error(
        "allow_origins: ['http://*.a.test']",
        "allow_origins[0]",
        &["allow_origin_patterns"],
    );
    assert_error(
        "allow_origins: ['http://a.test:*']",
        "allow_origins[0]",
        &["allow_origin_patterns"],
    );
}

#[test]
fn invalid_method_tokens_are_rejected() {
    assert_error(
        "allow_methods: [GET, 'PO ST']",
        "allow_methods[1]",
        &["method"],
    );
    assert_error("allow_methods: ['G(T']", "allow_methods[0]", &["method"]);
}

#[test]
fn invalid_header_names_are_rejected() {
    assert_error(
        "allow_headers: ['X Token']",
        "allow_headers[0]",
        &["header"],
    );
    assert_error(
        "expose_headers: [X-A, 'x:y']",
        "expose_headers[1]",
        &["header"],
    );
}

#[test]
fn negative_huge_and_fractional_max_age_are_rejected() {
    assert_error("max_age: -1", "max_age", &["negative", "0"]);
    assert_error("max_age: 99999999999", "max_age", &["2147483647"]);
    assert_error("max_age: 1.5", "max_age", &["whole"]);
    assert_error("max_age: '1.5'", "max_age", &["whole"]);
    assert_error("max_age: '-5'", "max_age", &["max_age"]);
}

#[test]
fn wrong_types_are_rejected_for_every_field() {
    for (field, value) in [
        ("allow_origins", "5"),
        ("allow_origin_patterns", "{a: 1}"),
        ("allow_methods", "true"),
        ("allow_headers", "1.5"),
        ("expose_headers", "{}"),
        ("allow_credentials", "yes please"),
        ("allow_credentials", "[true]"),
        ("allow_private_network", "3"),
        ("max_age", "[1]"),
        ("debug", "maybe"),
    ] {
        let invalid = rejected(&format!("{field}: {value}"));
        let message = invalid.to_string();
        assert!(message.starts_with(field), "{field}: {value}: {message}");
        assert!(message.contains("expected"), "{field}: {value}: {message}");
    }
    // Items of a list have a type too.
    assert_error(
        "allow_origins: ['http://a.test', 7]",
        "allow_origins[1]",
        &["string"],
    );
}

#[test]
fn unknown_keys_are_rejected_with_a_suggestion() {
    assert_error(
        "allow_origin: ['*']",
        "allow_origin",
        &["did you mean `allow_origins`"],
    );
    assert_error("maxage: 5", "maxage", &["did you mean `max_age`"]);
    assert_error(
        "allowCredentials: true",
        "allowCredentials",
        &["did you mean `allow_credentials`"],
    );
}

#[test]
fn deeply_nested_documents_are_syntax_errors_not_stack_overflows() {
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let invalid = Policy::from_json(deep_json.as_bytes()).unwrap_err();
    assert!(
        matches!(invalid.errors()[0].kind(), ConfigErrorKind::Syntax { .. }),
        "{invalid}"
    );
    let deep_yaml = format!(
        "allow_origins: {}{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let invalid = rejected(&deep_yaml);
    assert!(
        matches!(invalid.errors()[0].kind(), ConfigErrorKind::Syntax { .. }),
        "{invalid}"
    );
    assert!(invalid.to_string().contains("deeper than 64"), "{invalid}");
    // Brackets in comments and quoted strings are not nesting.
    let brackets = "[".repeat(100);
    let fine = format!(
        "# {brackets}\nallow_origins: ['http://a.test'] # {brackets}\nallow_headers: [\"x-{brackets}\"]"
    );
    let err = Policy::from_yaml(&fine).unwrap_err().to_string();
    assert!(
        err.contains("allow_headers[0]") && !err.contains("deeper"),
        "{err}"
    );
}

#[test]
fn huge_documents_are_refused_before_parsing() {
    let huge = format!("allow_origins: [{}]", "'http://a.test',".repeat(100_000));
    let invalid = rejected(&huge);
    assert!(
        matches!(invalid.errors()[0].kind(), ConfigErrorKind::TooLarge { .. }),
        "{invalid}"
    );
    let invalid = Policy::from_json(huge.as_bytes()).unwrap_err();
    assert!(
        matches!(invalid.errors()[0].kind(), ConfigErrorKind::TooLarge { .. }),
        "{invalid}"
    );
}

#[test]
fn alias_bombs_are_refused() {
    // "Billion laughs": a few hundred bytes that expand to 10^9 items if aliases are followed
    // without a limit.
    let mut yaml = String::from("a: &a ['x','x','x','x','x','x','x','x','x','x']\n");
    for (i, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].iter().enumerate() {
        let previous = if i == 0 {
            "a".to_owned()
        } else {
            ["b", "c", "d", "e", "f", "g", "h"][i - 1].to_owned()
        };
        yaml.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{previous}"); 10].join(",")
        ));
    }
    yaml.push_str("allow_origins: *i\n");
    let invalid = rejected(&yaml);
    let message = invalid.to_string();
    assert!(!message.is_empty());
}

#[test]
fn an_unquoted_yaml_null_explains_quoting() {
    assert_error(
        "allow_origins: [null]",
        "allow_origins[0]",
        &["quote values such as 'null'", "found null"],
    );
}
