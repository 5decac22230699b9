//! A preflight whose answer carries every value a policy fixes, for the middleware adapters'
//! tests that those values (and listed origins) are built over the process's interned bytes (cloned per response
//! without a reference count). Included with `#[path]` by
//! `adapters/{tower,actix}/tests/fixed_values.rs`.

/// The policy: each of its four fixed values is distinct from the other tests' values.
pub const POLICY: &str = "allow_origins: [https://fixed.example]\n\
    allow_methods: [GET, PUT, PATCH]\n\
    allow_headers: [x-fixed-one, x-fixed-two]\n\
    expose_headers: [x-fixed-exposed]\n\
    max_age: 4321";

/// An allowed actual request's headers: its response echoes the listed origin.
pub const ACTUAL: [(&str, &str); 1] = [("origin", "https://fixed.example")];

/// The preflight's headers.
pub const PREFLIGHT: [(&str, &str); 2] = [
    ("origin", "https://fixed.example"),
    ("access-control-request-method", "PUT"),
];

/// Each fixed header of the preflight's answer, with the value the policy gives it (the
/// allowed origin is a listed one: the middleware's own value is echoed).
pub const FIXED: [(&str, &str); 5] = [
    ("access-control-allow-origin", "https://fixed.example"),
    ("access-control-allow-methods", "GET,PUT,PATCH"),
    ("access-control-allow-headers", "x-fixed-one,x-fixed-two"),
    ("access-control-expose-headers", "x-fixed-exposed"),
    ("access-control-max-age", "4321"),
];

/// Checks that `value`, the response's value of `name`, is `expected` and lies in the bytes
/// `polycors::adapter::interned` keeps for it (not a copy, not shared bytes).
pub fn assert_interned(name: &str, value: &[u8], expected: &str) {
    assert_eq!(value, expected.as_bytes(), "{name}");
    let kept = polycors::adapter::interned(expected).expect("within the process's budget");
    assert!(
        std::ptr::eq(value, kept.as_bytes()),
        "{name}: the response's value is not the interned one"
    );
}
