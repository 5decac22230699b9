//! Configuration files as users keep them: a plain policy (YAML or JSON; with `_rules_`, the
//! JSON Higress hands the plugin) or Higress `WasmPlugin` resources, several YAML documents
//! per file. [`Document::check`] finds every error and warning and names each by its path in
//! the file's own terms (`spec.matchRules[0].config.allow_origins[2]`).

use std::fmt;

use serde_json::{Map, Value};

use crate::config::{self, type_name};
use crate::error::{ConfigError, ConfigErrorKind, InvalidConfig, Location};
use crate::rules::ScopedPolicies;

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index (or an item of a comma-separated string).
    Index(usize),
}

/// Where a value is in a document: keys and list indexes from the document's root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<Segment>);

impl FieldPath {
    /// The steps from the document's root.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    fn key(mut self, key: &str) -> Self {
        self.0.push(Segment::Key(key.to_owned()));
        self
    }

    fn index(mut self, index: usize) -> Self {
        self.0.push(Segment::Index(index));
        self
    }

    /// Appends a [`Location`]'s field (dotted for nested fields) and item index.
    fn field(mut self, location: &Location) -> Self {
        for key in location.field.split('.').filter(|k| !k.is_empty()) {
            self = self.key(key);
        }
        match location.index {
            Some(index) => self.index(index),
            None => self,
        }
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// What a document is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentKind {
    /// A policy, or a plugin configuration with `_rules_`.
    Policy,
    /// A Higress `WasmPlugin` resource, with its `metadata.name`.
    WasmPlugin {
        /// `metadata.name`, when present.
        name: Option<String>,
    },
    /// Another Kubernetes resource (`kind` set, not `WasmPlugin`): not a CORS configuration.
    Other {
        /// Its `kind`.
        kind: String,
    },
}

/// How serious a [`Finding`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something worth knowing that changes nothing (a skipped document or rule).
    Note,
    /// The configuration loads but probably does not do what was meant.
    Warning,
    /// The configuration does not load.
    Error,
}

impl Severity {
    /// `error`, `warning` or `note`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Note => "note",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// One error, warning or note about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious it is.
    pub severity: Severity,
    /// Where it is, in the file's terms.
    pub path: FieldPath,
    /// 1-based line and column, when the parser gave them (syntax errors).
    pub position: Option<(usize, usize)>,
    /// What is wrong and what to do.
    pub message: String,
}

/// The result of [`Document::check`].
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every error, warning and note, errors first.
    pub findings: Vec<Finding>,
    /// The loaded policies, when the document is a valid CORS configuration.
    pub policies: Option<ScopedPolicies>,
}

/// One document of a configuration file.
#[derive(Debug, Clone)]
pub struct Document {
    kind: DocumentKind,
    value: Value,
}

/// Loads every document of a configuration file: JSON (one document) or YAML (one or more,
/// separated by `---`). Fails on what keeps any document from being read: size, encoding,
/// syntax, nesting. An empty file is one empty document (the default policy).
pub fn load_documents(bytes: &[u8]) -> Result<Vec<Document>, InvalidConfig> {
    if bytes.len() > crate::limits::MAX_CONFIG_BYTES {
        return Err(ConfigError::new(
            Location::default(),
            ConfigErrorKind::TooLarge { size: bytes.len() },
        )
        .into());
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let values = if matches!(first, Some(b'{' | b'[')) {
        vec![config::parse_json(bytes)?]
    } else {
        parse_yaml_documents(bytes)?
    };
    let mut documents: Vec<Document> = values.into_iter().map(Document::new).collect();
    if documents.is_empty() {
        documents.push(Document::new(Value::Null));
    }
    Ok(documents)
}

#[cfg(feature = "yaml")]
fn parse_yaml_documents(bytes: &[u8]) -> Result<Vec<Value>, InvalidConfig> {
    use serde::Deserialize;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&valid[line_start..])
            .chars()
            .count()
            + 1;
        config::syntax(
            format!(
                "not UTF-8 text: byte {} is not part of a UTF-8 character",
                e.valid_up_to()
            ),
            Some((line, column)),
        )
    })?;
    config::check_yaml_text(text)?;
    serde_yaml::Deserializer::from_str(text)
        .map(|document| Value::deserialize(document).map_err(|e| config::yaml_syntax(&e)))
        .collect()
}

#[cfg(not(feature = "yaml"))]
fn parse_yaml_documents(bytes: &[u8]) -> Result<Vec<Value>, InvalidConfig> {
    Ok(vec![config::parse_json(bytes)?])
}

impl Document {
    fn new(value: Value) -> Self {
        let kind = match value.get("kind").and_then(Value::as_str) {
            Some("WasmPlugin") => DocumentKind::WasmPlugin {
                name: value
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
            Some(kind) if value.get("apiVersion").is_some() => DocumentKind::Other {
                kind: kind.to_owned(),
            },
            _ => DocumentKind::Policy,
        };
        Self { kind, value }
    }

    /// What the document is.
    pub fn kind(&self) -> &DocumentKind {
        &self.kind
    }

    /// Whether the document is a CORS configuration (a policy or a `WasmPlugin`), rather than
    /// another Kubernetes resource.
    pub fn is_cors_configuration(&self) -> bool {
        !matches!(self.kind, DocumentKind::Other { .. })
    }

    /// Loads the document and reports every error and warning (and, for `WasmPlugin`
    /// resources, the rules Higress leaves out). Nothing is loaded from an `Other` document.
    pub fn check(&self) -> Checked {
        self.check_for(false)
    }

    /// [`check`](Self::check) as a host that runs no application code loads the document
    /// (the proxy-wasm plugin, the Envoy module, `polycors serve`): a policy that needs an
    /// origin predicate is an error, as it always is in a `WasmPlugin`.
    pub fn check_for_gateway(&self) -> Checked {
        self.check_for(true)
    }

    fn check_for(&self, gateway: bool) -> Checked {
        match &self.kind {
            DocumentKind::Other { kind } => Checked {
                findings: vec![Finding {
                    severity: Severity::Note,
                    path: FieldPath::default().key("kind"),
                    position: None,
                    message: format!("a {kind}, not a CORS configuration: skipped"),
                }],
                policies: None,
            },
            DocumentKind::Policy => {
                check_plugin_config(&self.value, Vec::new(), gateway, plugin_config_path)
            }
            DocumentKind::WasmPlugin { .. } => match WasmPluginTranslation::of(&self.value) {
                Err(findings) => Checked {
                    findings,
                    policies: None,
                },
                Ok(translation) => {
                    let sources = translation.rule_sources.clone();
                    check_plugin_config(
                        &translation.plugin_config,
                        translation.notes,
                        true,
                        |location| wasm_plugin_path(location, &sources),
                    )
                }
            },
        }
    }

    /// Where a core [`Location`] (of this document's plugin configuration) is in the file:
    /// `_rules_[1]` of a `WasmPlugin` is `spec.matchRules[N]`.
    pub fn path_of(&self, location: &Location) -> FieldPath {
        match &self.kind {
            DocumentKind::WasmPlugin { .. } => {
                let sources = WasmPluginTranslation::of(&self.value)
                    .map(|t| t.rule_sources)
                    .unwrap_or_default();
                wasm_plugin_path(location, &sources)
            }
            _ => plugin_config_path(location),
        }
    }

    /// The JSON the proxy-wasm plugin receives for this document (for a `WasmPlugin`, what
    /// Higress hands the plugin), or `None` when the document is not a CORS configuration or
    /// its resource structure is invalid.
    pub fn plugin_config(&self) -> Option<Value> {
        match &self.kind {
            DocumentKind::Policy => Some(self.value.clone()),
            DocumentKind::WasmPlugin { .. } => WasmPluginTranslation::of(&self.value)
                .ok()
                .map(|t| t.plugin_config),
            DocumentKind::Other { .. } => None,
        }
    }
}

/// Loads a plugin configuration and turns its errors and warnings into findings, `path`
/// placing each core [`Location`] in the file; `findings` (the translation's notes and
/// warnings) follow them. A `gateway` configuration (a `WasmPlugin`) cannot have an origin
/// predicate; elsewhere, a policy that needs one gets a note saying where it can run.
fn check_plugin_config(
    value: &Value,
    mut findings: Vec<Finding>,
    gateway: bool,
    path: impl Fn(&Location) -> FieldPath,
) -> Checked {
    let loaded = ScopedPolicies::from_value(value);
    let loaded = if gateway {
        loaded.and_then(ScopedPolicies::refuse_origin_predicates)
    } else {
        loaded
    };
    match loaded {
        Err(invalid) => {
            let errors = invalid.errors().iter().map(|error| Finding {
                severity: Severity::Error,
                path: path(error.location()),
                position: match error.kind() {
                    ConfigErrorKind::Syntax { position, .. } => *position,
                    _ => None,
                },
                message: error.kind().to_string(),
            });
            let mut all: Vec<Finding> = errors.collect();
            all.append(&mut findings);
            Checked {
                findings: all,
                policies: None,
            }
        }
        Ok(policies) => {
            let warnings: Vec<Finding> = policies
                .warnings()
                .map(|(rule, warning)| {
                    let mut location = warning.location();
                    location.rule = rule;
                    Finding {
                        severity: Severity::Warning,
                        path: path(&location),
                        position: None,
                        message: warning.detail().to_string(),
                    }
                })
                .collect();
            let notes = policies.origin_predicate_errors().into_iter().map(|error| Finding {
                severity: Severity::Note,
                path: path(error.location()),
                position: None,
                message: "runs with polycors-tower and polycors-actix only: the application gives their layer its origin predicate in code; the proxy-wasm plugin, the Envoy module and `polycors serve` refuse it".to_owned(),
            });
            let mut all = warnings;
            all.extend(notes);
            all.append(&mut findings);
            Checked {
                findings: all,
                policies: Some(policies),
            }
        }
    }
}

/// A location in a plugin configuration (`_rules_[1].allow_origins[0]`).
fn plugin_config_path(location: &Location) -> FieldPath {
    let path = match location.rule {
        Some(rule) => FieldPath::default().key("_rules_").index(rule),
        None => FieldPath::default(),
    };
    path.field(location)
}

/// A location of the translated plugin configuration, in the `WasmPlugin` resource:
/// `spec.defaultConfig.<field>` for the global policy, `spec.matchRules[N].config.<field>`
/// for a rule (its match lists under `ingress`, `domain`, `service`).
fn wasm_plugin_path(location: &Location, rule_sources: &[usize]) -> FieldPath {
    let spec = FieldPath::default().key("spec");
    let Some(rule) = location.rule else {
        return spec.key("defaultConfig").field(location);
    };
    let Some(&source) = rule_sources.get(rule) else {
        return spec.key("matchRules");
    };
    let rule_path = spec.key("matchRules").index(source);
    let resource_key = MATCH_KEYS
        .iter()
        .find(|(_, plugin_key)| *plugin_key == location.field)
        .map(|(resource_key, _)| *resource_key);
    match resource_key {
        Some(key) => {
            let path = rule_path.key(key);
            match location.index {
                Some(index) => path.index(index),
                None => path,
            }
        }
        None if location.field.is_empty() => rule_path,
        None => rule_path.key("config").field(location),
    }
}

/// A `matchRules` item's match lists and the `_rules_` keys Higress turns them into.
const MATCH_KEYS: [(&str, &str); 3] = [
    ("ingress", "_match_route_"),
    ("domain", "_match_domain_"),
    ("service", "_match_service_"),
];

/// A `WasmPlugin` resource turned into the plugin configuration Higress hands the plugin.
struct WasmPluginTranslation {
    plugin_config: Value,
    /// For each `_rules_` entry, the `spec.matchRules` index it comes from.
    rule_sources: Vec<usize>,
    notes: Vec<Finding>,
}

impl WasmPluginTranslation {
    /// `spec.defaultConfig` becomes the global policy unless `spec.defaultConfigDisable`;
    /// each `spec.matchRules[]` item becomes a `_rules_` entry (its `config` fields, plus
    /// `_match_route_` from `ingress`, `_match_domain_` from `domain`, `_match_service_` from
    /// `service`); an item with `configDisable: true` is left out.
    fn of(resource: &Value) -> Result<Self, Vec<Finding>> {
        let spec_path = FieldPath::default().key("spec");
        let mut errors = Vec::new();
        let mut error = |path: FieldPath, message: String| {
            errors.push(Finding {
                severity: Severity::Error,
                path,
                position: None,
                message,
            });
        };
        let empty = Map::new();
        let spec = match resource.get("spec") {
            Some(Value::Object(spec)) => spec,
            None | Some(Value::Null) => &empty,
            Some(other) => {
                error(
                    spec_path,
                    format!("expected a mapping, found {}", type_name(other)),
                );
                return Err(errors);
            }
        };
        let mut notes = Vec::new();
        let mut plugin_config = Map::new();
        let disabled = match spec.get("defaultConfigDisable") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                error(
                    spec_path.clone().key("defaultConfigDisable"),
                    format!("expected true or false, found {}", type_name(other)),
                );
                false
            }
        };
        match spec.get("defaultConfig") {
            _ if disabled => {
                if spec.get("defaultConfig").is_some_and(|v| !v.is_null()) {
                    notes.push(Finding {
                        severity: Severity::Note,
                        path: spec_path.clone().key("defaultConfig"),
                        position: None,
                        message: "ignored: defaultConfigDisable is true, so requests no rule \
                                  matches are left untouched"
                            .into(),
                    });
                }
            }
            Some(Value::Object(config)) => {
                plugin_config.extend(config.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            None | Some(Value::Null) => notes.push(Finding {
                severity: Severity::Warning,
                path: spec_path.clone().key("defaultConfig"),
                position: None,
                message: "absent while defaultConfigDisable is not true: Higress then applies \
                          the default policy (any origin) to every request no rule matches; \
                          set defaultConfigDisable: true to leave them untouched"
                    .into(),
            }),
            Some(other) => error(
                spec_path.clone().key("defaultConfig"),
                format!("expected a mapping, found {}", type_name(other)),
            ),
        }
        let mut rules = Vec::new();
        let mut rule_sources = Vec::new();
        let rules_path = spec_path.clone().key("matchRules");
        match spec.get("matchRules") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    let item_path = rules_path.clone().index(index);
                    let Value::Object(item) = item else {
                        error(
                            item_path,
                            format!("expected a mapping, found {}", type_name(item)),
                        );
                        continue;
                    };
                    if item.get("configDisable") == Some(&Value::Bool(true)) {
                        notes.push(Finding {
                            severity: Severity::Note,
                            path: item_path.key("configDisable"),
                            position: None,
                            message: "true: Higress leaves this rule out of the plugin's \
                                      configuration"
                                .into(),
                        });
                        continue;
                    }
                    let mut rule = match item.get("config") {
                        Some(Value::Object(config)) => config.clone(),
                        None | Some(Value::Null) => Map::new(),
                        Some(other) => {
                            error(
                                item_path.key("config"),
                                format!("expected a mapping, found {}", type_name(other)),
                            );
                            continue;
                        }
                    };
                    for (resource_key, plugin_key) in MATCH_KEYS {
                        if let Some(list) = item.get(resource_key).filter(|v| !v.is_null()) {
                            rule.insert(plugin_key.to_owned(), list.clone());
                        }
                    }
                    rules.push(Value::Object(rule));
                    rule_sources.push(index);
                }
            }
            Some(other) => error(
                rules_path,
                format!("expected a list of rules, found {}", type_name(other)),
            ),
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // `_rules_` is always present, so that a resource without a default configuration
        // has no global policy (a plugin configuration of only `_` keys).
        plugin_config.insert("_rules_".to_owned(), Value::Array(rules));
        Ok(Self {
            plugin_config: Value::Object(plugin_config),
            rule_sources,
            notes,
        })
    }
}

#[cfg(all(test, feature = "yaml"))]
mod tests {
    use super::*;

    fn findings(text: &str) -> Vec<(Severity, String, String)> {
        let documents = load_documents(text.as_bytes()).expect("loads");
        documents
            .iter()
            .flat_map(|d| d.check().findings)
            .map(|f| (f.severity, f.path.to_string(), f.message))
            .collect()
    }

    const RESOURCE: &str = "\
apiVersion: extensions.higress.io/v1alpha1
kind: WasmPlugin
metadata:
  name: cors
spec:
  defaultConfigDisable: true
  matchRules:
    - ingress: [a]
      configDisable: true
      config: {allow_origins: [nope]}
    - ingress: [b]
      config:
        allow_origins: [https://ok.example, not an origin]
    - domain: ['*.example.com']
      service: ['svc:notaport']
      config:
        max_age: 7200
";

    #[test]
    fn wasm_plugin_errors_are_located_in_the_resource() {
        let found = findings(RESOURCE);
        let paths: Vec<(&Severity, &str)> = found.iter().map(|(s, p, _)| (s, &p[..])).collect();
        assert_eq!(
            paths,
            [
                (
                    &Severity::Error,
                    "spec.matchRules[1].config.allow_origins[1]"
                ),
                (&Severity::Error, "spec.matchRules[2].service[0]"),
                (&Severity::Note, "spec.matchRules[0].configDisable"),
            ],
            "{found:#?}"
        );
    }

    #[test]
    fn wasm_plugin_translation_matches_higress() {
        let text = RESOURCE
            .replace("not an origin", "https://b.example")
            .replace("svc:notaport", "svc:8080");
        let documents = load_documents(text.as_bytes()).expect("loads");
        let config = documents[0].plugin_config().expect("a CORS configuration");
        assert_eq!(
            config,
            serde_json::json!({"_rules_": [
                {"allow_origins": ["https://ok.example", "https://b.example"], "_match_route_": ["b"]},
                {"max_age": 7200, "_match_domain_": ["*.example.com"], "_match_service_": ["svc:8080"]},
            ]})
        );
        let checked = documents[0].check();
        let policies = checked.policies.expect("valid");
        assert!(policies.global().is_none());
        let warnings: Vec<String> = checked
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| f.path.to_string())
            .collect();
        assert_eq!(warnings, ["spec.matchRules[2].config.max_age"]);
    }

    #[test]
    fn several_documents_and_other_kinds() {
        let text = format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: x}}\n---\n{RESOURCE}---\nallow_origins: [https://a.example]\n"
        );
        let documents = load_documents(text.as_bytes()).expect("loads");
        let kinds: Vec<&DocumentKind> = documents.iter().map(Document::kind).collect();
        assert_eq!(
            kinds,
            [
                &DocumentKind::Other {
                    kind: "Service".into()
                },
                &DocumentKind::WasmPlugin {
                    name: Some("cors".into())
                },
                &DocumentKind::Policy,
            ]
        );
        assert!(documents[2].check().findings.is_empty());
    }

    #[test]
    fn default_config_absent_is_a_warning() {
        let found = findings("kind: WasmPlugin\napiVersion: x\nspec:\n  matchRules: []\n");
        assert_eq!(
            found.iter().map(|f| (f.0, &f.1[..])).collect::<Vec<_>>(),
            [(Severity::Warning, "spec.defaultConfig")]
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let error = load_documents(b"allow_origins: [a\nmax_age: 3\n").expect_err("invalid");
        assert!(matches!(
            error.errors()[0].kind(),
            ConfigErrorKind::Syntax {
                position: Some((_, _)),
                ..
            }
        ));
        let error = load_documents(b"allow_origins:\n  - \"a\xff\"\n").expect_err("not UTF-8");
        assert!(matches!(
            error.errors()[0].kind(),
            ConfigErrorKind::Syntax {
                position: Some((2, 7)),
                ..
            }
        ));
    }

    #[test]
    fn plain_policy_paths() {
        let found = findings("_rules_:\n  - _match_route_: [r]\n    allow_methods: [GET, 'B@D']\n");
        assert_eq!(found[0].1, "_rules_[0].allow_methods[1]", "{found:?}");
    }
}
