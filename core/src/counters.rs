//! The decision counters every host keeps under the same names: the proxy-wasm plugin defines
//! them as proxy-wasm metrics (Envoy shows them in its stats), and tower and actix-web
//! applications can feed them to their own metrics from the layer's decision hook.

use crate::decision::{Reason, Verdict};

/// One decision counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// `polycors.requests.not_cors`: not a CORS request (no `Origin`, or same-origin).
    NotCors,
    /// `polycors.requests.preflight`: an allowed preflight, answered 200.
    Preflight,
    /// `polycors.requests.actual`: an allowed actual request, forwarded.
    Actual,
    /// `polycors.requests.rejected`: answered 403.
    Rejected,
    /// `polycors.requests.forwarded_disallowed`: failed a check, forwarded without CORS headers
    /// (`forward_disallowed_requests`).
    ForwardedDisallowed,
    /// `polycors.requests.no_policy`: no `_rules_` entry matched and there is no global
    /// policy (proxy-wasm only).
    NoPolicy,
    /// `polycors.rejected.<reason>` (`polycors.rejected.origin_not_allowed`): rejections by
    /// reason.
    RejectedBecause(Reason),
    /// `polycors.forwarded_disallowed.<reason>`: disallowed forwarded requests by reason.
    DisallowedBecause(Reason),
}

impl Counter {
    /// Every counter, in a fixed order ([`index`](Self::index)).
    pub const ALL: [Counter; 6 + 2 * Reason::ALL.len()] = {
        let mut all = [Counter::NotCors; 6 + 2 * Reason::ALL.len()];
        let outcomes = [
            Counter::NotCors,
            Counter::Preflight,
            Counter::Actual,
            Counter::Rejected,
            Counter::ForwardedDisallowed,
            Counter::NoPolicy,
        ];
        let mut i = 0;
        while i < outcomes.len() {
            all[i] = outcomes[i];
            i += 1;
        }
        let mut r = 0;
        while r < Reason::ALL.len() {
            all[6 + r] = Counter::RejectedBecause(Reason::ALL[r]);
            all[6 + Reason::ALL.len() + r] = Counter::DisallowedBecause(Reason::ALL[r]);
            r += 1;
        }
        all
    };

    /// The counter's position in [`ALL`](Self::ALL).
    pub fn index(self) -> usize {
        match self {
            Self::NotCors => 0,
            Self::Preflight => 1,
            Self::Actual => 2,
            Self::Rejected => 3,
            Self::ForwardedDisallowed => 4,
            Self::NoPolicy => 5,
            Self::RejectedBecause(reason) => 6 + reason.index(),
            Self::DisallowedBecause(reason) => 6 + Reason::ALL.len() + reason.index(),
        }
    }

    /// The counter's name: dot-separated, lowercase, `_` inside words
    /// (`polycors.rejected.origin_not_allowed`).
    pub fn name(self) -> String {
        let reason = |prefix: &str, reason: Reason| {
            format!("polycors.{prefix}.{}", reason.code().replace('-', "_"))
        };
        match self {
            Self::NotCors => "polycors.requests.not_cors".into(),
            Self::Preflight => "polycors.requests.preflight".into(),
            Self::Actual => "polycors.requests.actual".into(),
            Self::Rejected => "polycors.requests.rejected".into(),
            Self::ForwardedDisallowed => "polycors.requests.forwarded_disallowed".into(),
            Self::NoPolicy => "polycors.requests.no_policy".into(),
            Self::RejectedBecause(r) => reason("rejected", r),
            Self::DisallowedBecause(r) => reason("forwarded_disallowed", r),
        }
    }

    /// The counters a verdict increments: its outcome, and its reason for a failed check.
    pub fn for_verdict(verdict: Verdict) -> (Counter, Option<Counter>) {
        match verdict {
            Verdict::NotCors => (Self::NotCors, None),
            Verdict::Preflight => (Self::Preflight, None),
            Verdict::Actual => (Self::Actual, None),
            Verdict::Reject(reason) => (Self::Rejected, Some(Self::RejectedBecause(reason))),
            Verdict::Disallowed(reason) => (
                Self::ForwardedDisallowed,
                Some(Self::DisallowedBecause(reason)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_and_names_are_unique_and_consistent() {
        let mut names = std::collections::HashSet::new();
        for (i, counter) in Counter::ALL.iter().enumerate() {
            assert_eq!(counter.index(), i, "{counter:?}");
            assert!(names.insert(counter.name()), "duplicate {}", counter.name());
        }
        assert_eq!(
            Counter::RejectedBecause(Reason::OriginNotAllowed).name(),
            "polycors.rejected.origin_not_allowed"
        );
        assert_eq!(
            Counter::for_verdict(Verdict::Disallowed(Reason::MethodNotAllowed)),
            (
                Counter::ForwardedDisallowed,
                Some(Counter::DisallowedBecause(Reason::MethodNotAllowed))
            )
        );
    }
}
