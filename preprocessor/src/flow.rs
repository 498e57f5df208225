//! Flow collections: YAML `{…}` / `[…]` and whole JSON documents, with key paths and spans.
//!
//! JSON is scanned by the same code in a strict mode (double-quoted keys, no comments, no
//! plain scalars other than numbers, `true`, `false` and `null`).

use std::ops::Range;

use crate::error::{RawError, RawResult};
use crate::scalar;
use crate::tree::{Key, Node, NodeKind, ScalarStyle, TreeSink};
use crate::yaml::MAX_DEPTH;

pub(crate) struct Flow<'a, 'p, S> {
    s: &'a [u8],
    text: &'a str,
    path: &'p mut Vec<Key<'a>>,
    sink: &'p mut S,
    json: bool,
    depth: usize,
    quiet: usize,
    /// The anchor of the last node scanned without being reported (a scalar sequence item is
    /// scanned first, then reported once it is known not to be a key).
    held_anchor: Option<&'a str>,
}

/// Scans a whole JSON document from byte `start`.
pub(crate) fn scan_json<'a, S: TreeSink<'a>>(
    text: &'a str,
    start: usize,
    sink: &mut S,
) -> RawResult<()> {
    let mut path = Vec::new();
    let mut f = Flow::new(text, &mut path, sink, true, 0);
    let p = f.ws(start);
    if p >= text.len() {
        return Err(RawError::new(
            p,
            "expected a JSON value, found the end of the input",
        ));
    }
    let (e, _) = f.node(p, None, true)?;
    let q = f.ws(e);
    if q < text.len() {
        return Err(RawError::new(
            q,
            "expected the end of the input after the JSON value",
        ));
    }
    Ok(())
}

#[inline]
fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

impl<'a, 'p, S: TreeSink<'a>> Flow<'a, 'p, S> {
    pub fn new(
        text: &'a str,
        path: &'p mut Vec<Key<'a>>,
        sink: &'p mut S,
        json: bool,
        depth: usize,
    ) -> Self {
        Flow {
            s: text.as_bytes(),
            text,
            path,
            sink,
            json,
            depth,
            quiet: 0,
            held_anchor: None,
        }
    }

    /// Scans the flow node at `p` (a YAML value already preceded by `tag`); returns its end.
    pub fn node_with_tag(&mut self, p: usize, tag: Option<Range<usize>>) -> RawResult<usize> {
        Ok(self.node(p, tag, true)?.0)
    }

    #[inline]
    fn at(&self, i: usize) -> u8 {
        if i < self.s.len() { self.s[i] } else { 0 }
    }

    fn report(&mut self, node: &Node) {
        if self.quiet == 0 {
            self.sink.node(self.path, node);
        }
    }

    /// Skips whitespace, line breaks and (YAML) comments.
    fn ws(&self, mut p: usize) -> usize {
        let len = self.s.len();
        while p < len {
            match self.s[p] {
                b' ' | b'\t' | b'\r' | b'\n' => p += 1,
                b'#' if !self.json => {
                    p = memchr::memchr(b'\n', &self.s[p..]).map_or(len, |n| p + n);
                }
                _ => break,
            }
        }
        p
    }

    fn token_end(&self, mut i: usize) -> usize {
        while i < self.s.len()
            && !matches!(self.s[i], b' ' | b'\t' | b'\r' | b'\n')
            && !is_flow_indicator(self.s[i])
        {
            i += 1;
        }
        i
    }

    /// Scans one node; returns its end and, for scalars and aliases, the node itself.
    fn node(
        &mut self,
        p: usize,
        tag: Option<Range<usize>>,
        emit: bool,
    ) -> RawResult<(usize, Option<Node>)> {
        let mut p = self.ws(p);
        let mut tag = tag;
        let start = p;
        if !self.json {
            loop {
                match self.at(p) {
                    b'!' => {
                        let e = self.token_end(p);
                        tag = Some(p..e);
                        p = self.ws(e);
                    }
                    b'&' => {
                        let e = self.token_end(p);
                        let name = &self.text[p + 1..e];
                        if self.quiet == 0 && emit {
                            self.sink.anchor(name);
                        } else {
                            self.held_anchor = Some(name);
                        }
                        p = self.ws(e);
                    }
                    _ => break,
                }
            }
        }
        if p >= self.s.len() {
            return Err(RawError::new(
                p,
                "expected a value, found the end of the input",
            ));
        }
        let c = self.s[p];
        if p > start && matches!(c, b',' | b']' | b'}') {
            // `&a` or `!t` with no content: an empty (null) node that has properties.
            let node = Node {
                kind: NodeKind::Scalar(ScalarStyle::Empty),
                span: p..p,
                tag,
            };
            if emit {
                self.report(&node);
            }
            return Ok((p, Some(node)));
        }
        if c == b'{' || c == b'[' {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(RawError::new(
                    p,
                    format!("nesting deeper than {MAX_DEPTH} levels"),
                ));
            }
            let kind = if c == b'{' {
                NodeKind::Mapping
            } else {
                NodeKind::Sequence
            };
            if emit {
                self.report(&Node {
                    kind,
                    span: p..p,
                    tag,
                });
            } else {
                self.quiet += 1;
            }
            let e = if c == b'{' {
                self.mapping(p + 1, p)?
            } else {
                self.sequence(p + 1, p)?
            };
            if !emit {
                self.quiet -= 1;
            }
            self.depth -= 1;
            return Ok((e, None));
        }
        let (e, kind) = match c {
            b'"' => (
                scalar::double_quoted_end(self.s, p)?,
                NodeKind::Scalar(ScalarStyle::Double),
            ),
            b'\'' if !self.json => (
                scalar::single_quoted_end(self.s, p)?,
                NodeKind::Scalar(ScalarStyle::Single),
            ),
            b'*' if !self.json => (self.token_end(p), NodeKind::Alias),
            _ if self.json => {
                let mut e = p;
                while e < self.s.len()
                    && matches!(self.s[e], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'+' | b'-')
                {
                    e += 1;
                }
                if e == p {
                    return Err(RawError::new(
                        p,
                        "expected a JSON value (string, number, object, array, true, false or null)",
                    ));
                }
                (e, NodeKind::Scalar(ScalarStyle::Plain))
            }
            b',' | b']' | b'}' => {
                return Err(RawError::new(
                    p,
                    format!("expected a value, found `{}`", c as char),
                ));
            }
            _ => (self.plain_end(p), NodeKind::Scalar(ScalarStyle::Plain)),
        };
        let node = Node {
            kind,
            span: p..e,
            tag,
        };
        if emit {
            self.report(&node);
        }
        Ok((e, Some(node)))
    }

    /// End of a plain scalar in flow context (may continue over line breaks).
    fn plain_end(&self, p: usize) -> usize {
        let len = self.s.len();
        let mut i = p;
        let mut end = p;
        while i < len {
            match self.s[i] {
                b',' | b'[' | b']' | b'{' | b'}' => break,
                b':' if i + 1 >= len
                    || matches!(self.s[i + 1], b' ' | b'\t' | b'\r' | b'\n')
                    || is_flow_indicator(self.s[i + 1]) =>
                {
                    break;
                }
                b'#' if i > p && matches!(self.s[i - 1], b' ' | b'\t' | b'\r' | b'\n') => break,
                b'\r' | b'\n' => {
                    let mut j = i;
                    while j < len && matches!(self.s[j], b' ' | b'\t' | b'\r' | b'\n') {
                        j += 1;
                    }
                    if j >= len
                        || matches!(self.s[j], b',' | b'[' | b']' | b'{' | b'}' | b'#' | b':')
                    {
                        break;
                    }
                    i = j;
                }
                b' ' | b'\t' => i += 1,
                _ => {
                    i += 1;
                    end = i;
                }
            }
        }
        end
    }

    fn key_of(&self, node: Option<&Node>) -> Key<'a> {
        match node {
            Some(Node {
                kind: NodeKind::Scalar(style),
                span,
                ..
            }) => scalar::key(self.text, *style, span.clone()),
            _ => Key::Complex,
        }
    }

    /// The value after a key's `:` at `q` (or an absent value), reported under `key`.
    fn entry_value(&mut self, q: usize, key: Key<'a>, close: u8) -> RawResult<usize> {
        self.path.push(key);
        let q = self.ws(q);
        let r = if !self.json && (self.at(q) == b',' || self.at(q) == close) {
            self.report(&Node {
                kind: NodeKind::Scalar(ScalarStyle::Empty),
                span: q..q,
                tag: None,
            });
            Ok(q)
        } else {
            self.node(q, None, true).map(|(e, _)| e)
        };
        self.path.pop();
        r
    }

    fn mapping(&mut self, mut p: usize, open: usize) -> RawResult<usize> {
        loop {
            p = self.ws(p);
            match self.at(p) {
                b'}' if self.json
                    && p > open + 1
                    && self.s[..p].iter().rev().find(|b| !b.is_ascii_whitespace())
                        == Some(&b',') =>
                {
                    return Err(RawError::new(
                        p,
                        "expected a key after `,` (JSON allows no trailing comma)",
                    ));
                }
                b'}' => return Ok(p + 1),
                _ if p >= self.s.len() => {
                    return Err(RawError::new(
                        open,
                        "unterminated flow mapping: expected `}`",
                    ));
                }
                b'?' if !self.json && matches!(self.at(p + 1), b' ' | b'\t' | b'\r' | b'\n') => {
                    p += 1
                }
                _ => {}
            }
            self.quiet += 1;
            let (e, k) = self.node(p, None, false)?;
            self.quiet -= 1;
            if self.json
                && !matches!(
                    k,
                    Some(Node {
                        kind: NodeKind::Scalar(ScalarStyle::Double),
                        ..
                    })
                )
            {
                return Err(RawError::new(p, "expected a string key in double quotes"));
            }
            let key = self.key_of(k.as_ref());
            let mut q = self.ws(e);
            if self.at(q) == b':' {
                q = self.entry_value(q + 1, key, b'}')?;
            } else if self.json {
                return Err(RawError::new(q, "expected `:` after the key"));
            } else {
                self.path.push(key);
                self.report(&Node {
                    kind: NodeKind::Scalar(ScalarStyle::Empty),
                    span: q..q,
                    tag: None,
                });
                self.path.pop();
            }
            q = self.ws(q);
            match self.at(q) {
                b',' => p = q + 1,
                b'}' => return Ok(q + 1),
                _ if q >= self.s.len() => {
                    return Err(RawError::new(
                        open,
                        "unterminated flow mapping: expected `}`",
                    ));
                }
                _ => return Err(RawError::new(q, "expected `,` or `}` in the mapping")),
            }
        }
    }

    fn sequence(&mut self, mut p: usize, open: usize) -> RawResult<usize> {
        loop {
            p = self.ws(p);
            match self.at(p) {
                b']' if self.json
                    && p > open + 1
                    && self.s[..p].iter().rev().find(|b| !b.is_ascii_whitespace())
                        == Some(&b',') =>
                {
                    return Err(RawError::new(
                        p,
                        "expected a value after `,` (JSON allows no trailing comma)",
                    ));
                }
                b']' => return Ok(p + 1),
                _ if p >= self.s.len() => {
                    return Err(RawError::new(
                        open,
                        "unterminated flow sequence: expected `]`",
                    ));
                }
                _ => {}
            }
            self.path.push(Key::Index);
            // What the item is, past its tag and anchor.
            let mut first = p;
            while !self.json && matches!(self.at(first), b'!' | b'&') {
                first = self.ws(self.token_end(first));
            }
            let q = if !self.json && !matches!(self.at(first), b'[' | b'{') {
                // A scalar item may turn out to be the key of a one-pair mapping (`[a: b]`).
                self.quiet += 1;
                self.held_anchor = None;
                let r = self.node(p, None, false);
                self.quiet -= 1;
                let (e, k) = match r {
                    Ok(v) => v,
                    Err(err) => {
                        self.path.pop();
                        return Err(err);
                    }
                };
                let q = self.ws(e);
                if self.at(q) == b':' {
                    self.report(&Node {
                        kind: NodeKind::Mapping,
                        span: p..p,
                        tag: None,
                    });
                    let key = self.key_of(k.as_ref());
                    self.entry_value(q + 1, key, b']')
                } else {
                    if let Some(node) = k {
                        if let Some(a) = self.held_anchor.take()
                            && self.quiet == 0
                        {
                            self.sink.anchor(a);
                        }
                        self.report(&node);
                    }
                    Ok(q)
                }
            } else {
                self.node(p, None, true).map(|(e, _)| e)
            };
            self.path.pop();
            let q = self.ws(q?);
            match self.at(q) {
                b',' => p = q + 1,
                b']' => return Ok(q + 1),
                _ if q >= self.s.len() => {
                    return Err(RawError::new(
                        open,
                        "unterminated flow sequence: expected `]`",
                    ));
                }
                _ => return Err(RawError::new(q, "expected `,` or `]` in the sequence")),
            }
        }
    }
}
