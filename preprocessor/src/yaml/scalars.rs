//! Plain and block scalars in YAML block context: where they end (over continuation lines and
//! block scalar indentation) and the checks that go with them.

use super::{Yaml, is_blank};
use crate::error::{RawError, RawResult};
use crate::tree::{Chomp, Node, NodeKind, ScalarStyle, TreeSink};

impl<'a, S: TreeSink<'a>> Yaml<'a, '_, S> {
    /// End of a plain scalar's text on the line starting at `q`: (text end, has comment,
    /// start of the next line).
    #[inline]
    pub(super) fn plain_line_end(&self, q: usize) -> (usize, bool, usize) {
        let nl = memchr::memchr(b'\n', &self.s[q..]).map_or(self.s.len(), |n| q + n);
        let next = (nl + 1).min(self.s.len());
        let le = if nl > q && self.s[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let seg = &self.s[q..le];
        let mut end = le;
        let mut comment = false;
        for h in memchr::memchr_iter(b'#', seg) {
            if h > 0 && is_blank(seg[h - 1]) {
                end = q + h;
                comment = true;
                break;
            }
        }
        while end > q && is_blank(self.s[end - 1]) {
            end -= 1;
        }
        (end, comment, next)
    }

    /// A `: ` inside a plain scalar in block context is an error (a key where none may be).
    fn no_mapping_value(&self, from: usize, to: usize) -> RawResult<()> {
        for c in memchr::memchr_iter(b':', &self.s[from..to]) {
            let i = from + c;
            if i + 1 >= to || is_blank(self.s[i + 1]) {
                return Err(RawError::new(
                    i,
                    "a `key: value` is not allowed inside this value; check the indentation or quote the value",
                ));
            }
        }
        Ok(())
    }

    pub(super) fn plain(
        &mut self,
        q: usize,
        parent: isize,
        tag: Option<std::ops::Range<usize>>,
    ) -> RawResult<usize> {
        let (mut end, mut comment, mut next) = self.plain_line_end(q);
        self.no_mapping_value(q, end)?;
        let len = self.s.len();
        while !comment {
            // Skip blank lines, then see whether the next line continues this scalar.
            let mut r = next;
            let (ind, c) = loop {
                if r >= len {
                    break (0, b'\n');
                }
                let mut i = r;
                while i < len && self.s[i] == b' ' {
                    i += 1;
                }
                // A line of blanks (tabs included) is an empty line here.
                let mut j = i;
                while j < len && is_blank(self.s[j]) {
                    j += 1;
                }
                let c = self.at(j);
                if (c == b'\n' || c == b'\r' && self.eol_or_comment(j)) && j < len {
                    r = self.next_line(j);
                    continue;
                }
                break (i - r, if i < len { c } else { b'\n' });
            };
            if r >= len || (ind as isize) <= parent || c == b'#' || c == b'\n' {
                break;
            }
            if ind == 0
                && (self.s[r..].starts_with(b"---") || self.s[r..].starts_with(b"..."))
                && self.ws_or_eol(r + 3)
            {
                break;
            }
            let (e, cm, nx) = self.plain_line_end(r + ind);
            if e == r + ind {
                break;
            }
            self.no_mapping_value(r + ind, e)?;
            end = e;
            comment = cm;
            next = nx;
        }
        self.emit(Node {
            kind: NodeKind::Scalar(ScalarStyle::Plain),
            span: q..end,
            tag,
        });
        Ok(next)
    }

    pub(super) fn block_scalar(
        &mut self,
        q: usize,
        parent: isize,
        tag: Option<std::ops::Range<usize>>,
    ) -> RawResult<usize> {
        let literal = self.s[q] == b'|';
        let mut chomp = Chomp::Clip;
        let mut explicit: Option<usize> = None;
        let mut i = q + 1;
        for _ in 0..2 {
            match self.at(i) {
                b'-' => chomp = Chomp::Strip,
                b'+' => chomp = Chomp::Keep,
                d @ b'1'..=b'9' => explicit = Some((d - b'0') as usize),
                _ => break,
            }
            i += 1;
        }
        let h = self.skip_blanks(i);
        if !self.eol_or_comment(h) {
            return Err(RawError::new(
                h,
                "expected a line break or a comment after the block scalar header",
            ));
        }
        if self.at(h) == b'#' && h == i {
            return Err(RawError::new(
                h,
                "a comment after a block scalar header needs a space before `#`",
            ));
        }
        let len = self.s.len();
        let content_start = self.next_line(h);
        let m = match explicit {
            Some(d) => parent.max(0) as usize + d,
            None => {
                let mut r = content_start;
                let mut m = 0;
                while r < len {
                    let mut k = r;
                    while k < len && self.s[k] == b' ' {
                        k += 1;
                    }
                    if k >= len {
                        break;
                    }
                    if self.s[k] == b'\n' || self.s[k] == b'\r' && self.at(k + 1) == b'\n' {
                        r = self.next_line(k);
                        continue;
                    }
                    m = k - r;
                    break;
                }
                m
            }
        };
        let mut end = content_start;
        let mut r = content_start;
        if (m as isize) > parent && m > 0 || parent < 0 {
            while r < len {
                let mut k = r;
                while k < len && self.s[k] == b' ' {
                    k += 1;
                }
                let c = self.at(k);
                if k >= len || c == b'\n' || c == b'\r' && self.at(k + 1) == b'\n' {
                    r = self.next_line(k);
                    continue;
                }
                if k - r < m || (m == 0 && parent < 0 && k == r && self.is_doc_marker(r)) {
                    break;
                }
                end = self.line_end(k);
                r = self.next_line(k);
            }
        }
        let next = if end == content_start {
            content_start
        } else {
            self.next_line(end)
        };
        let style = ScalarStyle::Block {
            literal,
            indent: m,
            chomp,
            header: q,
        };
        self.emit(Node {
            kind: NodeKind::Scalar(style),
            span: content_start..end,
            tag,
        });
        Ok(next)
    }

    fn is_doc_marker(&self, r: usize) -> bool {
        (self.s[r..].starts_with(b"---") || self.s[r..].starts_with(b"..."))
            && self.ws_or_eol(r + 3)
    }
}
