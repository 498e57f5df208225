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

/// The value of a scalar as a YAML (or JSON) parser decodes it.
pub(crate) fn decode(text: &str, style: ScalarStyle, span: Range<usize>) -> String {
    let span_end = span.end;
    let raw = &text[span];
    match style {
        ScalarStyle::Empty => String::new(),
        ScalarStyle::Plain => fold_lines(raw),
        ScalarStyle::Single => fold_lines(&raw[1..raw.len() - 1]).replace("''", "'"),
        ScalarStyle::Double => decode_double(&raw[1..raw.len() - 1]),
        ScalarStyle::Block {
            literal,
            indent,
            chomp,
            ..
        } => {
            let mut v = decode_block(raw, literal, indent, chomp);
            if chomp == Chomp::Keep && !raw.is_empty() {
                // Keep: the blank lines after the content belong to the value.
                let rest = &text[span_end..];
                let rest = rest
                    .strip_prefix("\r\n")
                    .or_else(|| rest.strip_prefix('\n'))
                    .unwrap_or("");
                for line in rest.split_inclusive('\n') {
                    if line.ends_with('\n') && line.trim_matches([' ', '\r', '\n']).is_empty() {
                        v.push('\n');
                    } else {
                        break;
                    }
                }
            }
            v
        }
    }
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

/// Flow folding: line breaks between lines become a space, empty lines become `\n`; the
/// whitespace around each break is dropped.
fn fold_lines(raw: &str) -> String {
    if !raw.contains('\n') {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut lines = raw.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first.trim_end_matches([' ', '\t', '\r']));
    }
    let mut empty = 0;
    let rest: Vec<&str> = lines.collect();
    for (i, line) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let t = line.trim_start_matches([' ', '\t']);
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
        if empty == 0 {
            out.push(' ');
        } else {
            out.extend(std::iter::repeat_n('\n', empty));
        }
        empty = 0;
        out.push_str(t);
    }
    out
}

fn decode_double(inner: &str) -> String {
    let mut out = String::with_capacity(inner.len());
    let b = inner.as_bytes();
    let mut i = 0;
    let mut pending_ws = 0usize; // trailing blanks of the output that a line break would drop
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' if i + 1 < b.len() => {
                pending_ws = 0;
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
                    out.push(ch);
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
                        out.push('\\');
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
                match hex {
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
                            out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                        } else {
                            out.push('\u{fffd}');
                        }
                    }
                    Some(cp) => out.push(char::from_u32(cp).unwrap_or('\u{fffd}')),
                    None => out.push('\u{fffd}'),
                }
            }
            b'\r' | b'\n' => {
                // Unescaped line break: fold like flow scalars.
                out.truncate(out.len() - pending_ws);
                pending_ws = 0;
                let mut breaks = 0;
                while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
                    if b[i] == b'\n' {
                        breaks += 1;
                    }
                    i += 1;
                }
                if breaks <= 1 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', breaks - 1));
                }
            }
            _ => {
                // Copy a run of ordinary bytes.
                let start = i;
                while i < b.len() && !matches!(b[i], b'\\' | b'\r' | b'\n') {
                    i += 1;
                }
                let run = &inner[start..i];
                out.push_str(run);
                pending_ws = run.len() - run.trim_end_matches([' ', '\t']).len();
            }
        }
    }
    out
}

fn decode_block(raw: &str, literal: bool, indent: usize, chomp: Chomp) -> String {
    let lines: Vec<&str> = raw
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let strip = |l: &str| -> String {
        let n = l.bytes().take(indent).take_while(|&b| b == b' ').count();
        l[n..].to_string()
    };
    let mut out = String::new();
    if raw.is_empty() {
        return out;
    }
    if literal {
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&strip(l));
        }
    } else {
        let mut prev_more = false;
        let mut empties = 0;
        for (i, l) in lines.iter().enumerate() {
            let t = strip(l);
            if t.is_empty() {
                empties += 1;
                continue;
            }
            let more = t.starts_with([' ', '\t']);
            if i > 0 && !out.is_empty() {
                if !prev_more && !more {
                    if empties == 0 {
                        out.push(' ');
                    } else {
                        out.extend(std::iter::repeat_n('\n', empties));
                    }
                } else {
                    out.extend(std::iter::repeat_n('\n', empties + 1));
                }
            } else if empties > 0 {
                out.extend(std::iter::repeat_n('\n', empties));
            }
            empties = 0;
            prev_more = more;
            out.push_str(&t);
        }
    }
    match chomp {
        Chomp::Strip => {}
        Chomp::Clip | Chomp::Keep => out.push('\n'),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_quoted_scalars() {
        assert_eq!(decode_double(r"a\tb\u00e9\x41\ud83d\ude00"), "a\tbéA😀");
        assert_eq!(fold_lines("a\n  b\n\n  c"), "a b\nc");
        assert_eq!(decode_double("a \n  b"), "a b");
        assert_eq!(decode_double("a\\\n  b"), "ab");
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
        assert_eq!(decode_block("  a\n  b", true, 2, Chomp::Clip), "a\nb\n");
        assert_eq!(decode_block("  a\n  b", false, 2, Chomp::Strip), "a b");
        assert_eq!(decode_block("  a\n\n  b", false, 2, Chomp::Strip), "a\nb");
    }
}
