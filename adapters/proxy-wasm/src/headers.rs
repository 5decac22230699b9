//! A response's header lines as the core edits them: read from the host's serialized map (or
//! empty, for a local answer), edited in place, serialized back in one piece. The buffers are
//! reused from one response to the next, so editing allocates nothing once they have grown.

use polycors::Policy;
use polycors::adapter::{FieldValue, PolicyField, ResponseHeaders};

use crate::wire;

/// Where a line's bytes are.
#[derive(Debug, Clone, Copy)]
enum Bytes {
    /// A range of the host's serialized map.
    Source(usize, usize),
    /// A constant.
    Static(&'static str),
    /// A value the policy fixes.
    Policy(PolicyField),
    /// The request's `Origin`.
    Origin,
    /// A range of the scratch buffer (computed values).
    Scratch(usize, usize),
}

/// One header line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line {
    name: Bytes,
    value: Bytes,
    removed: bool,
}

/// The buffers an edit reuses.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    lines: Vec<Line>,
    scratch: Vec<u8>,
    /// The serialized result.
    pub(crate) out: Vec<u8>,
}

/// A response's headers being written by the core.
pub(crate) struct Edit<'a> {
    buffers: &'a mut Buffers,
    source: &'a [u8],
    policy: &'a Policy,
    origin: &'a [u8],
}

impl<'a> Edit<'a> {
    /// The lines of the host's serialized map `source` (empty for a local answer).
    pub(crate) fn new(
        buffers: &'a mut Buffers,
        source: &'a [u8],
        policy: &'a Policy,
        origin: &'a [u8],
    ) -> Self {
        buffers.lines.clear();
        buffers.scratch.clear();
        let base = source.as_ptr() as usize;
        let range = |part: &[u8]| {
            let start = part.as_ptr() as usize - base;
            Bytes::Source(start, start + part.len())
        };
        for (name, value) in wire::lines(source) {
            buffers.lines.push(Line {
                name: range(name),
                value: range(value),
                removed: false,
            });
        }
        Self {
            buffers,
            source,
            policy,
            origin,
        }
    }

    fn bytes(&self, bytes: Bytes) -> &[u8] {
        match bytes {
            Bytes::Source(start, end) => self.source.get(start..end).unwrap_or_default(),
            Bytes::Static(s) => s.as_bytes(),
            Bytes::Policy(field) => self
                .policy
                .fixed_value(field)
                .unwrap_or_default()
                .as_bytes(),
            Bytes::Origin => self.origin,
            Bytes::Scratch(start, end) => self.buffers.scratch.get(start..end).unwrap_or_default(),
        }
    }

    fn live(&self) -> impl Iterator<Item = (&[u8], &[u8])> + Clone {
        self.buffers
            .lines
            .iter()
            .filter(|line| !line.removed)
            .map(|line| (self.bytes(line.name), self.bytes(line.value)))
    }

    /// The value of the first line named `name`.
    pub(crate) fn get(&self, name: &[u8]) -> Option<&[u8]> {
        self.live().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Serializes the lines into the buffers' `out`.
    pub(crate) fn serialize(self) -> &'a [u8] {
        let mut out = std::mem::take(&mut self.buffers.out);
        wire::serialize(self.live(), &mut out);
        self.buffers.out = out;
        &self.buffers.out
    }
}

impl ResponseHeaders for Edit<'_> {
    fn for_each(&self, f: &mut dyn FnMut(&[u8], &[u8])) {
        for (name, value) in self.live() {
            f(name, value);
        }
    }

    fn remove_matching(&mut self, matches: &dyn Fn(&[u8]) -> bool) {
        for index in 0..self.buffers.lines.len() {
            let line = self.buffers.lines[index];
            if !line.removed && matches(self.bytes(line.name)) {
                self.buffers.lines[index].removed = true;
            }
        }
    }

    fn set(&mut self, name: &'static str, value: FieldValue<'_>) {
        let value = match value {
            FieldValue::Static(s) => Bytes::Static(s),
            FieldValue::Policy(field) => Bytes::Policy(field),
            FieldValue::RequestOrigin => Bytes::Origin,
            FieldValue::Bytes(bytes) => {
                let start = self.buffers.scratch.len();
                self.buffers.scratch.extend_from_slice(bytes);
                Bytes::Scratch(start, self.buffers.scratch.len())
            }
        };
        let mut found = false;
        for index in 0..self.buffers.lines.len() {
            let line = self.buffers.lines[index];
            if line.removed || !self.bytes(line.name).eq_ignore_ascii_case(name.as_bytes()) {
                continue;
            }
            if found {
                self.buffers.lines[index].removed = true;
            } else {
                self.buffers.lines[index].value = value;
                found = true;
            }
        }
        if !found {
            self.buffers.lines.push(Line {
                name: Bytes::Static(name),
                value,
                removed: false,
            });
        }
    }
}
