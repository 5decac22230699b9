//! Local answers built once and copied: a preflight's or a rejection's headers depend on the
//! policy and a few facts about the request (its [`AnswerKey`]), and on the request's `Origin`
//! only through the echoed `Access-Control-Allow-Origin`. An adapter whose header maps clone
//! faster than they fill (`http`'s `HeaderMap`: a clone copies two buffers, each insert hashes
//! and probes) keeps one answer per key and, per request, copies it and sets the origin.

use std::sync::OnceLock;

use crate::adapter::{FieldValue, HeaderField, ResponseHeaders};
use crate::decision::{Decision, ExposeSource, ListSource, OriginSource, Verdict};

/// What a local answer's headers depend on besides the request's `Origin`: with one policy,
/// answers with equal keys have equal headers but for `Access-Control-Allow-Origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnswerKey(u16);

impl Decision<'_> {
    /// The key of this local answer, when other requests' answers can be copied from it:
    /// `Some` for a preflight or a rejection whose headers echo nothing from the request but
    /// its `Origin`. `None` for a forwarded request, and for answers that echo the requested
    /// method or headers (`allow_methods: *`, `allow_headers: *`) or say why a request was
    /// rejected (`debug`).
    ///
    /// Make the answer for a key once, with [`write_headers`](Self::write_headers) on a
    /// response without headers (as [`AnswerTemplates`] does); for a later request with the
    /// same key, copy it and call [`write_answer_origin`](Self::write_answer_origin).
    pub fn answer_key(&self) -> Option<AnswerKey> {
        let plan = self.plan;
        let copyable = matches!(self.verdict, Verdict::Preflight | Verdict::Reject(_))
            && plan.allow_methods() != Some(ListSource::Request)
            && plan.allow_headers() != Some(ListSource::Request)
            && plan.expose_headers() != Some(ExposeSource::Response)
            && !(plan.reject() && plan.debug());
        copyable.then_some(AnswerKey(plan.bits()))
    }

    /// Sets this request's `Origin` on a copy of the answer made for another request with the
    /// same [`answer_key`](Self::answer_key): the one header that differs (it replaces the
    /// copied line). Writes nothing when the answer does not echo the origin.
    pub fn write_answer_origin<H: ResponseHeaders + ?Sized>(&self, headers: &mut H) {
        if self.plan.allow_origin() == Some(OriginSource::Request) {
            headers.set(HeaderField::AllowOrigin, FieldValue::RequestOrigin);
        }
    }
}

/// How many answers an [`AnswerTemplates`] keeps: a policy gives few keys (an allowed
/// preflight, with and without private network access; rejections of preflights and of
/// other requests).
const SLOTS: usize = 8;

/// One answer per [`AnswerKey`], made on first use and then shared by every thread without a
/// lock. Holds at most a handful: past that, [`get_or_make`](Self::get_or_make) returns
/// `None` and the adapter writes the answer in full, as it would without templates.
#[derive(Debug)]
pub struct AnswerTemplates<T> {
    slots: [OnceLock<(AnswerKey, T)>; SLOTS],
}

impl<T> Default for AnswerTemplates<T> {
    fn default() -> Self {
        Self {
            slots: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl<T> Clone for AnswerTemplates<T> {
    /// Empty: the clone makes its answers again on first use (it may serve a changed policy).
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<T> AnswerTemplates<T> {
    /// The answer kept for `key`, made with `make` if there is none yet. `None` when every
    /// slot holds another key's answer, or when another thread took the free slot at the
    /// same moment.
    pub fn get_or_make(&self, key: AnswerKey, make: impl FnOnce() -> T) -> Option<&T> {
        let mut make = Some(make);
        for slot in &self.slots {
            let (kept, answer) = match slot.get() {
                Some(made) => made,
                None => {
                    let make = make.take()?;
                    slot.get_or_init(|| (key, make()))
                }
            };
            if *kept == key {
                return Some(answer);
            }
            // `None` when the free slot went to another key, and `make` with it.
            make.as_ref()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(bits: u16) -> AnswerKey {
        AnswerKey(bits)
    }

    #[test]
    fn an_answer_is_made_once_per_key() {
        let templates = AnswerTemplates::default();
        let mut made = 0;
        for round in 0..3 {
            for bits in [1, 2, 3] {
                let answer = templates.get_or_make(key(bits), || {
                    made += 1;
                    bits * 10
                });
                assert_eq!(answer, Some(&(bits * 10)), "round {round}");
            }
        }
        assert_eq!(made, 3);
    }

    #[test]
    fn past_the_slots_answers_are_not_kept() {
        let templates = AnswerTemplates::default();
        for bits in 0..SLOTS as u16 {
            assert_eq!(templates.get_or_make(key(bits), || bits), Some(&bits));
        }
        assert_eq!(templates.get_or_make(key(100), || 100), None);
        assert_eq!(
            templates.get_or_make(key(3), || 0),
            Some(&3),
            "kept ones stay"
        );
    }

    #[test]
    fn a_clone_makes_its_answers_again() {
        let templates = AnswerTemplates::default();
        templates.get_or_make(key(7), || String::from("seven"));
        let copy = templates.clone();
        let answer = copy.get_or_make(key(7), || String::from("made again"));
        assert_eq!(answer.map(String::as_str), Some("made again"));
        let answer = templates.get_or_make(key(7), || String::from("not made"));
        assert_eq!(answer.map(String::as_str), Some("seven"));
    }
}
