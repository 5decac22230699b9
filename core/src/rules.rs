//! Higress-style scoped configurations: a global policy plus `_rules_`, each selecting
//! requests by route name, route prefix, domain or upstream service (§5).

use serde_json::Value;

use crate::config::{self, type_name};
use crate::error::{ConfigError, ConfigErrorKind, InvalidConfig, Location};
use crate::origin::split_host_port;
use crate::policy::Policy;
use crate::token::starts_with_ignore_case;

/// What a host knows about where a request is going, for selecting a scoped policy.
#[derive(Debug, Clone, Copy, Default)]
pub struct RouteInfo<'a> {
    /// Envoy's `route_name` property.
    pub route_name: Option<&'a [u8]>,
    /// The request's `:authority` (the port is ignored).
    pub authority: Option<&'a [u8]>,
    /// Envoy's `cluster_name` property, `outbound|port||fqdn` in Istio and Higress.
    pub cluster_name: Option<&'a [u8]>,
}

/// Which parts of [`RouteInfo`] a [`ScopedPolicies`] reads (see
/// [`ScopedPolicies::route_needs`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteNeeds {
    /// Some rule matches route names.
    pub route_name: bool,
    /// Some rule matches domains.
    pub authority: bool,
    /// Some rule matches services (cluster names).
    pub cluster_name: bool,
}

#[derive(Debug, Clone)]
enum DomainMatch {
    /// `*.example.com`: the host ends with `.example.com`.
    Suffix(String),
    /// `api*`: the host starts with `api`.
    Prefix(String),
    Exact(String),
}

#[derive(Debug, Clone)]
struct ServiceMatch {
    fqdn: String,
    port: Option<u16>,
}

#[derive(Debug, Clone)]
struct Rule {
    routes: Vec<String>,
    route_prefixes: Vec<String>,
    domains: Vec<DomainMatch>,
    services: Vec<ServiceMatch>,
    policy: Policy,
}

/// Which policy of a [`ScopedPolicies`] applies to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The top-level policy.
    Global,
    /// The `_rules_` entry with this index.
    Rule(usize),
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Global => f.write_str("global"),
            Self::Rule(index) => write!(f, "_rules_[{index}]"),
        }
    }
}

/// A global policy (optional) and per-scope rules; the first matching rule wins, then the
/// global policy.
#[derive(Debug, Clone)]
pub struct ScopedPolicies {
    global: Option<Policy>,
    rules: Vec<Rule>,
    /// The document this was loaded from (for [`ScopedPolicies::to_json`]).
    document: Value,
}

impl ScopedPolicies {
    /// Loads a plugin configuration from JSON bytes. Empty bytes and `{}` give the default
    /// global policy; an object with only `_`-prefixed keys has no global policy.
    pub fn from_json(bytes: &[u8]) -> Result<Self, InvalidConfig> {
        Self::from_value(&config::parse_json(bytes)?)
    }

    /// Refuses the configuration if a policy in it [needs an origin
    /// predicate](Policy::needs_origin_predicate): for hosts that run no application code
    /// (the proxy-wasm plugin, the Envoy module, `polycors serve`), where such a policy would
    /// reject every origin it does not list.
    pub fn refuse_origin_predicates(self) -> Result<Self, InvalidConfig> {
        let errors = self.origin_predicate_errors();
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(InvalidConfig::new(errors))
        }
    }

    /// What [`refuse_origin_predicates`](Self::refuse_origin_predicates) reports: one error
    /// per policy that needs an origin predicate.
    pub(crate) fn origin_predicate_errors(&self) -> Vec<ConfigError> {
        let global = self.global.iter().map(|policy| (None, policy));
        let rules = self
            .rules
            .iter()
            .enumerate()
            .map(|(index, rule)| (Some(index), &rule.policy));
        global
            .chain(rules)
            .filter(|(_, policy)| policy.needs_origin_predicate())
            .map(|(rule, _)| {
                let error = ConfigError::new(
                    Location::field("allow_origin_predicate"),
                    ConfigErrorKind::OriginPredicateUnavailable,
                );
                match rule {
                    Some(index) => error.in_rule(index),
                    None => error,
                }
            })
            .collect()
    }

    /// Loads a plugin configuration from YAML.
    #[cfg(feature = "yaml")]
    pub fn from_yaml(text: &str) -> Result<Self, InvalidConfig> {
        Self::from_value(&config::parse_yaml(text)?)
    }

    /// Loads a plugin configuration from a parsed document.
    pub fn from_value(value: &Value) -> Result<Self, InvalidConfig> {
        let mut errors = Vec::new();
        let has_global = match value {
            Value::Object(map) => map.is_empty() || map.keys().any(|k| !k.starts_with('_')),
            _ => true,
        };
        let global = if has_global {
            match Policy::from_document(value) {
                Ok(policy) => Some(policy),
                Err(e) => {
                    errors.extend(e.into_errors());
                    None
                }
            }
        } else {
            None
        };
        let mut rules = Vec::new();
        match value.get("_rules_") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (index, item) in items.iter().enumerate() {
                    match parse_rule(item) {
                        Ok(rule) => rules.push(rule),
                        Err(e) => errors.extend(e.into_iter().map(|e| e.in_rule(index))),
                    }
                }
            }
            Some(other) => errors.push(ConfigError::new(
                Location::field("_rules_"),
                ConfigErrorKind::WrongType {
                    expected: "a list of rules",
                    found: type_name(other),
                },
            )),
        }
        if errors.is_empty() {
            Ok(Self {
                global,
                rules,
                document: value.clone(),
            })
        } else {
            Err(InvalidConfig::new(errors))
        }
    }

    /// The policy for a request: the first rule that matches, else the global policy. `None`
    /// means leave the request alone.
    pub fn select(&self, route: &RouteInfo<'_>) -> Option<&Policy> {
        self.select_scoped(route).map(|(_, policy)| policy)
    }

    /// Like [`select`](Self::select), also saying which policy was chosen.
    pub fn select_scoped(&self, route: &RouteInfo<'_>) -> Option<(Scope, &Policy)> {
        self.rules
            .iter()
            .position(|rule| rule.matches(route))
            .map(|index| (Scope::Rule(index), &self.rules[index].policy))
            .or_else(|| self.global.as_ref().map(|policy| (Scope::Global, policy)))
    }

    /// Why [`select_scoped`](Self::select_scoped) picks what it picks for `route`, in words:
    /// which match lists of the chosen rule matched, or why no rule did.
    pub fn selection_reason(&self, route: &RouteInfo<'_>) -> String {
        let missing = |needed: bool, value: Option<&[u8]>, what: &str| {
            (needed && value.is_none()).then(|| format!(" (no {what} was given)"))
        };
        let needs = self.route_needs();
        let unknown: String = [
            missing(needs.route_name, route.route_name, "route name"),
            missing(needs.authority, route.authority, "authority"),
            missing(needs.cluster_name, route.cluster_name, "cluster name"),
        ]
        .into_iter()
        .flatten()
        .collect();
        match self.select_scoped(route) {
            Some((Scope::Rule(index), _)) => {
                let rule = &self.rules[index];
                let show = |bytes: Option<&[u8]>| {
                    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
                };
                let lists = [
                    (
                        !rule.routes.is_empty(),
                        "_match_route_ lists the route name",
                        route.route_name,
                    ),
                    (
                        !rule.route_prefixes.is_empty(),
                        "_match_route_prefix_ has a prefix of the route name",
                        route.route_name,
                    ),
                    (
                        !rule.domains.is_empty(),
                        "_match_domain_ matches the authority",
                        route.authority,
                    ),
                    (
                        !rule.services.is_empty(),
                        "_match_service_ matches the cluster",
                        route.cluster_name,
                    ),
                ];
                let parts: Vec<String> = lists
                    .iter()
                    .filter(|(used, ..)| *used)
                    .map(|(_, what, value)| format!("{what} {:?}", show(*value)))
                    .collect();
                let earlier = match index {
                    0 => String::new(),
                    1 => "; _rules_[0] did not match".to_owned(),
                    n => format!("; _rules_[0] to _rules_[{}] did not match", n - 1),
                };
                format!("the first matching rule: {}{earlier}", parts.join(" and "))
            }
            Some((Scope::Global, _)) if self.rules.is_empty() => {
                "the global policy: the configuration has no _rules_".to_owned()
            }
            Some((Scope::Global, _)) => format!(
                "the global policy: none of the {} _rules_ matched{unknown}",
                self.rules.len()
            ),
            None => format!(
                "no policy: none of the {} _rules_ matched{unknown} and there is no global \
                 policy, so the request is left untouched",
                self.rules.len()
            ),
        }
    }

    /// The policy a [`Scope`] names, if the configuration has it.
    pub fn get(&self, scope: Scope) -> Option<&Policy> {
        match scope {
            Scope::Global => self.global.as_ref(),
            Scope::Rule(index) => self.rules.get(index).map(|rule| &rule.policy),
        }
    }

    /// Which parts of [`RouteInfo`] selecting a policy reads: a host can skip fetching the
    /// others (a configuration without `_rules_` reads none).
    pub fn route_needs(&self) -> RouteNeeds {
        let mut needs = RouteNeeds::default();
        for rule in &self.rules {
            needs.route_name |= !rule.routes.is_empty() || !rule.route_prefixes.is_empty();
            needs.authority |= !rule.domains.is_empty();
            needs.cluster_name |= !rule.services.is_empty();
        }
        needs
    }

    /// The configuration as JSON, what Envoy and Higress hand the proxy-wasm plugin: a YAML
    /// configuration loaded here can be given to the plugin as is.
    pub fn to_json(&self) -> String {
        self.document.to_string()
    }

    /// How many `_rules_` entries the configuration has.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// The global policy, if the configuration has one.
    pub fn global(&self) -> Option<&Policy> {
        self.global.as_ref()
    }

    /// Every policy's warnings, with the rule index (`None` for the global policy).
    pub fn warnings(&self) -> impl Iterator<Item = (Option<usize>, &crate::Warning)> {
        let global = self
            .global
            .iter()
            .flat_map(|p| p.warnings().iter().map(|w| (None, w)));
        let rules = self
            .rules
            .iter()
            .enumerate()
            .flat_map(|(i, r)| r.policy.warnings().iter().map(move |w| (Some(i), w)));
        global.chain(rules)
    }
}

impl From<Policy> for ScopedPolicies {
    fn from(policy: Policy) -> Self {
        let document = serde_json::to_value(policy.config()).unwrap_or(Value::Null);
        Self {
            global: Some(policy),
            rules: Vec::new(),
            document,
        }
    }
}

fn parse_rule(value: &Value) -> Result<Rule, Vec<ConfigError>> {
    let Value::Object(map) = value else {
        return Err(vec![ConfigError::new(
            Location::default(),
            ConfigErrorKind::NotAMapping {
                found: type_name(value),
            },
        )]);
    };
    let mut errors = Vec::new();
    let mut list = |key: &str| match map.get(key) {
        None => Vec::new(),
        Some(v) => config::list(key, v).unwrap_or_else(|e| {
            errors.extend(e);
            Vec::new()
        }),
    };
    let routes = list("_match_route_");
    let route_prefixes = list("_match_route_prefix_");
    let domains = list("_match_domain_");
    let services = list("_match_service_");
    let domains = domains
        .into_iter()
        .map(|d| {
            let d = d.to_ascii_lowercase();
            if let Some(suffix) = d.strip_prefix('*') {
                DomainMatch::Suffix(suffix.to_owned())
            } else if let Some(prefix) = d.strip_suffix('*') {
                DomainMatch::Prefix(prefix.to_owned())
            } else {
                DomainMatch::Exact(d)
            }
        })
        .collect();
    let mut parsed_services = Vec::new();
    for (index, service) in services.iter().enumerate() {
        let (fqdn, port) = match service.rsplit_once(':') {
            Some((fqdn, port)) => match port.parse::<u16>() {
                Ok(port) => (fqdn, Some(port)),
                Err(_) => {
                    errors.push(ConfigError::new(
                        Location::item("_match_service_", index),
                        ConfigErrorKind::InvalidMatch {
                            value: service.clone(),
                        },
                    ));
                    continue;
                }
            },
            None => (service.as_str(), None),
        };
        parsed_services.push(ServiceMatch {
            fqdn: fqdn.to_ascii_lowercase(),
            port,
        });
    }
    let policy = Policy::from_document(value);
    let policy = match policy {
        Ok(p) => Some(p),
        Err(e) => {
            errors.extend(e.into_errors());
            None
        }
    };
    if routes.is_empty()
        && route_prefixes.is_empty()
        && domains_is_empty(map)
        && services.is_empty()
    {
        errors.push(ConfigError::new(
            Location::default(),
            ConfigErrorKind::RuleWithoutMatch,
        ));
    }
    match policy {
        Some(policy) if errors.is_empty() => Ok(Rule {
            routes,
            route_prefixes,
            domains,
            services: parsed_services,
            policy,
        }),
        _ => Err(errors),
    }
}

fn domains_is_empty(map: &serde_json::Map<String, Value>) -> bool {
    match map.get("_match_domain_") {
        None => true,
        Some(v) => config::list("_match_domain_", v).map_or(true, |l| l.is_empty()),
    }
}

impl Rule {
    fn matches(&self, route: &RouteInfo<'_>) -> bool {
        let route_name = route.route_name.unwrap_or_default();
        let by_route =
            self.routes.is_empty() || self.routes.iter().any(|r| r.as_bytes() == route_name);
        let by_prefix = self.route_prefixes.is_empty()
            || self
                .route_prefixes
                .iter()
                .any(|p| route_name.starts_with(p.as_bytes()));
        by_route && by_prefix && self.domain_matches(route) && self.service_matches(route)
    }

    fn domain_matches(&self, route: &RouteInfo<'_>) -> bool {
        if self.domains.is_empty() {
            return true;
        }
        let authority = route.authority.unwrap_or_default();
        let host = split_host_port(authority).map_or(authority, |(host, _)| host);
        self.domains.iter().any(|d| match d {
            DomainMatch::Suffix(s) => {
                host.len() >= s.len()
                    && host[host.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
            }
            DomainMatch::Prefix(p) => starts_with_ignore_case(host, p.as_bytes()),
            DomainMatch::Exact(e) => host.eq_ignore_ascii_case(e.as_bytes()),
        })
    }

    fn service_matches(&self, route: &RouteInfo<'_>) -> bool {
        if self.services.is_empty() {
            return true;
        }
        // Istio/Higress cluster names: outbound|port|subset|fqdn
        let cluster = route.cluster_name.unwrap_or_default();
        let mut parts = cluster.split(|&b| b == b'|');
        let (Some(_), Some(port), Some(_), Some(fqdn), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return false;
        };
        let port = std::str::from_utf8(port)
            .ok()
            .and_then(|p| p.parse::<u16>().ok());
        self.services.iter().any(|s| {
            s.fqdn.as_bytes().eq_ignore_ascii_case(fqdn) && s.port.is_none_or(|p| Some(p) == port)
        })
    }
}
