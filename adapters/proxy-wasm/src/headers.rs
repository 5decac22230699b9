//! A response's headers as the core edits them: the host's serialized map (or nothing, for a
//! local answer) plus what the core sets. A local answer's headers are serialized for
//! `proxy_send_local_response`; a forwarded response gets one host call per header the core set
//! or removed (measured in Envoy 1.40: cheaper than rewriting the whole map, which makes Envoy
//! rebuild every header). Nothing is copied until then, and the buffers are reused from one
//! response to the next, so an edit allocates nothing once they have grown.

use polycors::Policy;
use polycors::adapter::{FieldValue, HeaderField, PolicyField, ResponseHeaders, StaticValue};

use crate::host::{Host, HostStatus, Map};
use crate::wire;

/// A value the core set.
#[derive(Debug, Clone, Copy)]
enum Value {
    Static(StaticValue),
    Policy(PolicyField),
    Origin,
    /// A range of the scratch buffer (values computed for this response).
    Scratch(usize, usize),
}

/// The buffers an edit reuses.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    /// What the core set, in order; each replaces every line of its name.
    set: Vec<(HeaderField, Value)>,
    scratch: Vec<u8>,
    /// The serialized result.
    out: Vec<u8>,
}

/// A response's headers being written by the core.
pub(crate) struct Edit<'a> {
    buffers: &'a mut Buffers,
    /// The host's serialized map.
    source: &'a [u8],
    /// Lines of `source` whose names match this are removed.
    remove: Option<fn(&[u8]) -> bool>,
    policy: &'a Policy,
    origin: &'a [u8],
}

impl<'a> Edit<'a> {
    /// The headers of the host's serialized map `source` (empty for a local answer).
    pub(crate) fn new(
        buffers: &'a mut Buffers,
        source: &'a [u8],
        policy: &'a Policy,
        origin: &'a [u8],
    ) -> Self {
        buffers.set.clear();
        buffers.scratch.clear();
        Self {
            buffers,
            source,
            remove: None,
            policy,
            origin,
        }
    }

    fn value(&self, value: Value) -> &[u8] {
        match value {
            Value::Static(value) => value.as_str().as_bytes(),
            Value::Policy(field) => self
                .policy
                .fixed_value(field)
                .unwrap_or_default()
                .as_bytes(),
            Value::Origin => self.origin,
            Value::Scratch(start, end) => self.buffers.scratch.get(start..end).unwrap_or_default(),
        }
    }

    /// The lines of the source that are still there: not removed, not replaced.
    fn kept(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + Clone + '_ {
        wire::lines(self.source).filter(|(name, _)| {
            !self.remove.is_some_and(|remove| remove(name))
                && !self
                    .buffers
                    .set
                    .iter()
                    .any(|(set, _)| set.name().as_bytes().eq_ignore_ascii_case(name))
        })
    }

    /// Every line: the kept source lines in order, then what was set.
    fn lines(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone + '_ {
        self.kept().chain(
            self.buffers
                .set
                .iter()
                .map(|(field, value)| (field.name().as_bytes(), self.value(*value))),
        )
    }

    /// The value of the first line named `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.lines().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Writes the edit onto the host's response map: removes the source lines the core removed
    /// (and does not set again), sets what the core set.
    pub(crate) fn write_back(&self, host: &impl Host, map: Map) -> Result<(), HostStatus> {
        if let Some(remove) = self.remove {
            for (index, (name, _)) in wire::lines(self.source).enumerate() {
                let again = wire::lines(self.source)
                    .take(index)
                    .any(|(earlier, _)| earlier.eq_ignore_ascii_case(name));
                let set = self
                    .buffers
                    .set
                    .iter()
                    .any(|(set, _)| set.name().as_bytes().eq_ignore_ascii_case(name));
                if remove(name) && !again && !set {
                    host.remove_header(map, name)?;
                }
            }
        }
        for (field, value) in &self.buffers.set {
            host.set_header(map, field.name().as_bytes(), self.value(*value))?;
        }
        Ok(())
    }

    /// Serializes the lines, in the buffers' output buffer.
    pub(crate) fn serialize(self) -> &'a [u8] {
        let mut out = std::mem::take(&mut self.buffers.out);
        wire::serialize(self.lines(), &mut out);
        self.buffers.out = out;
        &self.buffers.out
    }
}

impl ResponseHeaders for Edit<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.lines() {
            f(name, value);
        }
    }

    fn remove_matching(&mut self, matches: fn(&[u8]) -> bool) {
        // The core removes one kind of header (`access-control-*`); what it sets afterwards
        // is kept.
        self.remove = Some(matches);
        self.buffers
            .set
            .retain(|(field, _)| !matches(field.name().as_bytes()));
    }

    fn set(&mut self, field: HeaderField, value: FieldValue<'_>) {
        let value = match value {
            FieldValue::Static(s) => Value::Static(s),
            FieldValue::Policy(field) => Value::Policy(field),
            FieldValue::RequestOrigin => Value::Origin,
            FieldValue::Bytes(bytes) => {
                let start = self.buffers.scratch.len();
                self.buffers.scratch.extend_from_slice(bytes);
                Value::Scratch(start, self.buffers.scratch.len())
            }
        };
        match self.buffers.set.iter_mut().find(|(set, _)| *set == field) {
            Some(slot) => slot.1 = value,
            None => self.buffers.set.push((field, value)),
        }
    }
}
