//! A fast, span-exact scanner of YAML block structure: reports every node with its key path.
//!
//! It reads line by line, keeping a stack of block mappings and sequences by indentation, and
//! hands flow collections (`{…}`, `[…]`) to [`crate::flow`]. It never builds a document tree.
//! Constructs that only matter for their content (block scalars, multi-line and quoted scalars,
//! comments) are skipped with `memchr`, which is where most of a template's bytes are.

use std::borrow::Cow;

use crate::error::{RawError, RawResult};
use crate::flow::Flow;
use crate::scalar;
use crate::tree::{Key, Node, NodeKind, ScalarStyle, TreeSink};

mod scalars;

/// Nesting limit for block and flow collections: deeper input is refused, never a stack overflow.
pub(crate) const MAX_DEPTH: usize = 512;

#[derive(Debug, Clone, Copy)]
struct Frame {
    indent: usize,
    seq: bool,
    /// Whether the current key (or item) has its value yet.
    has_value: bool,
    /// Where an absent value would be (right after `:` or `-`).
    value_pos: usize,
    /// The current key came from an explicit `? key` line; its value follows on a `: ` line.
    explicit: bool,
}

/// Scans YAML `text` from byte `start` (after a BOM), reporting nodes to `sink`.
pub(crate) fn scan<'a, S: TreeSink<'a>>(
    text: &'a str,
    start: usize,
    sink: &mut S,
) -> RawResult<()> {
    // YAML also breaks lines at a lone CR (old Mac files); this scanner reads LF and CRLF only.
    let b = text.as_bytes();
    if let Some(at) = memchr::memchr_iter(b'\r', b).find(|&i| b.get(i + 1) != Some(&b'\n')) {
        return Err(RawError::new(
            at,
            "a line break written as a lone CR (old Mac line endings); convert the file to LF or CRLF line endings",
        ));
    }
    let mut y = Yaml {
        s: text.as_bytes(),
        text,
        sink,
        frames: Vec::new(),
        path: Vec::new(),
        pending_tag: None,
        root_done: false,
    };
    y.run(start)
}

struct Yaml<'a, 's, S> {
    s: &'a [u8],
    text: &'a str,
    sink: &'s mut S,
    frames: Vec<Frame>,
    path: Vec<Key<'a>>,
    pending_tag: Option<std::ops::Range<usize>>,
    /// Whether the current document already has its root node.
    root_done: bool,
}

#[inline]
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

impl<'a, S: TreeSink<'a>> Yaml<'a, '_, S> {
    #[inline]
    fn at(&self, i: usize) -> u8 {
        if i < self.s.len() { self.s[i] } else { b'\n' }
    }

    /// Whether `i` is at a space, tab, line break or the end.
    #[inline]
    fn ws_or_eol(&self, i: usize) -> bool {
        matches!(self.at(i), b' ' | b'\t' | b'\r' | b'\n')
    }

    #[inline]
    fn skip_blanks(&self, mut i: usize) -> usize {
        while i < self.s.len() && is_blank(self.s[i]) {
            i += 1;
        }
        i
    }

    /// Whether the line ends at `i` (after blanks): line break, end, or a comment.
    #[inline]
    fn eol_or_comment(&self, i: usize) -> bool {
        match self.at(i) {
            b'\n' | b'#' => true,
            b'\r' => self.at(i + 1) == b'\n' || i + 1 >= self.s.len(),
            _ => false,
        }
    }

    /// The start of the line after the one holding `i`.
    #[inline]
    fn next_line(&self, i: usize) -> usize {
        if i >= self.s.len() {
            return self.s.len();
        }
        memchr::memchr(b'\n', &self.s[i..]).map_or(self.s.len(), |n| i + n + 1)
    }

    /// End of the line holding `i` (the `\n` or the end), without a trailing `\r`.
    #[inline]
    fn line_end(&self, i: usize) -> usize {
        let nl =
            memchr::memchr(b'\n', &self.s[i.min(self.s.len())..]).map_or(self.s.len(), |n| i + n);
        if nl > i && self.s[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        }
    }

    fn run(&mut self, mut pos: usize) -> RawResult<()> {
        let len = self.s.len();
        while pos < len {
            let line_start = pos;
            let mut p = pos;
            while p < len && self.s[p] == b' ' {
                p += 1;
            }
            let indent = p - line_start;
            if p >= len {
                break;
            }
            match self.s[p] {
                b'\n' | b'#' => {
                    pos = self.next_line(p);
                    continue;
                }
                b'\r' if self.eol_or_comment(p) => {
                    pos = self.next_line(p);
                    continue;
                }
                b'\t' => {
                    let q = self.skip_blanks(p);
                    if self.eol_or_comment(q) {
                        pos = self.next_line(q);
                        continue;
                    }
                    return Err(RawError::new(
                        p,
                        "a tab is not allowed in indentation; indent with spaces",
                    ));
                }
                _ => {}
            }
            if indent == 0 {
                let rest = &self.s[p..];
                if rest.starts_with(b"---") && self.ws_or_eol(p + 3) {
                    self.end_document();
                    self.sink.document();
                    let q = self.skip_blanks(p + 3);
                    pos = if self.eol_or_comment(q) {
                        self.next_line(q)
                    } else {
                        self.value(q, -1)?
                    };
                    continue;
                }
                if rest.starts_with(b"...") && self.ws_or_eol(p + 3) {
                    self.end_document();
                    pos = self.next_line(p);
                    continue;
                }
                if rest[0] == b'%' && self.frames.is_empty() {
                    pos = self.next_line(p);
                    continue;
                }
            }
            pos = self.structural(indent, p)?;
        }
        self.end_document();
        Ok(())
    }

    fn end_document(&mut self) {
        while !self.frames.is_empty() {
            self.pop();
        }
        self.pending_tag = None;
        self.root_done = false;
    }

    /// A node is about to start at the root: only one per document.
    fn root_node(&mut self, at: usize) -> RawResult<()> {
        if self.frames.is_empty() {
            if self.root_done {
                return Err(RawError::new(
                    at,
                    "a second top-level node: check the indentation, or separate documents with `---`",
                ));
            }
            self.root_done = true;
        }
        Ok(())
    }

    /// Reports an absent value of the innermost key or item, then drops that collection.
    fn pop(&mut self) {
        self.close_value();
        self.frames.pop();
        self.path.pop();
    }

    fn close_value(&mut self) {
        if let Some(f) = self.frames.last_mut()
            && !f.has_value
        {
            f.has_value = true;
            let at = f.value_pos;
            let tag = self.pending_tag.take();
            let node = Node {
                kind: NodeKind::Scalar(ScalarStyle::Empty),
                span: at..at,
                tag,
            };
            self.sink.node(&self.path, &node);
        }
    }

    /// Pops collections that end before a line at column `col`.
    fn pop_to(&mut self, col: usize, seq_line: bool) {
        while let Some(top) = self.frames.last() {
            if top.indent > col || (top.indent == col && top.seq && !seq_line) {
                self.pop();
            } else {
                break;
            }
        }
    }

    /// Reports a node that is the value of the innermost key or item (or the root).
    fn emit(&mut self, node: Node) {
        if let Some(f) = self.frames.last_mut() {
            f.has_value = true;
        }
        self.sink.node(&self.path, &node);
    }

    fn check_depth(&self, at: usize) -> RawResult<()> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(RawError::new(
                at,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn open(&mut self, col: usize, seq: bool, at: usize, key: Key<'a>) -> RawResult<()> {
        self.check_depth(at)?;
        self.root_node(at)?;
        if let Some(f) = self.frames.last()
            && f.has_value
        {
            let what = if seq {
                "a sequence item"
            } else {
                "a mapping key"
            };
            return Err(RawError::new(
                at,
                format!("{what} is not allowed here; check the indentation"),
            ));
        }
        let tag = self.pending_tag.take();
        let kind = if seq {
            NodeKind::Sequence
        } else {
            NodeKind::Mapping
        };
        self.emit(Node {
            kind,
            span: at..at,
            tag,
        });
        self.frames.push(Frame {
            indent: col,
            seq,
            has_value: false,
            value_pos: at,
            explicit: false,
        });
        self.path.push(key);
        Ok(())
    }

    fn set_key(&mut self, key: Key<'a>, at: usize) {
        self.close_value();
        if let Some(f) = self.frames.last_mut() {
            f.explicit = false;
        }
        if let Some(last) = self.path.last_mut() {
            *last = key;
        }
        if let Some(f) = self.frames.last_mut() {
            f.has_value = false;
            f.value_pos = at;
        }
    }

    /// A line whose content starts at `p`, column `col`.
    fn structural(&mut self, col: usize, p: usize) -> RawResult<usize> {
        let c = self.s[p];
        if c == b'-' && self.ws_or_eol(p + 1) {
            self.pop_to(col, true);
            match self.frames.last() {
                Some(f) if f.indent == col && f.seq => {
                    self.close_value();
                    if let Some(f) = self.frames.last_mut() {
                        f.has_value = false;
                        f.value_pos = p + 1;
                    }
                }
                _ => {
                    self.open(col, true, p, Key::Index)?;
                    if let Some(f) = self.frames.last_mut() {
                        f.value_pos = p + 1;
                    }
                }
            }
            let q = self.skip_blanks(p + 1);
            if self.eol_or_comment(q) {
                return Ok(self.next_line(q));
            }
            return self.inline_node(col + (q - p), q, col as isize);
        }
        if c == b'?' && self.ws_or_eol(p + 1) {
            // An explicit key: a one-line scalar is used as the key; anything else is skipped.
            let q = self.skip_blanks(p + 1);
            let key = self.explicit_key(q).unwrap_or(Key::Complex);
            self.pop_to(col, false);
            match self.frames.last() {
                Some(f) if f.indent == col && !f.seq => self.set_key(key, p),
                _ => self.open(col, false, p, key)?,
            }
            if let Some(f) = self.frames.last_mut() {
                f.explicit = true;
            }
            let len = self.s.len();
            let mut r = self.next_line(p);
            loop {
                let mut q = r;
                while q < len && self.s[q] == b' ' {
                    q += 1;
                }
                if q >= len {
                    return Ok(len);
                }
                if self.eol_or_comment(q) || q - r > col {
                    r = self.next_line(q);
                    continue;
                }
                return Ok(r);
            }
        }
        if c == b':'
            && self.ws_or_eol(p + 1)
            && let Some(f) = self.frames.last_mut()
            && f.indent == col
            && !f.seq
            && !f.has_value
            && f.explicit
        {
            f.explicit = false;
            // `: value`, `: key: value` (a compact mapping) or `: - item`.
            let q = self.skip_blanks(p + 1);
            if self.eol_or_comment(q) {
                return Ok(self.next_line(q));
            }
            return self.inline_node(col + (q - p), q, col as isize);
        }
        if let Some((key, after)) = self.parse_key(p)? {
            self.pop_to(col, false);
            match self.frames.last() {
                Some(f) if f.indent == col && !f.seq => self.set_key(key, after),
                _ => {
                    self.open(col, false, p, key)?;
                    if let Some(f) = self.frames.last_mut() {
                        f.value_pos = after;
                    }
                }
            }
            return self.after_colon(after, col);
        }
        self.pop_to(col, false);
        let parent = match self.frames.last() {
            None => -1,
            Some(f) if !f.has_value && f.indent < col => f.indent as isize,
            Some(f) if !f.has_value && f.seq && f.indent == col => f.indent as isize,
            Some(_) => {
                return Err(RawError::new(
                    p,
                    "expected a mapping key (`key: value`) or a sequence item (`- value`)",
                ));
            }
        };
        self.value(p, parent)
    }

    /// After `- ` on a line: a nested sequence, a compact mapping or a value.
    fn inline_node(&mut self, col: usize, q: usize, parent: isize) -> RawResult<usize> {
        if self.s[q] == b'-' && self.ws_or_eol(q + 1) {
            self.open(col, true, q, Key::Index)?;
            if let Some(f) = self.frames.last_mut() {
                f.value_pos = q + 1;
            }
            let r = self.skip_blanks(q + 1);
            if self.eol_or_comment(r) {
                return Ok(self.next_line(r));
            }
            return self.inline_node(col + (r - q), r, col as isize);
        }
        if let Some((key, after)) = self.parse_key(q)? {
            self.open(col, false, q, key)?;
            if let Some(f) = self.frames.last_mut() {
                f.value_pos = after;
            }
            return self.after_colon(after, col);
        }
        self.value(q, parent)
    }

    fn after_colon(&mut self, after: usize, col: usize) -> RawResult<usize> {
        let q = self.skip_blanks(after);
        if self.eol_or_comment(q) {
            return Ok(self.next_line(q));
        }
        self.value(q, col as isize)
    }

    /// The key of `? key` when it is a scalar alone on its line.
    fn explicit_key(&self, mut q: usize) -> Option<Key<'a>> {
        if self.s[q..].starts_with(b"!!str") && matches!(self.at(q + 5), b' ' | b'\t') {
            q = self.skip_blanks(q + 5);
        }
        let (style, end) = match self.at(q) {
            b'"' => (
                ScalarStyle::Double,
                scalar::double_quoted_end(self.s, q).ok()?,
            ),
            b'\'' => (
                ScalarStyle::Single,
                scalar::single_quoted_end(self.s, q).ok()?,
            ),
            b'[' | b'{' | b'!' | b'&' | b'*' | b'|' | b'>' | b'#' | b'-' | b'\n' | b'\r' => {
                return None;
            }
            _ => {
                let (end, _, _) = self.plain_line_end(q);
                (ScalarStyle::Plain, end)
            }
        };
        let rest = self.skip_blanks(end);
        (self.eol_or_comment(rest) && !self.text[q..end].contains('\n'))
            .then(|| scalar::key(self.text, style, q..end))
    }

    /// If a `key:` starts at `p`, returns the key and the offset right after the `:`.
    fn parse_key(&mut self, p: usize) -> RawResult<Option<(Key<'a>, usize)>> {
        let s = self.s;
        match s[p] {
            b'"' | b'\'' => {
                let end = if s[p] == b'"' {
                    self.double_end(p)?
                } else {
                    self.single_end(p)?
                };
                let q = self.skip_blanks(end);
                if self.at(q) == b':' && self.ws_or_eol(q + 1) {
                    let style = if s[p] == b'"' {
                        ScalarStyle::Double
                    } else {
                        ScalarStyle::Single
                    };
                    return Ok(Some((scalar::key(self.text, style, p..end), q + 1)));
                }
                Ok(None)
            }
            b'[' | b'{' | b'!' | b'&' | b'*' | b'|' | b'>' | b'#' | b'%' | b'@' | b'`' => Ok(None),
            _ => {
                let mut i = p;
                let len = s.len();
                while i < len {
                    match s[i] {
                        b':' if self.ws_or_eol(i + 1) => {
                            let mut e = i;
                            while e > p && is_blank(s[e - 1]) {
                                e -= 1;
                            }
                            return Ok(Some((Key::Str(Cow::Borrowed(&self.text[p..e])), i + 1)));
                        }
                        b'\n' => return Ok(None),
                        b'#' if i > p && is_blank(s[i - 1]) => return Ok(None),
                        _ => {}
                    }
                    i += 1;
                }
                Ok(None)
            }
        }
    }

    fn double_end(&self, p: usize) -> RawResult<usize> {
        scalar::double_quoted_end(self.s, p)
    }

    fn single_end(&self, p: usize) -> RawResult<usize> {
        scalar::single_quoted_end(self.s, p)
    }

    /// Whatever follows a single-line node must be blanks and an optional comment.
    fn rest_of_line(&self, e: usize) -> RawResult<usize> {
        let q = self.skip_blanks(e);
        if self.eol_or_comment(q) && (q == e || self.at(q) != b'#' || is_blank(self.s[q - 1])) {
            return Ok(self.next_line(q));
        }
        Err(RawError::new(
            q,
            "expected a line break or a comment after the value",
        ))
    }

    /// A value node starting at `q`; `parent` is the indentation of the key or item it belongs to.
    fn value(&mut self, mut q: usize, parent: isize) -> RawResult<usize> {
        let mut tag = self.pending_tag.take();
        loop {
            match self.at(q) {
                b'!' => {
                    let e = self.token_end(q);
                    tag = Some(q..e);
                    q = self.skip_blanks(e);
                }
                b'&' => {
                    let e = self.token_end(q);
                    self.sink.anchor(&self.text[q + 1..e]);
                    q = self.skip_blanks(e);
                }
                _ => break,
            }
        }
        if self.eol_or_comment(q) {
            // `--- !!map` or `key: &a`: the node itself starts on a later line.
            self.pending_tag = tag;
            return Ok(self.next_line(q));
        }
        self.root_node(q)?;
        match self.s[q] {
            b'|' | b'>' => self.block_scalar(q, parent, tag),
            b'"' => {
                let e = self.double_end(q)?;
                self.emit(Node {
                    kind: NodeKind::Scalar(ScalarStyle::Double),
                    span: q..e,
                    tag,
                });
                self.rest_of_line(e)
            }
            b'\'' => {
                let e = self.single_end(q)?;
                self.emit(Node {
                    kind: NodeKind::Scalar(ScalarStyle::Single),
                    span: q..e,
                    tag,
                });
                self.rest_of_line(e)
            }
            b'[' | b'{' => {
                if let Some(f) = self.frames.last_mut() {
                    f.has_value = true;
                }
                let depth = self.frames.len();
                let mut flow = Flow::new(self.text, &mut self.path, &mut *self.sink, false, depth);
                let e = flow.node_with_tag(q, tag)?;
                self.rest_of_line(e)
            }
            b'*' => {
                let e = self.token_end(q);
                self.emit(Node {
                    kind: NodeKind::Alias,
                    span: q..e,
                    tag,
                });
                self.rest_of_line(e)
            }
            b'-' if self.ws_or_eol(q + 1) => Err(RawError::new(
                q,
                "a sequence item is not allowed here; start it on its own line",
            )),
            b'@' | b'`' => Err(RawError::new(
                q,
                format!(
                    "`{}` is reserved and cannot start a plain scalar; quote the value",
                    self.s[q] as char
                ),
            )),
            _ => self.plain(q, parent, tag),
        }
    }

    /// End of a tag or anchor token.
    fn token_end(&self, mut i: usize) -> usize {
        while i < self.s.len() && !matches!(self.s[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        i
    }
}
