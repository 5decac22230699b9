//! # polycors
//!
//! A CORS policy engine: configuration (the Higress `cors` plugin's fields), validation,
//! origin matching and decisions, with no I/O and no framework. Adapters for tower, actix-web
//! and proxy-wasm translate their request and response types and call into this crate.
//!
//! ```
//! use polycors::{Decision, HeaderList, Policy, RequestView};
//!
//! let policy = Policy::from_yaml(
//!     "allow_origins: [https://app.example.com]\nallow_methods: GET, POST\n",
//! )?;
//! let mut request = RequestView::new(b"OPTIONS");
//! request.add_header(b"origin", b"https://app.example.com");
//! request.add_header(b"access-control-request-method", b"POST");
//!
//! let decision = policy.evaluate(&request);
//! assert!(matches!(decision, Decision::Preflight(_)));
//! let local = decision.local_response().expect("preflights are answered locally");
//! let mut headers = HeaderList::default();
//! decision.apply(&mut headers);
//! assert_eq!(local.status, 200);
//! assert_eq!(headers.get("access-control-allow-methods"), Some(&b"GET,POST"[..]));
//! # Ok::<(), polycors::InvalidConfig>(())
//! ```

mod config;
mod decision;
mod error;
mod evaluate;
mod origin;
mod pattern;
mod policy;
mod request;
mod response;
mod rules;
mod token;

pub use config::{Config, FIELDS, MAX_CONFIG_BYTES};
pub use decision::{
    Actual, Decision, FieldValue, LocalResponse, NotCors, PolicyField, PolicyValues, Preflight,
    REJECT_BODY, Reason, Reject,
};
pub use error::{ConfigError, ConfigErrorKind, InvalidConfig, Location, Warning};
pub use evaluate::{MAX_REQUEST_HEADER_NAMES, MAX_REQUEST_HEADERS_BYTES};
pub use origin::OriginProblem;
pub use pattern::{OriginPattern, PatternProblem};
pub use policy::{
    DEFAULT_HEADERS, DEFAULT_MAX_AGE, DEFAULT_METHODS, MAX_MAX_AGE, Policy, PolicyBuilder,
};
pub use request::{OriginHeader, RequestView};
pub use response::{CORS_VERSION, HeaderList, ResponseHeaders, names};
pub use rules::{RouteInfo, ScopedPolicies};
