//! Policy header values kept for the life of the process, so that an adapter can build header
//! values over `'static` bytes: `http`'s `HeaderValue::from_static` clones without touching a
//! reference count, where a value over shared bytes costs two atomic operations per response
//! (the clone and its drop). A policy's values are few and small, and each distinct value is
//! kept once, within a fixed budget for the whole process: past it, adapters build shared
//! values as before.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

/// How many bytes of distinct values the process keeps, in all: hundreds of policies' worth
/// (a policy fixes four values, usually under 200 bytes together). Building layers again with
/// the same values keeps nothing more.
pub const INTERNED_BYTES: usize = 64 * 1024;

/// The values kept so far, and their bytes.
struct Table {
    values: BTreeSet<&'static str>,
    bytes: usize,
}

impl Table {
    const fn new() -> Self {
        Self {
            values: BTreeSet::new(),
            bytes: 0,
        }
    }

    /// `value` with a `'static` lifetime, kept if it is new and fits within `budget` bytes in
    /// all; `None` for a value that is not visible ASCII (or tab), or that does not fit.
    fn intern(&mut self, value: &str, budget: usize) -> Option<&'static str> {
        if !value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        {
            return None;
        }
        if let Some(kept) = self.values.get(value) {
            return Some(kept);
        }
        let bytes = self.bytes.checked_add(value.len())?;
        if bytes > budget {
            return None;
        }
        let kept: &'static str = Box::leak(value.to_owned().into_boxed_str());
        self.values.insert(kept);
        self.bytes = bytes;
        Some(kept)
    }
}

static TABLE: Mutex<Table> = Mutex::new(Table::new());

/// `value` with a `'static` lifetime, for a header value built once per layer and cloned per
/// response (`HeaderValue::from_static`, which accepts every value this returns). Each distinct
/// value is kept once for the life of the process, [`INTERNED_BYTES`] in all. `None` when
/// `value` is not visible ASCII (or tab) or the budget is spent: build a shared value then.
pub fn interned(value: &str) -> Option<&'static str> {
    // A panic elsewhere while the lock was held leaves the table consistent (an insert is the
    // last step), so a poisoned lock is still usable.
    TABLE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .intern(value, INTERNED_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_kept_once() {
        let mut table = Table::new();
        let first = table.intern("GET, POST", 64).expect("fits");
        let second = table.intern(&String::from("GET, POST"), 64).expect("kept");
        assert_eq!(first, "GET, POST");
        assert!(
            std::ptr::eq(first, second),
            "the same value is not kept twice"
        );
        assert_eq!(table.bytes, 9);
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let mut table = Table::new();
        assert_eq!(table.intern("0123456789", 16), Some("0123456789"));
        assert_eq!(table.intern("abcdefg", 16), None, "10 + 7 bytes exceed 16");
        assert_eq!(
            table.intern("abcdef", 16),
            Some("abcdef"),
            "10 + 6 fit exactly"
        );
        assert_eq!(
            table.intern("0123456789", 16),
            Some("0123456789"),
            "kept ones stay"
        );
        assert_eq!(table.bytes, 16);
    }

    #[test]
    fn only_visible_ascii_is_kept() {
        let mut table = Table::new();
        assert_eq!(table.intern("a\tb ~", 64), Some("a\tb ~"));
        for value in ["caf\u{e9}", "a\u{7f}", "a\nb", "\0"] {
            assert_eq!(table.intern(value, 64), None, "{value:?}");
        }
        assert_eq!(table.bytes, 5);
    }

    #[test]
    fn the_process_table_returns_the_same_bytes() {
        let first = interned("polycors-interned-test-value").expect("within the budget");
        let second = interned("polycors-interned-test-value").expect("kept");
        assert!(std::ptr::eq(first, second));
        assert_eq!(interned("caf\u{e9}"), None);
    }
}
