//! YAML and JSON scalars: where quoted ones end, and their decoded values.

use std::borrow::Cow;
use std::ops::Range;

use crate::error::{RawError, RawResult};
use crate::tree::{Chomp, Key, ScalarStyle};

/// The offset just past the closing `"` of the double-quoted scalar opening at `p`.
pub(crate) fn double_quoted_end(s: &[u8], p: usize) -> RawResult<usize> {
    let mut i = p + 1;
    while let Some(n) = memchr::memchr2(b'"', b'\\', &s[i.min(s.len())..]) {
        let j = i + n;
        if s[j] == b'\\' {
            i = j + 2;
            continue;
        }
        return Ok(j + 1);
    }
    Err(RawError::new(
        p,
        "unterminated double-quoted string: expected a closing `\"`",
    ))
}

/// The offset just past the closing `'` of the single-quoted scalar opening at `p`.
pub(crate) fn single_quoted_end(s: &[u8], p: usize) -> RawResult<usize> {
    let mut i = p + 1;
    while let Some(n) = memchr::memchr(b'\'', &s[i.min(s.len())..]) {
        let j = i + n;
        if s.get(j + 1) == Some(&b'\'') {
            i = j + 2;
            continue;
        }
        return Ok(j + 1);
    }
    Err(RawError::new(
        p,
        "unterminated single-quoted string: expected a closing `'`",
    ))
}

/// A mapping key from a scalar; borrows when no decoding is needed.
pub(crate) fn key<'a>(text: &'a str, style: ScalarStyle, span: Range<usize>) -> Key<'a> {
    let raw = &text[span.clone()];
    let simple = match style {
        ScalarStyle::Plain => (!raw.contains('\n')).then_some(raw),
        ScalarStyle::Double => {
            let inner = &raw[1..raw.len() - 1];
            (!inner.contains(['\\', '\n'])).then_some(inner)
        }
        ScalarStyle::Single => {
            let inner = &raw[1..raw.len() - 1];
            (!inner.contains(['\'', '\n'])).then_some(inner)
        }
        ScalarStyle::Empty => Some(""),
        ScalarStyle::Block { .. } => None,
    };
    match simple {
        Some(s) => Key::Str(Cow::Borrowed(s)),
        None => Key::Str(Cow::Owned(decode(text, style, span))),
    }
}

/// A decoded scalar being built, optionally with the source offset of every byte.
pub(crate) struct Decoded {
    pub text: String,
    /// For every byte of `text`, the source offset it comes from (an escape or a folded line
    /// break maps all its bytes to where it starts). `None` when only the text is wanted.
    pub offsets: Option<Vec<u32>>,
}

impl Decoded {
    fn new(capacity: usize, mapped: bool) -> Self {
        Decoded {
            text: String::with_capacity(capacity),
            offsets: mapped.then(|| Vec::with_capacity(capacity + 1)),
        }
    }

    /// Source text copied verbatim from offset `from`.
    #[inline]
    fn copy(&mut self, s: &str, from: usize) {
        self.text.push_str(s);
        if let Some(o) = &mut self.offsets {
            o.extend((from..from + s.len()).map(|x| x as u32));
        }
    }

    /// Text made by decoding (an escape, a folded line break) whose source starts at `at`.
    #[inline]
    fn made(&mut self, s: &str, at: usize) {
        self.text.push_str(s);
        if let Some(o) = &mut self.offsets {
            o.extend(std::iter::repeat_n(at as u32, s.len()));
        }
    }

    fn made_n(&mut self, c: char, n: usize, at: usize) {
        for _ in 0..n {
            let mut b = [0u8; 4];
            self.made(c.encode_utf8(&mut b), at);
        }
    }

    fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        if let Some(o) = &mut self.offsets {
            o.truncate(len);
        }
    }
}

/// The value of a scalar as a YAML (or JSON) parser decodes it.
pub(crate) fn decode(text: &str, style: ScalarStyle, span: Range<usize>) -> String {
    if let ScalarStyle::Plain = style {
        let raw = &text[span.clone()];
        if !raw.contains('\n') {
            return raw.to_string();
        }
    }
    decode_into(text, style, span, false).text
}

/// Like [`decode`], with the source offset of every decoded byte (and one for the end).
pub(crate) fn decode_mapped(text: &str, style: ScalarStyle, span: Range<usize>) -> Decoded {
    let end = span.end;
    let mut d = decode_into(text, style, span, true);
    if let Some(o) = &mut d.offsets {
        o.push(end as u32);
    }
    d
}

fn decode_into(text: &str, style: ScalarStyle, span: Range<usize>, mapped: bool) -> Decoded {
    let span_end = span.end;
    let base = span.start;
    let raw = &text[span];
    let mut d = Decoded::new(raw.len(), mapped);
    match style {
        ScalarStyle::Empty => {}
        ScalarStyle::Plain => fold_lines(raw, base, false, &mut d),
        ScalarStyle::Single => fold_lines(&raw[1..raw.len() - 1], base + 1, true, &mut d),
        ScalarStyle::Double => decode_double(&raw[1..raw.len() - 1], base + 1, &mut d),
        ScalarStyle::Block {
            literal,
            indent,
            chomp,
            ..
        } => {
            decode_block(raw, base, literal, indent, chomp, &mut d);
            if chomp == Chomp::Keep && !raw.is_empty() {
                // Keep: the blank lines after the content belong to the value.
                let rest = &text[span_end..];
                let rest = rest
                    .strip_prefix("\r\n")
                    .or_else(|| rest.strip_prefix('\n'))
                    .unwrap_or("");
                for line in rest.split_inclusive('\n') {
                    if line.ends_with('\n') && line.trim_matches([' ', '\r', '\n']).is_empty() {
                        d.made("\n", span_end);
                    } else {
                        break;
                    }
                }
            }
        }
    }
    d
}

/// What a plain scalar is when it is not a string: YAML's core schema (which JSON's `null`,
/// `true`, `false` and numbers are part of), plus YAML 1.1's `yes`/`no`/`on`/`off`, which the
/// Python loaders behind ROS still read as booleans. `None` for a string.
pub(crate) fn plain_non_string(v: &str) -> Option<&'static str> {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return Some("null"),
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "yes" | "Yes" | "YES" | "no"
        | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF" => return Some("a boolean"),
        ".nan" | ".NaN" | ".NAN" => return Some("a number"),
        _ => {}
    }
    let b = v.as_bytes();
    let unsigned = match b[0] {
        b'+' | b'-' => &b[1..],
        _ => b,
    };
    if matches!(unsigned, b".inf" | b".Inf" | b".INF") {
        return Some("a number");
    }
    let hex = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_hexdigit);
    if let Some(d) = b.strip_prefix(b"0x") {
        return hex(d).then_some("a number");
    }
    if let Some(d) = b.strip_prefix(b"0o") {
        return (!d.is_empty() && d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .then_some("a number");
    }
    // [0-9]+ ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )?  or  . [0-9]+ ( … )?
    let mut i = 0;
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < unsigned.len() && unsigned[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    let int = digits(&mut i);
    let mut frac = 0;
    if i < unsigned.len() && unsigned[i] == b'.' {
        i += 1;
        frac = digits(&mut i);
    }
    if int == 0 && frac == 0 {
        return None;
    }
    if i < unsigned.len() && matches!(unsigned[i], b'e' | b'E') {
        i += 1;
        if i < unsigned.len() && matches!(unsigned[i], b'+' | b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    (i == unsigned.len()).then_some("a number")
}

/// Copies a piece of a single-quoted scalar, turning `''` into `'`.
fn copy_single(piece: &str, from: usize, d: &mut Decoded) {
    let mut at = 0;
    while let Some(n) = piece[at..].find("''") {
        d.copy(&piece[at..at + n + 1], from + at);
        at += n + 2;
    }
    d.copy(&piece[at..], from + at);
}

/// Flow folding: line breaks between lines become a space, empty lines become `\n`; the
/// whitespace around each break is dropped. `single` also turns `''` into `'`.
fn fold_lines(raw: &str, base: usize, single: bool, d: &mut Decoded) {
    let put = |d: &mut Decoded, piece: &str, from: usize| {
        if single {
            copy_single(piece, from, d)
        } else {
            d.copy(piece, from)
        }
    };
    if !raw.contains('\n') {
        put(d, raw, base);
        return;
    }
    let mut pos = 0; // offset in `raw` of the current line
    let mut prev_end = base; // where the text before the next line break ends
    let mut lines = raw.split('\n');
    if let Some(first) = lines.next() {
        let t = first.trim_end_matches([' ', '\t', '\r']);
        put(d, t, base);
        prev_end = base + t.len();
        pos = first.len() + 1;
    }
    let mut empty = 0;
    let rest: Vec<&str> = lines.collect();
    for (i, line) in rest.iter().enumerate() {
        let line_start = pos;
        pos += line.len() + 1;
        let last = i + 1 == rest.len();
        let t = line.trim_start_matches([' ', '\t']);
        let lead = line.len() - t.len();
        let t = if last {
            t
        } else {
            t.trim_end_matches([' ', '\t', '\r'])
        };
        let t = t.trim_end_matches('\r');
        if t.is_empty() && !last {
            empty += 1;
            continue;
        }
        // The break (and any empty lines) before this line: mapped to where the text before
        // it ends, so a value that ends at a line's end maps to that line only.
        if empty == 0 {
            d.made(" ", prev_end);
        } else {
            d.made_n('\n', empty, prev_end);
        }
        empty = 0;
        put(d, t, base + line_start + lead);
        prev_end = base + line_start + lead + t.len();
    }
}

fn decode_double(inner: &str, base: usize, d: &mut Decoded) {
    let b = inner.as_bytes();
    let mut i = 0;
    let mut pending_ws = 0usize; // trailing blanks of the output that a line break would drop
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' if i + 1 < b.len() => {
                pending_ws = 0;
                let at = base + i;
                let e = b[i + 1];
                i += 2;
                let simple = match e {
                    b'0' => Some('\0'),
                    b'a' => Some('\x07'),
                    b'b' => Some('\x08'),
                    b't' | b'\t' => Some('\t'),
                    b'n' => Some('\n'),
                    b'v' => Some('\x0b'),
                    b'f' => Some('\x0c'),
                    b'r' => Some('\r'),
                    b'e' => Some('\x1b'),
                    b' ' => Some(' '),
                    b'"' => Some('"'),
                    b'/' => Some('/'),
                    b'\\' => Some('\\'),
                    b'N' => Some('\u{85}'),
                    b'_' => Some('\u{a0}'),
                    b'L' => Some('\u{2028}'),
                    b'P' => Some('\u{2029}'),
                    _ => None,
                };
                if let Some(ch) = simple {
                    d.made_n(ch, 1, at);
                    continue;
                }
                let digits = match e {
                    b'x' => 2,
                    b'u' => 4,
                    b'U' => 8,
                    b'\r' | b'\n' => {
                        // Escaped line break: joins lines without a space.
                        if e == b'\r' && b.get(i) == Some(&b'\n') {
                            i += 1;
                        }
                        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                            i += 1;
                        }
                        continue;
                    }
                    _ => {
                        // Not an escape YAML knows: keep the backslash, copy what follows as is.
                        d.copy("\\", at);
                        i -= 1;
                        continue;
                    }
                };
                let hex = inner
                    .get(i..i + digits)
                    .and_then(|h| u32::from_str_radix(h, 16).ok());
                if hex.is_some() {
                    i += digits;
                }
                let ch = match hex {
                    Some(hi @ 0xD800..=0xDBFF) if digits == 4 => {
                        // A UTF-16 surrogate pair, as JSON writes characters outside the BMP.
                        let lo = (inner.get(i..i + 2) == Some("\\u"))
                            .then(|| {
                                inner
                                    .get(i + 2..i + 6)
                                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                            })
                            .flatten();
                        if let Some(lo @ 0xDC00..=0xDFFF) = lo {
                            i += 6;
                            let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                            char::from_u32(cp).unwrap_or('\u{fffd}')
                        } else {
                            '\u{fffd}'
                        }
                    }
                    Some(cp) => char::from_u32(cp).unwrap_or('\u{fffd}'),
                    None => '\u{fffd}',
                };
                d.made_n(ch, 1, at);
            }
            b'\r' | b'\n' => {
                // Unescaped line break: fold like flow scalars (mapped to where the kept text
                // before it ends).
                let at = base + i - pending_ws;
                d.truncate(d.text.len() - pending_ws);
                pending_ws = 0;
                let mut breaks = 0;
                while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
                    if b[i] == b'\n' {
                        breaks += 1;
                    }
                    i += 1;
                }
                if breaks <= 1 {
                    d.made(" ", at);
                } else {
                    d.made_n('\n', breaks - 1, at);
                }
            }
            _ => {
                // Copy a run of ordinary bytes.
                let start = i;
                while i < b.len() && !matches!(b[i], b'\\' | b'\r' | b'\n') {
                    i += 1;
                }
                let run = &inner[start..i];
                d.copy(run, base + start);
                pending_ws = run.len() - run.trim_end_matches([' ', '\t']).len();
            }
        }
    }
}

fn decode_block(
    raw: &str,
    base: usize,
    literal: bool,
    indent: usize,
    chomp: Chomp,
    d: &mut Decoded,
) {
    if raw.is_empty() {
        return;
    }
    // (offset in raw of the line's text after the indentation, the text)
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut pos = 0;
    for l in raw.split('\n') {
        let body = l.strip_suffix('\r').unwrap_or(l);
        let n = body.bytes().take(indent).take_while(|&b| b == b' ').count();
        lines.push((pos + n, &body[n..]));
        pos += l.len() + 1;
    }
    // A line break is mapped to where the text of the line before it ends.
    let end_of =
        |lines: &[(usize, &str)], i: usize| -> usize { base + lines[i].0 + lines[i].1.len() };
    let start_len = d.text.len();
    if literal {
        for (i, &(off, t)) in lines.iter().enumerate() {
            if i > 0 {
                let at = end_of(&lines, i - 1);
                d.made("\n", at);
            }
            d.copy(t, base + off);
        }
    } else {
        let mut prev_more = false;
        let mut empties = 0;
        let mut last_text = 0; // the last line with text
        for (i, &(off, t)) in lines.iter().enumerate() {
            if t.is_empty() {
                empties += 1;
                continue;
            }
            let at = if i > 0 {
                end_of(&lines, last_text)
            } else {
                base + off
            };
            let more = t.starts_with([' ', '\t']);
            if i > 0 && d.text.len() > start_len {
                if !prev_more && !more {
                    if empties == 0 {
                        d.made(" ", at);
                    } else {
                        d.made_n('\n', empties, at);
                    }
                } else {
                    d.made_n('\n', empties + 1, at);
                }
            } else if empties > 0 {
                d.made_n('\n', empties, at);
            }
            empties = 0;
            prev_more = more;
            last_text = i;
            d.copy(t, base + off);
        }
    }
    match chomp {
        Chomp::Strip => {}
        Chomp::Clip | Chomp::Keep => d.made("\n", base + raw.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_quoted_scalars() {
        let dq = |s: &str| {
            let mut d = Decoded::new(0, true);
            decode_double(s, 0, &mut d);
            assert_eq!(d.offsets.as_ref().map(Vec::len), Some(d.text.len()));
            d.text
        };
        let fold = |s: &str| {
            let mut d = Decoded::new(0, true);
            fold_lines(s, 0, false, &mut d);
            d.text
        };
        assert_eq!(dq(r"a\tb\u00e9\x41\ud83d\ude00"), "a\tbéA😀");
        assert_eq!(fold("a\n  b\n\n  c"), "a b\nc");
        assert_eq!(dq("a \n  b"), "a b");
        assert_eq!(dq("a\\\n  b"), "ab");
    }

    #[test]
    fn types_plain_scalars() {
        for (v, want) in [
            ("null", Some("null")),
            ("~", Some("null")),
            ("True", Some("a boolean")),
            ("off", Some("a boolean")),
            ("12345", Some("a number")),
            ("-1.5e3", Some("a number")),
            (".5", Some("a number")),
            ("1.", Some("a number")),
            ("0x1F", Some("a number")),
            ("0o17", Some("a number")),
            ("-.inf", Some("a number")),
            ("centos_7", None),
            ("1e", None),
            ("1.2.3", None),
            ("0x", None),
            ("m-123", None),
            ("-", None),
            (".", None),
            ("20G", None),
        ] {
            assert_eq!(plain_non_string(v), want, "{v}");
        }
    }

    #[test]
    fn decodes_block_scalars() {
        let block = |s: &str, literal, chomp| {
            let mut d = Decoded::new(0, true);
            decode_block(s, 0, literal, 2, chomp, &mut d);
            assert_eq!(d.offsets.as_ref().map(Vec::len), Some(d.text.len()));
            d.text
        };
        assert_eq!(block("  a\n  b", true, Chomp::Clip), "a\nb\n");
        assert_eq!(block("  a\n  b", false, Chomp::Strip), "a b");
        assert_eq!(block("  a\n\n  b", false, Chomp::Strip), "a\nb");
    }
}
