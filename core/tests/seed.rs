//! Every configuration of the seed (`shared/seed/cors-plugin.md`) loads unchanged from YAML,
//! and the same objects load from JSON with the same result.

use polycors::{Config, Policy, ScopedPolicies};

const ALLOW_ALL: &str = "
allow_origins:
  - '*'
allow_methods:
  - '*'
allow_headers:
  - '*'
expose_headers:
  - '*'
allow_credentials: false
max_age: 7200
";

const ALLOW_ALL_WITH_CREDENTIALS: &str = "
allow_origin_patterns:
  - '*'
allow_methods:
  - '*'
allow_headers:
  - '*'
expose_headers:
  - '*'
allow_credentials: true
max_age: 7200
";

const SUBDOMAINS: &str = "
allow_origin_patterns:
  - http://*.example.com
  - http://*.example.org:[8080,9090]
allow_methods:
  - GET
  - PUT
  - POST
  - DELETE
allow_headers:
  - Token
  - Content-Type
  - Authorization
expose_headers:
  - '*'
allow_credentials: true
max_age: 7200
";

/// The `config:` block of the seed's test WasmPlugin.
const WASM_PLUGIN: &str = "
allow_origins:
  - http://httpbin.example.net
allow_origin_patterns:
  - http://*.example.com:[*]
  - http://*.example.org:[9090,8080]
allow_methods:
  - GET
  - POST
  - PATCH
allow_headers:
  - Content-Type
  - Token
  - Authorization
expose_headers:
  - X-Custom-Header
  - X-Env-UTM
allow_credentials: true
max_age: 3600
";

fn yaml_and_json(yaml: &str) -> (Config, Config) {
    let from_yaml = Config::from_yaml(yaml).unwrap_or_else(|e| panic!("{e}"));
    let value: serde_json::Value = serde_yaml::from_str(yaml).unwrap();
    let json = serde_json::to_vec(&value).unwrap();
    let from_json = Config::from_json(&json).unwrap_or_else(|e| panic!("{e}"));
    (from_yaml, from_json)
}

#[test]
fn seed_examples_load_from_yaml_and_json_identically() {
    for yaml in [
        ALLOW_ALL,
        ALLOW_ALL_WITH_CREDENTIALS,
        SUBDOMAINS,
        WASM_PLUGIN,
    ] {
        let (a, b) = yaml_and_json(yaml);
        assert_eq!(a, b);
        Policy::new(a).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn seed_wasm_plugin_config_loads_field_by_field() {
    let (config, _) = yaml_and_json(WASM_PLUGIN);
    assert_eq!(
        config.allow_origins.as_deref(),
        Some(&["http://httpbin.example.net".to_owned()][..])
    );
    assert_eq!(
        config.allow_origin_patterns,
        [
            "http://*.example.com:[*]",
            "http://*.example.org:[9090,8080]"
        ]
    );
    assert_eq!(config.allow_methods, ["GET", "POST", "PATCH"]);
    assert_eq!(
        config.allow_headers,
        ["Content-Type", "Token", "Authorization"]
    );
    assert_eq!(config.expose_headers, ["X-Custom-Header", "X-Env-UTM"]);
    assert!(config.allow_credentials);
    assert_eq!(config.max_age, Some(3600));
}

#[test]
fn seed_allow_all_is_a_wildcard_policy_warned_only_about_max_age() {
    let p = Policy::from_yaml(ALLOW_ALL).unwrap();
    assert!(p.is_wildcard());
    // Revision 2: 7200 is above WebKit's 600-second cap.
    assert_eq!(
        p.warnings(),
        [polycors::Warning::MaxAgeAboveBrowserCap { max_age: 7200 }]
    );
}

#[test]
fn seed_higress_rules_document_loads() {
    let json = br#"{"_rules_":[{"_match_route_":["ingress-cors-httpbin"],
        "allow_origins":["http://httpbin.example.net"],
        "allow_origin_patterns":["http://*.example.com:[*]","http://*.example.org:[9090,8080]"],
        "allow_methods":["GET","POST","PATCH"],
        "allow_headers":["Content-Type","Token","Authorization"],
        "expose_headers":["X-Custom-Header","X-Env-UTM"],
        "allow_credentials":true,"max_age":3600}]}"#;
    let scoped = ScopedPolicies::from_json(json).unwrap();
    assert!(scoped.global().is_none());
    let route = polycors::RouteInfo {
        route_name: Some(b"ingress-cors-httpbin"),
        ..Default::default()
    };
    let (expected, _) = yaml_and_json(WASM_PLUGIN);
    assert_eq!(scoped.select(&route).unwrap().config(), &expected);
}

#[test]
fn builder_matches_the_loaded_seed_config() {
    let built = Policy::builder()
        .allow_origins(["http://httpbin.example.net"])
        .allow_origin_patterns([
            "http://*.example.com:[*]",
            "http://*.example.org:[9090,8080]",
        ])
        .allow_methods(["GET", "POST", "PATCH"])
        .allow_headers(["Content-Type", "Token", "Authorization"])
        .expose_headers(["X-Custom-Header", "X-Env-UTM"])
        .allow_credentials(true)
        .max_age(3600)
        .build()
        .unwrap();
    assert_eq!(
        built.config(),
        Policy::from_yaml(WASM_PLUGIN).unwrap().config()
    );
}
