//! The configuration as users write it (the seed plugin's field names), loaded leniently from
//! YAML or JSON: lists may be written as one comma-separated string, `max_age` as a string of
//! digits and `allow_credentials` as `"true"`/`"false"`.

use serde::Serialize;
use serde_json::Value;

use crate::defaults::FIELDS;
use crate::error::{ConfigError, ConfigErrorKind, InvalidConfig, Location};
use crate::limits::{MAX_CONFIG_BYTES, MAX_MAX_AGE};

/// A CORS configuration as written, before validation. [`crate::Policy::new`] validates and
/// compiles it.
///
/// Lists hold the items as written, after comma splitting and trimming; an empty list means
/// "use the default" for `allow_methods` and `allow_headers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Config {
    /// Exact origins (`scheme://host[:port]`), `*` or `null`; `None` when the field is absent
    /// (present but empty, with no patterns, is an error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_origins: Option<Vec<String>>,
    /// Origin patterns (`http://*.example.com:[8080,9090]`) or `*`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_origin_patterns: Vec<String>,
    /// Allowed methods, or `*`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<String>,
    /// Allowed request headers, or `*`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    /// Response headers exposed to scripts, or `*`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// Whether credentialed requests may read responses.
    pub allow_credentials: bool,
    /// Preflight cache lifetime in seconds; `None` means the default, 86400.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// Whether preflights asking for private network access get
    /// `Access-Control-Allow-Private-Network`.
    pub allow_private_network: bool,
    /// Whether an actual request that fails a check is forwarded without CORS headers
    /// instead of answered 403.
    pub forward_disallowed_requests: bool,
    /// Whether the 403 body says why the request was rejected.
    pub debug: bool,
    /// Whether origins that neither `allow_origins` nor `allow_origin_patterns` allows are
    /// left to the application's origin predicate (polycors-tower and polycors-actix only;
    /// hosts that run no application code refuse such a policy).
    pub allow_origin_predicate: bool,
}

impl Config {
    /// Loads a configuration from YAML (the seed's format). JSON is YAML too.
    #[cfg(feature = "yaml")]
    pub fn from_yaml(text: &str) -> Result<Self, InvalidConfig> {
        Self::from_value(&parse_yaml(text)?)
    }

    /// Loads a configuration from JSON bytes (what Envoy and Higress hand to a plugin).
    pub fn from_json(bytes: &[u8]) -> Result<Self, InvalidConfig> {
        Self::from_value(&parse_json(bytes)?)
    }

    /// Loads a configuration from a parsed document. Keys beginning with `_` are ignored: they
    /// belong to hosts (Higress `_rules_`, `_match_route_`, ...).
    pub fn from_value(value: &Value) -> Result<Self, InvalidConfig> {
        let (config, errors) = Self::from_value_partial(value);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(InvalidConfig::new(errors))
        }
    }

    /// Loads what can be loaded: fields with errors keep their defaults, so that the fields
    /// that did load can still be validated and every problem reported at once.
    pub(crate) fn from_value_partial(value: &Value) -> (Self, Vec<ConfigError>) {
        let map = match value {
            Value::Object(map) => map,
            Value::Null => return (Self::default(), Vec::new()),
            other => {
                let error = ConfigError::new(
                    Location::default(),
                    ConfigErrorKind::NotAMapping {
                        found: type_name(other),
                    },
                );
                return (Self::default(), vec![error]);
            }
        };
        let mut config = Self::default();
        let mut errors = Vec::new();
        for (key, value) in map {
            let mut record = |result: Result<(), Vec<ConfigError>>| {
                if let Err(e) = result {
                    errors.extend(e);
                }
            };
            match key.as_str() {
                "allow_origins" => record(list(key, value).map(|v| config.allow_origins = Some(v))),
                "allow_origin_patterns" => {
                    record(list(key, value).map(|v| config.allow_origin_patterns = v))
                }
                "allow_methods" => record(list(key, value).map(|v| config.allow_methods = v)),
                "allow_headers" => record(list(key, value).map(|v| config.allow_headers = v)),
                "expose_headers" => record(list(key, value).map(|v| config.expose_headers = v)),
                "allow_credentials" => {
                    record(boolean(key, value).map(|v| config.allow_credentials = v))
                }
                "allow_private_network" => {
                    record(boolean(key, value).map(|v| config.allow_private_network = v))
                }
                "forward_disallowed_requests" => {
                    record(boolean(key, value).map(|v| config.forward_disallowed_requests = v))
                }
                "debug" => record(boolean(key, value).map(|v| config.debug = v)),
                "allow_origin_predicate" => {
                    record(boolean(key, value).map(|v| config.allow_origin_predicate = v))
                }
                "max_age" => record(max_age(value).map(|v| config.max_age = v)),
                _ if key.starts_with('_') => {}
                _ => errors.push(ConfigError::new(
                    Location::field(key),
                    ConfigErrorKind::UnknownField {
                        suggestion: closest_field(key),
                    },
                )),
            }
        }
        (config, errors)
    }
}

impl<'de> serde::Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// Parses JSON bytes into a document, bounded in size.
pub(crate) fn parse_json(bytes: &[u8]) -> Result<Value, InvalidConfig> {
    check_size(bytes.len())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|e| json_syntax(&e))
}

/// Parses YAML text into a document, bounded in size.
#[cfg(feature = "yaml")]
pub(crate) fn parse_yaml(text: &str) -> Result<Value, InvalidConfig> {
    check_yaml_text(text)?;
    serde_yaml::from_str(text).map_err(|e| yaml_syntax(&e))
}

/// Refuses YAML text too large or too deeply nested to parse safely.
#[cfg(feature = "yaml")]
pub(crate) fn check_yaml_text(text: &str) -> Result<(), InvalidConfig> {
    check_size(text.len())?;
    check_flow_nesting(text)
}

/// How deep `[` / `{` may nest in a YAML document. The YAML parser's time grows faster than
/// linearly with flow nesting (a 200 KB document of brackets takes seconds), so deeper documents
/// are refused before parsing; no real configuration comes close.
#[cfg(feature = "yaml")]
const MAX_FLOW_NESTING: usize = 64;

/// Refuses YAML whose flow collections nest deeper than [`MAX_FLOW_NESTING`], counting brackets
/// outside quoted scalars and comments. Quotes and comments end at a line break: a rough scan
/// that can only over-count brackets inside multi-line quoted strings, never miss real nesting.
#[cfg(feature = "yaml")]
fn check_flow_nesting(text: &str) -> Result<(), InvalidConfig> {
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut comment = false;
    let mut escaped = false;
    let mut previous = b'\n';
    let (mut line, mut line_start) = (1, 0);
    for (at, &byte) in text.as_bytes().iter().enumerate() {
        if byte == b'\n' {
            (line, line_start) = (line + 1, at + 1);
            (quote, comment, escaped) = (None, false, false);
        } else if comment {
            // Skipped to the end of the line.
        } else if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if q == b'"' && byte == b'\\' {
                escaped = true;
            } else if byte == q {
                quote = None;
            }
        } else {
            match byte {
                b'\'' | b'"' => quote = Some(byte),
                b'#' if previous.is_ascii_whitespace() => comment = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_FLOW_NESTING {
                        let column = text[line_start..at].chars().count() + 1;
                        return Err(syntax(
                            format!(
                                "the document nests lists or mappings deeper than {MAX_FLOW_NESTING} levels"
                            ),
                            Some((line, column)),
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = byte;
    }
    Ok(())
}

fn check_size(size: usize) -> Result<(), InvalidConfig> {
    if size > MAX_CONFIG_BYTES {
        return Err(
            ConfigError::new(Location::default(), ConfigErrorKind::TooLarge { size }).into(),
        );
    }
    Ok(())
}

pub(crate) fn syntax(message: String, position: Option<(usize, usize)>) -> InvalidConfig {
    ConfigError::new(
        Location::default(),
        ConfigErrorKind::Syntax { message, position },
    )
    .into()
}

/// A JSON parser error, with its position.
pub(crate) fn json_syntax(error: &serde_json::Error) -> InvalidConfig {
    let position = (error.line() > 0).then(|| (error.line(), error.column()));
    syntax(error.to_string(), position)
}

/// A YAML parser error, with its position.
#[cfg(feature = "yaml")]
pub(crate) fn yaml_syntax(error: &serde_yaml::Error) -> InvalidConfig {
    let position = error.location().map(|l| (l.line(), l.column()));
    syntax(error.to_string(), position)
}

pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn wrong_type(location: Location, expected: &'static str, value: &Value) -> ConfigError {
    ConfigError::new(
        location,
        ConfigErrorKind::WrongType {
            expected,
            found: type_name(value),
        },
    )
}

/// A list of strings, or one comma-separated string; items containing commas are split too.
pub(crate) fn list(field: &str, value: &Value) -> Result<Vec<String>, Vec<ConfigError>> {
    const EXPECTED: &str = "a list of strings or one comma-separated string";
    const ITEM: &str = "a string (quote values such as 'null' or '*')";
    let mut items = Vec::new();
    let mut push_split = |text: &str| {
        items.extend(
            split_outside_brackets(text)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        );
    };
    match value {
        Value::Null => {}
        Value::String(text) => push_split(text),
        Value::Array(values) => {
            let mut errors = Vec::new();
            for (index, item) in values.iter().enumerate() {
                match item {
                    Value::String(text) => push_split(text),
                    other => errors.push(wrong_type(Location::item(field, index), ITEM, other)),
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
        }
        other => return Err(vec![wrong_type(Location::field(field), EXPECTED, other)]),
    }
    Ok(items)
}

/// Splits on commas that are not inside `[...]`, so a pattern's port list
/// (`http://*.a.com:[8080,9090]`) stays one item.
fn split_outside_brackets(text: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    let mut start = 0;
    let mut pieces = Vec::new();
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                pieces.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&text[start..]);
    pieces.into_iter()
}

fn boolean(field: &str, value: &Value) -> Result<bool, Vec<ConfigError>> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Ok(false),
        other => Err(vec![wrong_type(
            Location::field(field),
            "true or false",
            other,
        )]),
    }
}

fn max_age(value: &Value) -> Result<Option<u64>, Vec<ConfigError>> {
    const EXPECTED: &str = "a whole number of seconds";
    let location = || Location::field("max_age");
    let error = |kind| Err(vec![ConfigError::new(location(), kind)]);
    let seconds = match value {
        Value::Null => return Ok(None),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(v), _) => v,
            (None, Some(_)) => return error(ConfigErrorKind::NegativeMaxAge),
            (None, None) if n.as_f64().is_some_and(|f| f < 0.0) => {
                return error(ConfigErrorKind::NegativeMaxAge);
            }
            _ => return Err(vec![wrong_type(location(), EXPECTED, value)]),
        },
        Value::String(s) => {
            let s = s.trim();
            if s.starts_with('-') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_digit()) {
                return error(ConfigErrorKind::NegativeMaxAge);
            }
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(vec![wrong_type(location(), EXPECTED, value)]);
            }
            match s.parse::<u64>() {
                Ok(v) => v,
                Err(_) => return error(ConfigErrorKind::MaxAgeTooLarge),
            }
        }
        other => return Err(vec![wrong_type(location(), EXPECTED, other)]),
    };
    if seconds > MAX_MAX_AGE {
        return error(ConfigErrorKind::MaxAgeTooLarge);
    }
    Ok(Some(seconds))
}

/// The known field closest to `key`, if it is close enough to be a likely typo.
fn closest_field(key: &str) -> Option<&'static str> {
    let key = key.to_ascii_lowercase();
    FIELDS
        .iter()
        .map(|field| (edit_distance(&key, field), *field))
        .filter(|(distance, field)| *distance <= (field.len() / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, field)| field)
}

/// Levenshtein distance over bytes.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_outside_brackets_keeps_port_lists_whole() {
        let items: Vec<&str> = split_outside_brackets("a,[1,2],b[3,[4]],c").collect();
        assert_eq!(items, ["a", "[1,2]", "b[3,[4]]", "c"]);
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions() {
        assert_eq!(edit_distance("allow_origin", "allow_origins"), 1);
        assert_eq!(edit_distance("alow_methods", "allow_methods"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(closest_field("colour"), None);
    }

    #[cfg(feature = "yaml")]
    #[test]
    fn flow_nesting_scan_ignores_quoted_and_commented_brackets() {
        assert!(check_flow_nesting(&format!("a: '{}'", "[".repeat(100))).is_ok());
        assert!(check_flow_nesting(&format!("a: 1 # {}", "[".repeat(100))).is_ok());
        assert!(check_flow_nesting(&"[".repeat(MAX_FLOW_NESTING + 1)).is_err());
        assert!(check_flow_nesting(&"[".repeat(MAX_FLOW_NESTING)).is_ok());
    }
}
