//! Line and column of a field path in a YAML or JSON file, for findings the core names by
//! path. serde's parsers keep no positions, so the file is read a second time with an event
//! parser that does (yaml-rust2); a file it cannot read simply has no positions.

use std::collections::HashMap;

use polycors::document::{FieldPath, Segment};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Positions of every key and list item of every document of a file.
#[derive(Debug, Default)]
pub struct Positions {
    /// (document index, path) -> 1-based (line, column) of the key, or of the item.
    at: HashMap<(usize, Vec<Segment>), (usize, usize)>,
}

impl Positions {
    /// Reads the positions of `bytes` (UTF-8 YAML or JSON).
    pub fn of(bytes: &[u8]) -> Self {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Self::default();
        };
        let mut walker = Walker::default();
        if Parser::new_from_str(text).load(&mut walker, true).is_err() {
            return Self::default();
        }
        Self { at: walker.at }
    }

    /// The position of `path` in document `document`, or of its closest enclosing item that
    /// has one (an item of a comma-separated string is placed at its field).
    pub fn find(&self, document: usize, path: &FieldPath) -> Option<(usize, usize)> {
        let segments = path.segments();
        (1..=segments.len())
            .rev()
            .find_map(|len| self.at.get(&(document, segments[..len].to_vec())).copied())
    }
}

#[derive(Debug)]
enum Frame {
    /// A mapping; `key` is set between a key and its value.
    Mapping { key: Option<String> },
    /// A sequence, with the index of its next item.
    Sequence { next: usize },
}

/// Records the position of each node as the parser reports it.
#[derive(Debug, Default)]
struct Walker {
    document: Option<usize>,
    stack: Vec<Frame>,
    path: Vec<Segment>,
    at: HashMap<(usize, Vec<Segment>), (usize, usize)>,
    /// A block mapping that is a list item: the parser marks its start after its first key,
    /// so the item is placed at that key instead.
    mapping_item: Option<Vec<Segment>>,
}

impl Walker {
    /// Called at the start of every node: works out its path and whether it is a key.
    /// Returns `true` when the node is a mapping key (and so has no path of its own).
    fn node_start(&mut self, key_text: Option<&str>, mark: Marker) -> bool {
        let document = self.document.unwrap_or(0);
        match self.stack.last_mut() {
            Some(Frame::Mapping { key }) if key.is_none() => {
                // A key: its position is the field's.
                let text = key_text.unwrap_or_default().to_owned();
                if let Some(item) = self.mapping_item.take() {
                    self.at
                        .insert((document, item), (mark.line(), mark.col() + 1));
                }
                let mut path = self.path.clone();
                path.push(Segment::Key(text.clone()));
                self.at
                    .entry((document, path))
                    .or_insert((mark.line(), mark.col() + 1));
                *key = Some(text);
                true
            }
            Some(Frame::Mapping { key }) => {
                let text = key.take().unwrap_or_default();
                self.path.push(Segment::Key(text));
                false
            }
            Some(Frame::Sequence { next }) => {
                let index = *next;
                *next += 1;
                self.path.push(Segment::Index(index));
                self.at
                    .entry((document, self.path.clone()))
                    .or_insert((mark.line(), mark.col() + 1));
                false
            }
            None => false,
        }
    }

    /// A scalar or alias: a node that starts and ends at once.
    fn leaf(&mut self, key_text: Option<&str>, mark: Marker) {
        if !self.node_start(key_text, mark) {
            self.node_end();
        }
    }

    /// Called at the end of every node that is not a key.
    fn node_end(&mut self) {
        if !self.stack.is_empty() {
            self.path.pop();
        }
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::DocumentStart => {
                self.document = Some(self.document.map_or(0, |d| d + 1));
                self.stack.clear();
                self.path.clear();
            }
            Event::Scalar(text, ..) => self.leaf(Some(&text), mark),
            Event::Alias(_) => self.leaf(None, mark),
            Event::MappingStart(..) => {
                // A collection used as a key has no useful path; it is walked as a value.
                self.node_start(None, mark);
                if matches!(self.path.last(), Some(Segment::Index(_))) {
                    self.mapping_item = Some(self.path.clone());
                }
                self.stack.push(Frame::Mapping { key: None });
            }
            Event::SequenceStart(..) => {
                self.node_start(None, mark);
                self.stack.push(Frame::Sequence { next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                // An empty mapping item has no first key to place it at.
                self.mapping_item = None;
                self.stack.pop();
                self.node_end();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_items() {
        let text = "a: 1\nspec:\n  rules:\n    - x: [p, q]\n---\nb: 2\n";
        let positions = Positions::of(text.as_bytes());
        let at = |document: usize, segments: Vec<Segment>| {
            positions.at.get(&(document, segments)).copied()
        };
        let key = |k: &str| Segment::Key(k.to_owned());
        assert_eq!(at(0, vec![key("a")]), Some((1, 1)));
        assert_eq!(at(0, vec![key("spec"), key("rules")]), Some((3, 3)));
        assert_eq!(
            at(0, vec![key("spec"), key("rules"), Segment::Index(0)]),
            Some((4, 7))
        );
        assert_eq!(
            at(
                0,
                vec![
                    key("spec"),
                    key("rules"),
                    Segment::Index(0),
                    key("x"),
                    Segment::Index(1)
                ]
            ),
            Some((4, 14))
        );
        assert_eq!(at(1, vec![key("b")]), Some((6, 1)));
    }
}
