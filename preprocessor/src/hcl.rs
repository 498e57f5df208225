//! A fast, span-exact scanner of Terraform HCL: finds `image_id` arguments of `resource` blocks
//! (nested blocks included) and the defaults of variables and locals, without building a tree.
//!
//! It understands what can hide a brace or a line break: strings with `${…}` / `%{…}` templates
//! (nested, `$${` escapes), heredocs (`<<EOT`, `<<-EOT`), and `#`, `//`, `/* */` comments.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use crate::error::{RawError, RawResult};
use crate::yaml::MAX_DEPTH;

/// An `image_id` argument inside a `resource` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HclAttr<'a> {
    pub resource_type: Cow<'a, str>,
    pub name: Cow<'a, str>,
    /// Nested block path plus the argument (`image_id`, `manager.image_id`).
    pub property: Cow<'static, str>,
    /// The expression, trimmed.
    pub expr: Range<usize>,
}

/// What a scan of one HCL file found besides the sites (which go to the callback as found).
#[derive(Debug, Default)]
pub(crate) struct HclScan {
    /// `variable "x" { default = … }`: name → expression span.
    pub variables: HashMap<String, Range<usize>>,
    /// `locals { x = … }`: name → expression span.
    pub locals: HashMap<String, Range<usize>>,
}

#[derive(Clone)]
enum Ctx<'a> {
    Top,
    Resource {
        ty: Cow<'a, str>,
        name: Cow<'a, str>,
        nested: String,
    },
    Variable(String),
    Locals,
    Other,
}

/// Scans HCL `text` from byte `start`, handing each `image_id` of a resource to `on_site`.
pub(crate) fn scan<'a>(
    text: &'a str,
    start: usize,
    on_site: &mut dyn FnMut(HclAttr<'a>),
) -> RawResult<HclScan> {
    let mut h = Hcl {
        s: text.as_bytes(),
        text,
        out: HclScan::default(),
        on_site,
    };
    h.body(start, 0, &Ctx::Top, None)?;
    Ok(h.out)
}

struct Hcl<'a, 's> {
    s: &'a [u8],
    text: &'a str,
    out: HclScan,
    on_site: &'s mut dyn FnMut(HclAttr<'a>),
}

#[inline]
fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

#[inline]
fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b >= 0x80
}

impl<'a> Hcl<'a, '_> {
    #[inline]
    fn at(&self, i: usize) -> u8 {
        if i < self.s.len() { self.s[i] } else { 0 }
    }

    fn line_end(&self, i: usize) -> usize {
        memchr::memchr(b'\n', &self.s[i..]).map_or(self.s.len(), |n| i + n)
    }

    fn block_comment_end(&self, p: usize) -> RawResult<usize> {
        memchr::memmem::find(&self.s[p + 2..], b"*/")
            .map(|n| p + 2 + n + 2)
            .ok_or_else(|| RawError::new(p, "unterminated comment: expected `*/`"))
    }

    /// Skips whitespace, line breaks and comments.
    fn skip_all(&self, mut p: usize) -> RawResult<usize> {
        let len = self.s.len();
        while p < len {
            match self.s[p] {
                b' ' | b'\t' | b'\r' | b'\n' => p += 1,
                b'#' => p = self.line_end(p),
                b'/' if self.at(p + 1) == b'/' => p = self.line_end(p),
                b'/' if self.at(p + 1) == b'*' => p = self.block_comment_end(p)?,
                _ => break,
            }
        }
        Ok(p)
    }

    /// Skips spaces, tabs and `/* */` comments on the current line.
    fn skip_inline(&self, mut p: usize) -> RawResult<usize> {
        loop {
            match self.at(p) {
                b' ' | b'\t' => p += 1,
                b'/' if self.at(p + 1) == b'*' => p = self.block_comment_end(p)?,
                _ => return Ok(p),
            }
        }
    }

    fn ident_end(&self, mut p: usize) -> usize {
        if !is_ident_start(self.at(p)) {
            return p;
        }
        while p < self.s.len() && is_ident(self.s[p]) {
            p += 1;
        }
        p
    }

    fn body(
        &mut self,
        mut p: usize,
        depth: usize,
        ctx: &Ctx<'a>,
        open: Option<usize>,
    ) -> RawResult<usize> {
        if depth > MAX_DEPTH {
            return Err(RawError::new(
                p,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        loop {
            p = self.skip_all(p)?;
            if p >= self.s.len() {
                return match open {
                    Some(o) => Err(RawError::new(o, "unclosed block: expected `}`")),
                    None => Ok(p),
                };
            }
            if self.s[p] == b'}' {
                return match open {
                    Some(_) => Ok(p + 1),
                    None => Err(RawError::new(p, "unexpected `}`: no block is open here")),
                };
            }
            let id_end = self.ident_end(p);
            if id_end == p {
                return Err(RawError::new(
                    p,
                    "expected an argument name or a block type",
                ));
            }
            let name = &self.text[p..id_end];
            let mut q = self.skip_inline(id_end)?;
            if self.at(q) == b'=' && self.at(q + 1) != b'=' {
                let (expr, next) = self.expression(q + 1)?;
                self.attribute(ctx, name, expr);
                p = next;
                continue;
            }
            let mut labels: Vec<Cow<'a, str>> = Vec::new();
            loop {
                q = self.skip_inline(q)?;
                match self.at(q) {
                    b'"' => {
                        let (e, _) = self.string_end(q)?;
                        let raw = &self.text[q + 1..e - 1];
                        labels.push(if raw.contains(['\\', '$', '%']) {
                            Cow::Owned(crate::hcl_expr::decode_string(raw))
                        } else {
                            Cow::Borrowed(raw)
                        });
                        q = e;
                    }
                    b'{' => break,
                    c if is_ident_start(c) => {
                        let e = self.ident_end(q);
                        labels.push(Cow::Borrowed(&self.text[q..e]));
                        q = e;
                    }
                    _ => {
                        return Err(RawError::new(
                            q,
                            format!("expected `=`, a block label or `{{` after `{name}`"),
                        ));
                    }
                }
            }
            let child = match ctx {
                Ctx::Top => match (name, labels.len()) {
                    ("resource", 2) => Ctx::Resource {
                        ty: labels[0].clone(),
                        name: labels[1].clone(),
                        nested: String::new(),
                    },
                    ("variable", 1) => Ctx::Variable(labels[0].to_string()),
                    ("locals", 0) => Ctx::Locals,
                    _ => Ctx::Other,
                },
                Ctx::Resource {
                    ty,
                    name: rn,
                    nested,
                } => {
                    let step = if name == "dynamic" {
                        labels.first().map_or(name, |l| l.as_ref())
                    } else {
                        name
                    };
                    Ctx::Resource {
                        ty: ty.clone(),
                        name: rn.clone(),
                        nested: format!("{nested}{step}."),
                    }
                }
                _ => Ctx::Other,
            };
            p = self.body(q + 1, depth + 1, &child, Some(q))?;
        }
    }

    fn attribute(&mut self, ctx: &Ctx<'a>, name: &str, expr: Range<usize>) {
        match ctx {
            Ctx::Resource {
                ty,
                name: rn,
                nested,
            } if name == "image_id" => (self.on_site)(HclAttr {
                resource_type: ty.clone(),
                name: rn.clone(),
                property: if nested.is_empty() {
                    Cow::Borrowed("image_id")
                } else {
                    Cow::Owned(format!("{nested}image_id"))
                },
                expr,
            }),
            Ctx::Variable(v) if name == "default" => {
                self.out.variables.insert(v.clone(), expr);
            }
            Ctx::Locals => {
                self.out.locals.insert(name.to_string(), expr);
            }
            _ => {}
        }
    }

    /// The expression after `=` at `p`: its trimmed span and where scanning goes on.
    fn expression(&self, p: usize) -> RawResult<(Range<usize>, usize)> {
        let start = self.skip_inline(p)?;
        let len = self.s.len();
        let mut depth = 0usize;
        let mut i = start;
        let mut last = start;
        let mut opens: Vec<usize> = Vec::new();
        while i < len {
            match self.s[i] {
                b'\n' if depth == 0 => break,
                b'\r' if depth == 0 && self.at(i + 1) == b'\n' => break,
                b'#' => {
                    if depth == 0 {
                        break;
                    }
                    i = self.line_end(i);
                    continue;
                }
                b'/' if self.at(i + 1) == b'/' => {
                    if depth == 0 {
                        break;
                    }
                    i = self.line_end(i);
                    continue;
                }
                b'/' if self.at(i + 1) == b'*' => {
                    i = self.block_comment_end(i)?;
                    continue;
                }
                b'"' => {
                    i = self.string_end(i)?.0;
                    last = i;
                    continue;
                }
                b'<' if self.at(i + 1) == b'<' => {
                    i = self.heredoc_end(i)?.1;
                    last = i;
                    continue;
                }
                b'(' | b'[' | b'{' => {
                    if depth >= MAX_DEPTH {
                        return Err(RawError::new(
                            i,
                            format!("nesting deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    depth += 1;
                    opens.push(i);
                }
                c @ (b')' | b']' | b'}') => {
                    if depth == 0 {
                        if c == b'}' {
                            break;
                        }
                        return Err(RawError::new(
                            i,
                            format!("unbalanced `{}` in the expression", c as char),
                        ));
                    }
                    let want = match self.s[opens[opens.len() - 1]] {
                        b'(' => b')',
                        b'[' => b']',
                        _ => b'}',
                    };
                    if c != want {
                        return Err(RawError::new(
                            i,
                            format!(
                                "expected `{}` to close the bracket opened earlier, found `{}`",
                                want as char, c as char
                            ),
                        ));
                    }
                    depth -= 1;
                    opens.pop();
                }
                b' ' | b'\t' | b'\r' | b'\n' => {
                    i += 1;
                    continue;
                }
                _ => {}
            }
            i += 1;
            last = i;
        }
        if let Some(&o) = opens.last() {
            return Err(RawError::new(
                o,
                format!(
                    "unclosed `{}`: expected its closing bracket",
                    self.s[o] as char
                ),
            ));
        }
        if last == start {
            return Err(RawError::new(start, "expected an expression after `=`"));
        }
        Ok((start..last, i))
    }

    /// End of the quoted template string opening at `p`, and whether it holds `${`/`%{`.
    pub(crate) fn string_end(&self, p: usize) -> RawResult<(usize, bool)> {
        string_end(self.s, p)
    }

    /// A heredoc starting at `<<` at `p`: (content range, end of the closing marker).
    fn heredoc_end(&self, p: usize) -> RawResult<(Range<usize>, usize)> {
        heredoc(self.s, p)
    }
}

/// End of the quoted template string opening at `p`, and whether it holds `${`/`%{`.
pub(crate) fn string_end(s: &[u8], p: usize) -> RawResult<(usize, bool)> {
    let len = s.len();
    let mut i = p + 1;
    let mut template = false;
    while i < len {
        match s[i] {
            b'"' => return Ok((i + 1, template)),
            b'\\' => i += 2,
            b'\n' => break,
            c @ (b'$' | b'%') => {
                if s.get(i + 1) == Some(&c) && s.get(i + 2) == Some(&b'{') {
                    i += 3;
                } else if s.get(i + 1) == Some(&b'{') {
                    template = true;
                    i = template_end(s, i + 2)?;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    Err(RawError::new(
        p,
        "unterminated string: expected a closing `\"` on the same line",
    ))
}

/// End (after the `}`) of a template interpolation whose content starts at `p`.
fn template_end(s: &[u8], p: usize) -> RawResult<usize> {
    let mut depth = 0usize;
    let mut i = p;
    while i < s.len() {
        match s[i] {
            b'"' => {
                i = string_end(s, i)?.0;
                continue;
            }
            b'{' => depth += 1,
            b'}' => {
                if depth == 0 {
                    return Ok(i + 1);
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    Err(RawError::new(
        p.saturating_sub(2),
        "unterminated template interpolation: expected `}`",
    ))
}

/// A heredoc starting at `<<` at `p`: (content range, end of the closing marker).
pub(crate) fn heredoc(s: &[u8], p: usize) -> RawResult<(Range<usize>, usize)> {
    let mut i = p + 2;
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    let id_start = i;
    while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'_' || s[i] == b'-') {
        i += 1;
    }
    let id = &s[id_start..i];
    if id.is_empty() {
        return Err(RawError::new(
            p,
            "expected a heredoc marker after `<<` (such as `<<EOT`)",
        ));
    }
    let mut j = i;
    if s.get(j) == Some(&b'\r') {
        j += 1;
    }
    if s.get(j) != Some(&b'\n') {
        return Err(RawError::new(
            i,
            "expected a line break after the heredoc marker",
        ));
    }
    let content_start = j + 1;
    let mut line = content_start;
    while line < s.len() {
        let le = memchr::memchr(b'\n', &s[line..]).map_or(s.len(), |n| line + n);
        let text = &s[line..le];
        let t = text.strip_suffix(b"\r").unwrap_or(text);
        let lead = t.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        if &t[lead..] == id {
            return Ok((content_start..line, line + lead + id.len()));
        }
        line = le + 1;
    }
    Err(RawError::new(
        p,
        format!(
            "unterminated heredoc: expected a line with `{}`",
            String::from_utf8_lossy(id)
        ),
    ))
}
