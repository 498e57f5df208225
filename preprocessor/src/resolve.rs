//! Resolving image sites: look each literal up, then splice replacements into the original
//! bytes. Nothing else of the template is touched, and quoting is kept whenever it is valid.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::ops::Range;
use std::sync::Arc;

use serde::Serialize;

use crate::hcl_expr;
use crate::site::{ImageSite, Outer, Quoting, SiteValue};

/// What the mapping source says about one literal in the target region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The image to write.
    Image(String),
    /// The literal has no association: left alone (an error under `--strict`).
    NotAssociated,
    /// Associated, but no image can be used (not distributed to the region, no permission, …).
    Unavailable(String),
}

/// The outcome at one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The literal was replaced by `image`.
    Replaced {
        /// The image ID written.
        image: Arc<str>,
    },
    /// The literal has no association; left as it is.
    Unassociated,
    /// Associated but unusable, or not writable here: left as it is.
    Failed {
        /// Why.
        message: String,
    },
    /// Not a literal: left as it is (see the site's reason).
    NonLiteral,
}

/// One replacement: the bytes at `span` become `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// Byte range in the original template.
    pub span: Range<usize>,
    /// The new bytes (shared between edits that write the same text).
    pub text: Arc<str>,
}

/// The result of resolving a template's sites.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolution {
    /// Edits in ascending, non-overlapping order.
    pub edits: Vec<Edit>,
    /// One outcome per site, in the order of the sites.
    pub outcomes: Vec<Outcome>,
}

/// Looks up every literal site and prepares the edits. `sites` must come from a scan of `text`.
pub fn resolve(
    text: &str,
    sites: &[ImageSite],
    mut lookup: impl FnMut(&str) -> Lookup,
) -> Resolution {
    let mut res = Resolution {
        edits: Vec::with_capacity(sites.len()),
        outcomes: Vec::with_capacity(sites.len()),
    };
    // Templates repeat a few literals many times: look each up once, share the texts.
    let mut looked_up: HashMap<&str, Result<Arc<str>, Outcome>> = HashMap::new();
    let mut texts: HashSet<Arc<str>> = HashSet::new();
    for site in sites {
        let outcome = match &site.value {
            SiteValue::NonLiteral(_) => Outcome::NonLiteral,
            SiteValue::Literal { literal } => {
                let found =
                    looked_up
                        .entry(literal.as_str())
                        .or_insert_with(|| match lookup(literal) {
                            Lookup::NotAssociated => Err(Outcome::Unassociated),
                            Lookup::Unavailable(message) => Err(Outcome::Failed { message }),
                            Lookup::Image(image) => Ok(Arc::from(image)),
                        });
                match found {
                    Err(o) => o.clone(),
                    // The same value: nothing to write (its bytes, escapes included, stay).
                    Ok(image) if **image == **literal => Outcome::Replaced {
                        image: image.clone(),
                    },
                    Ok(image) => match edit_for(text, site, image) {
                        Ok((span, t)) => {
                            let shared = match texts.get(t.as_str()) {
                                Some(s) => s.clone(),
                                None => {
                                    let s: Arc<str> = Arc::from(t);
                                    texts.insert(s.clone());
                                    s
                                }
                            };
                            res.edits.push(Edit { span, text: shared });
                            Outcome::Replaced {
                                image: image.clone(),
                            }
                        }
                        Err(message) => Outcome::Failed { message },
                    },
                }
            }
        };
        res.outcomes.push(outcome);
    }
    res.edits.sort_by_key(|e| e.span.start);
    res.edits.dedup_by(|b, a| b.span.start < a.span.end);
    res
}

impl Resolution {
    /// Whether any byte changes.
    pub fn changes(&self, text: &str) -> bool {
        self.edits
            .iter()
            .any(|e| text.get(e.span.clone()) != Some(&*e.text))
    }

    /// The rewritten template.
    pub fn apply(&self, text: &str) -> String {
        let mut out = Vec::with_capacity(text.len() + self.edits.len() * 8);
        // Writing to a Vec cannot fail.
        let _ = self.write_to(text, &mut out);
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Streams the rewritten template to `w` (no copy of the whole text is made).
    ///
    /// Pieces go out in batches of vectored writes, so an unbuffered `File` gets few system
    /// calls and the text is never copied in user space.
    pub fn write_to(&self, text: &str, w: &mut impl Write) -> io::Result<()> {
        const BATCH: usize = 1024; // IOV_MAX on Linux
        let b = text.as_bytes();
        let mut slices: Vec<io::IoSlice<'_>> = Vec::with_capacity(BATCH);
        let mut at = 0;
        for e in &self.edits {
            if slices.len() + 2 > BATCH {
                write_all_vectored(w, &mut slices)?;
            }
            slices.push(io::IoSlice::new(&b[at..e.span.start]));
            slices.push(io::IoSlice::new(e.text.as_bytes()));
            at = e.span.end;
        }
        slices.push(io::IoSlice::new(&b[at..]));
        write_all_vectored(w, &mut slices)
    }
}

/// Writes all `slices` (then empties the vector), retrying short writes.
fn write_all_vectored(w: &mut impl Write, slices: &mut Vec<io::IoSlice<'_>>) -> io::Result<()> {
    let mut rest: &mut [io::IoSlice<'_>] = &mut slices[..];
    // Empty slices would make a zero-length write look like the end.
    while !rest.is_empty() && rest[0].is_empty() {
        rest = &mut rest[1..];
    }
    while !rest.is_empty() {
        let n = w.write_vectored(rest)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "failed to write the whole template",
            ));
        }
        io::IoSlice::advance_slices(&mut rest, n);
    }
    slices.clear();
    Ok(())
}

/// The edit that writes `image` at `site`, keeping the site's quoting when it is valid.
fn edit_for(text: &str, site: &ImageSite, image: &str) -> Result<(Range<usize>, String), String> {
    let whole = |t: String| Ok((site.span.clone(), t));
    match &site.quoting {
        Quoting::YamlPlain => whole(if yaml_plain_safe(image) {
            image.to_string()
        } else {
            double_quoted(image)
        }),
        Quoting::YamlSingle => {
            if image.chars().any(char::is_control) {
                whole(double_quoted(image))
            } else {
                whole(format!("'{}'", image.replace('\'', "''")))
            }
        }
        Quoting::YamlDouble | Quoting::JsonString => whole(double_quoted(image)),
        Quoting::YamlBlock { content } => {
            let one_line = !image.is_empty()
                && !image.chars().any(char::is_control)
                && image.trim() == image
                && !image.starts_with('#');
            // Leading blank lines or spaces are part of the value: then the whole block goes.
            let bare = site
                .value
                .literal()
                .is_some_and(|l| !l.starts_with([' ', '\t', '\n', '\r']));
            if one_line && bare && content.start < content.end {
                Ok((content.clone(), image.to_string()))
            } else {
                whole(double_quoted(image))
            }
        }
        Quoting::HclString => whole(format!("\"{}\"", hcl_expr::escape_string(image))),
        Quoting::HclHeredoc { content } => {
            // One line: replace its text, keeping the indentation of a `<<-` heredoc.
            let body = &text[content.clone()];
            let trimmed = body.trim_end_matches(['\n', '\r']);
            let flush = text[site.span.clone()].starts_with("<<-");
            let lead = if flush {
                trimmed.len() - trimmed.trim_start_matches([' ', '\t']).len()
            } else {
                0
            };
            if image.contains(['\n', '\r']) || trimmed.contains('\n') || lead == trimmed.len() {
                whole(format!("\"{}\"", hcl_expr::escape_string(image)))
            } else {
                Ok((
                    content.start + lead..content.start + trimmed.len(),
                    image.replace("${", "$${").replace("%{", "%%{"),
                ))
            }
        }
        Quoting::Embedded { outer } => {
            let inner = hcl_expr::escape_string(image);
            let t = match outer {
                Outer::Block if !inner.contains(['\n', '\r']) => inner,
                Outer::Double => {
                    let q = double_quoted(&inner);
                    q[1..q.len() - 1].to_string()
                }
                Outer::Single if !inner.chars().any(char::is_control) => inner.replace('\'', "''"),
                Outer::Plain if yaml_plain_safe(&inner) => inner,
                _ => {
                    return Err(format!(
                        "cannot write `{image}` inside the embedded Terraform scalar"
                    ));
                }
            };
            whole(t)
        }
        Quoting::None => Err("this value cannot be rewritten in place".to_string()),
    }
}

/// A double-quoted scalar valid in both YAML and JSON.
pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` can be written as a YAML plain scalar in any context and still mean this string.
pub(crate) fn yaml_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if ",[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return false;
    }
    // `-`, `?` and `:` start a plain scalar only when a non-space follows (`-1-`, `m-…`).
    if "-?:".contains(first) && s[1..].chars().next().is_none_or(char::is_whitespace) {
        return false;
    }
    if s.ends_with(char::is_whitespace) || s.contains(": ") || s.contains(" #") || s.ends_with(':')
    {
        return false;
    }
    if s.chars()
        .any(|c| c.is_control() || ",[]{}".contains(c) || c == '\u{feff}')
    {
        return false;
    }
    if crate::scalar::plain_non_string(s).is_some() || matches!(s, "y" | "Y" | "n" | "N") {
        return false;
    }
    // YAML 1.1 also reads `1_000`, `1:30` and `1_0.5` as numbers.
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let numeric_11 = unsigned.starts_with(|c: char| c.is_ascii_digit())
        && unsigned.ends_with(|c: char| c.is_ascii_digit())
        && unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || "_:.".contains(c));
    !numeric_11
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_safety() {
        assert!(yaml_plain_safe("m-bp1abc"));
        assert!(yaml_plain_safe("centos_7_9_x64_20G_alibase_20240628.vhd"));
        assert!(yaml_plain_safe("-1-"));
        assert!(yaml_plain_safe(":x"));
        for bad in [
            "", "123", "1e5", "true", "No", "a: b", "#x", "- x", "a,b", "x ", "null", "-", "? x",
            "-1",
        ] {
            assert!(!yaml_plain_safe(bad), "{bad}");
        }
    }

    #[test]
    fn double_quoting() {
        assert_eq!(double_quoted("a\"b\\c\n"), r#""a\"b\\c\n""#);
    }
}
