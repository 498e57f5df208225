//! What a Terraform expression at an image site is: a literal string, or why it is not one.

use std::ops::Range;

use crate::hcl;
use crate::site::NonLiteralKind;

/// The class of an HCL expression (relative spans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    /// A quoted string without templates.
    String { value: String },
    /// A heredoc without templates; `content` is relative to the expression.
    Heredoc {
        value: String,
        content: Range<usize>,
    },
    /// Not a literal.
    NonLiteral {
        kind: NonLiteralKind,
        name: Option<String>,
        inner: Option<String>,
    },
}

/// Decodes the content of an HCL quoted string (without the quotes).
pub(crate) fn decode_string(raw: &str) -> String {
    if !raw.contains(['\\', '$', '%']) {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len());
    let mut it = raw.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => match it.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, 't')) => out.push('\t'),
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((j, u @ ('u' | 'U'))) => {
                    let n = if u == 'u' { 4 } else { 8 };
                    let cp = raw
                        .get(j + 1..j + 1 + n)
                        .and_then(|h| u32::from_str_radix(h, 16).ok());
                    match cp.and_then(char::from_u32) {
                        Some(ch) => {
                            out.push(ch);
                            for _ in 0..n {
                                it.next();
                            }
                        }
                        None => out.push('\u{fffd}'),
                    }
                }
                Some((_, other)) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '$' | '%' if raw[i + 1..].starts_with(c) && raw[i + 2..].starts_with('{') => {
                out.push(c);
                out.push('{');
                it.next();
                it.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// Escapes `value` for the inside of an HCL quoted string.
pub(crate) fn escape_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Classifies the expression `e` (already trimmed).
pub(crate) fn classify(e: &str) -> Expr {
    let b = e.as_bytes();
    if b.first() == Some(&b'"')
        && let Ok((end, template)) = hcl::string_end(b, 0)
        && end == b.len()
    {
        let inner = &e[1..e.len() - 1];
        if !template {
            return Expr::String {
                value: decode_string(inner),
            };
        }
        // A whole-string interpolation `"${x}"` says what x is.
        let single = inner
            .strip_prefix("${")
            .and_then(|r| r.strip_suffix('}'))
            .map(str::trim);
        let (name, what) = match single.map(classify) {
            Some(Expr::NonLiteral { kind, name, .. }) => (name, Some(kind)),
            _ => (None, None),
        };
        return Expr::NonLiteral {
            kind: NonLiteralKind::Interpolation,
            name,
            inner: what
                .map(|k| k.as_str().to_string())
                .or(single.map(str::to_string)),
        };
    }
    if b.starts_with(b"<<")
        && let Ok((content, end)) = hcl::heredoc(b, 0)
        && end == b.len()
    {
        let text = &e[content.clone()];
        if !has_template(text) {
            return Expr::Heredoc {
                value: heredoc_value(text, b.get(2) == Some(&b'-')),
                content,
            };
        }
        return Expr::NonLiteral {
            kind: NonLiteralKind::Interpolation,
            name: None,
            inner: None,
        };
    }
    if has_top_level(b, b'?') {
        return Expr::NonLiteral {
            kind: NonLiteralKind::Conditional,
            name: None,
            inner: None,
        };
    }
    let ident_len = b
        .iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        .count();
    if ident_len > 0 && !b[0].is_ascii_digit() {
        let rest = e[ident_len..].trim_start();
        let ident = &e[..ident_len];
        if rest.starts_with('(') {
            return Expr::NonLiteral {
                kind: NonLiteralKind::FunctionCall,
                name: Some(ident.to_string()),
                inner: None,
            };
        }
        if let Some(after) = rest.strip_prefix('.') {
            let segment = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect()
            };
            let mut attr = segment(after);
            if ident == "data" {
                // A data source is named by its type and name: `data.alicloud_images.default`.
                if let Some(rest) = after[attr.len()..].strip_prefix('.') {
                    attr = format!("{attr}.{}", segment(rest));
                }
            }
            let kind = match ident {
                "var" => NonLiteralKind::Var,
                "local" => NonLiteralKind::Local,
                "data" => NonLiteralKind::Data,
                "module" => NonLiteralKind::Module,
                "each" | "count" | "self" | "path" | "terraform" => NonLiteralKind::Other,
                _ => NonLiteralKind::ResourceAttr,
            };
            return Expr::NonLiteral {
                kind,
                name: Some(attr),
                inner: None,
            };
        }
    }
    Expr::NonLiteral {
        kind: NonLiteralKind::Other,
        name: None,
        inner: None,
    }
}

/// The literal a heredoc without templates stands for: its content, with the common
/// indentation removed for `<<-`, `$${`/`%%{` unescaped, and without the final line break(s)
/// (an image ID never ends with one; the line break stays in the template when it is rewritten).
fn heredoc_value(content: &str, flush: bool) -> String {
    let lines: Vec<&str> = content.split_inclusive('\n').collect();
    let indent = if flush {
        lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.bytes().take_while(|&c| c == b' ' || c == b'\t').count())
            .min()
            .unwrap_or(0)
    } else {
        0
    };
    let mut out = String::with_capacity(content.len());
    for l in lines {
        let n = l
            .bytes()
            .take(indent)
            .take_while(|&c| c == b' ' || c == b'\t')
            .count();
        out.push_str(&l[n..]);
    }
    let out = out.replace("$${", "${").replace("%%{", "%{");
    out.trim_end_matches(['\n', '\r']).to_string()
}

/// Whether `text` holds an unescaped `${` or `%{`.
pub(crate) fn has_template(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 1 < b.len() {
        if (b[i] == b'$' || b[i] == b'%') && b[i + 1] == b'{' {
            return true;
        }
        if (b[i] == b'$' || b[i] == b'%') && b[i + 1] == b[i] {
            i += 2;
            continue;
        }
        i += 1;
    }
    false
}

/// Whether `c` occurs outside strings and brackets.
fn has_top_level(b: &[u8], c: u8) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => match hcl::string_end(b, i) {
                Ok((e, _)) => {
                    i = e;
                    continue;
                }
                Err(_) => return false,
            },
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            x if x == c && depth == 0 => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

/// The reason a non-literal cannot be associated, and a hint.
pub(crate) fn explain(
    kind: NonLiteralKind,
    name: Option<&str>,
    default: Option<Option<&str>>,
) -> (String, Option<String>) {
    const LIMIT: &str = "Compute Nest associates only literal image IDs";
    let n = name.unwrap_or("");
    match kind {
        NonLiteralKind::Var => (
            format!("`var.{n}` is an input variable set at plan time; {LIMIT}"),
            Some(crate::site::default_hint("variable", n, default.flatten())),
        ),
        NonLiteralKind::Local => (
            format!("`local.{n}` is a computed local value; {LIMIT}"),
            Some(crate::site::default_hint("local value", n, default.flatten())),
        ),
        NonLiteralKind::Data => (
            format!("reads the data source `data.{n}` at plan time; {LIMIT}"),
            Some("write the image ID (or the image name the package is associated with) as a literal string".into()),
        ),
        NonLiteralKind::Module => (format!("a module output is computed; {LIMIT}"), None),
        NonLiteralKind::ResourceAttr => (
            format!("refers to another resource's attribute, known only after apply; {LIMIT}"),
            None,
        ),
        NonLiteralKind::Interpolation => (
            format!("a string with `${{…}}` or `%{{…}}` interpolation is computed; {LIMIT}"),
            Some("write the image ID as a plain literal string".into()),
        ),
        NonLiteralKind::FunctionCall => (format!("the function call `{n}(…)` is computed; {LIMIT}"), None),
        NonLiteralKind::Conditional => (
            format!("a conditional picks its value at plan time; {LIMIT}"),
            Some("write one literal image ID here; the registry maps it per region".into()),
        ),
        _ => (format!("not a literal string; {LIMIT}"), None),
    }
}
