//! What the YAML and JSON scanners report: nodes at key paths, with exact byte spans.

use std::borrow::Cow;
use std::ops::Range;

/// One step of the path from the document root to a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Key<'a> {
    /// A mapping key that is a string (decoded).
    Str(Cow<'a, str>),
    /// A sequence item.
    Index,
    /// A mapping key that is not a scalar, or not known yet (explicit `?` keys).
    Complex,
}

impl Key<'_> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Key::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is(&self, s: &str) -> bool {
        self.as_str() == Some(s)
    }
}

/// How a block scalar drops or keeps its final line breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// How a scalar is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarStyle {
    /// Plain; span is the trimmed text (may span lines).
    Plain,
    /// `'…'`; span includes the quotes.
    Single,
    /// `"…"`; span includes the quotes.
    Double,
    /// `|` (literal) or `>` (folded) block scalar; span is the content lines (from the start of
    /// the first line after the header to the end of the last content line, without its line
    /// break); `header` is the offset of the `|` or `>`.
    Block {
        literal: bool,
        indent: usize,
        chomp: Chomp,
        header: usize,
    },
    /// No value at all (`key:` followed by nothing): YAML null. Span is empty.
    Empty,
}

/// The kind of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Scalar(ScalarStyle),
    Mapping,
    Sequence,
    Alias,
}

/// A node as reported to a [`TreeSink`]: collections are reported when they start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    /// For scalars see [`ScalarStyle`]; for collections and aliases the start offset (empty).
    pub span: Range<usize>,
    /// The tag's text (`!Ref`), if any.
    pub tag: Option<Range<usize>>,
}

/// Receives every node of a document in order, with its path.
pub(crate) trait TreeSink<'a> {
    /// A new document starts (YAML `---`); paths restart at the root.
    fn document(&mut self) {}
    /// A node at `path`.
    fn node(&mut self, path: &[Key<'a>], node: &Node);
    /// An anchor (`&name`, without the `&`): the next node reported carries it.
    fn anchor(&mut self, _name: &'a str) {}
}
