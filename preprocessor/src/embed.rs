//! Terraform embedded in a ROS template (`Transform: Aliyun::Terraform-v1.*`, `Workspace` files):
//! decode the scalar with a map back to source offsets, scan it, and map the sites back.

use crate::error::{Error, RawError, position_of};
use crate::scalar;
use crate::site::{ImageSite, Outer, Quoting};
use crate::tree::{Chomp, NodeKind, ScalarStyle};
use crate::tree_sites::WorkspaceFile;
use crate::{Format, ScanOptions};

/// The image sites of one `Workspace` file, in the outer template's byte offsets.
pub(crate) fn sites(
    text: &str,
    file: &WorkspaceFile,
    opts: &ScanOptions,
) -> Result<Vec<ImageSite>, Error> {
    let NodeKind::Scalar(style) = file.node.kind else {
        return Ok(Vec::new());
    };
    let span = file.node.span.clone();
    let Some((decoded, offsets, outer)) = decode_with_offsets(text, style, span.clone()) else {
        let decoded = scalar::decode(text, style, span.clone());
        if decoded.contains("image_id") {
            return Err(Error::Unsupported {
                position: position_of(text, span.start),
                message: format!(
                    "the embedded Terraform file `Workspace/{}` is written as a folded or multi-line quoted scalar, \
                     which cannot be rewritten in place; write it as a literal block scalar (`|`)",
                    file.name
                ),
            });
        }
        return Ok(Vec::new());
    };
    let format = if file.name.ends_with(".tf.json") {
        Format::TerraformJson
    } else {
        Format::Terraform
    };
    let inner = crate::scan_sites(&decoded, format, opts).map_err(|(raw, syntax)| {
        let at = offsets[raw.offset.min(offsets.len() - 1)] as usize;
        RawError::new(
            at,
            format!(
                "in the embedded Terraform file `Workspace/{}`: {}",
                file.name, raw.message
            ),
        )
        .into_error(text, syntax)
    })?;
    let mut out = Vec::with_capacity(inner.len());
    for mut site in inner {
        let map = |i: usize| offsets[i.min(offsets.len() - 1)] as usize;
        let quoted = matches!(site.quoting, Quoting::HclString | Quoting::JsonString);
        if quoted && site.value.literal().is_some() {
            let (a, b) = (site.span.start + 1, site.span.end - 1);
            let src = map(a)..map(b);
            site.quoting = if text.get(src.clone()) == decoded.get(a..b) {
                Quoting::Embedded { outer }
            } else {
                Quoting::None
            };
            site.span = src;
        } else {
            site.span = map(site.span.start)..map(site.span.end);
            if site.value.literal().is_some() {
                site.quoting = Quoting::None;
            }
        }
        site.embedded_in = Some(format!("Workspace/{}", file.name));
        out.push(site);
    }
    Ok(out)
}

/// The decoded value of a scalar plus, for every decoded byte (and the end), its source offset.
/// `None` for styles whose decoding cannot be mapped back byte by byte (folded, multi-line).
fn decode_with_offsets(
    text: &str,
    style: ScalarStyle,
    span: std::ops::Range<usize>,
) -> Option<(String, Vec<u32>, Outer)> {
    let raw = &text[span.clone()];
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut offs: Vec<u32> = Vec::with_capacity(raw.len() + 1);
    // Copies source bytes `from..to` verbatim, each mapped to itself.
    let copy = |out: &mut Vec<u8>, offs: &mut Vec<u32>, from: usize, to: usize| {
        out.extend_from_slice(&text.as_bytes()[from..to]);
        offs.extend((from..to).map(|o| o as u32));
    };
    // Pushes decoded `s` whose source is the escape at `at`.
    let push = |out: &mut Vec<u8>, offs: &mut Vec<u32>, s: &str, at: usize| {
        out.extend_from_slice(s.as_bytes());
        offs.extend(std::iter::repeat_n(at as u32, s.len()));
    };
    let outer = match style {
        ScalarStyle::Block {
            literal: true,
            indent,
            chomp,
            ..
        } => {
            let mut pos = span.start;
            let mut first = true;
            for line in raw.split('\n') {
                if !first {
                    push(&mut out, &mut offs, "\n", pos - 1);
                }
                first = false;
                let body = line.strip_suffix('\r').unwrap_or(line);
                let n = body.bytes().take(indent).take_while(|&b| b == b' ').count();
                copy(&mut out, &mut offs, pos + n, pos + body.len());
                pos += line.len() + 1;
            }
            if !raw.is_empty() && chomp != Chomp::Strip {
                push(&mut out, &mut offs, "\n", span.end);
            }
            Outer::Block
        }
        ScalarStyle::Double if !raw.contains('\n') => {
            let inner = &raw[1..raw.len() - 1];
            let base = span.start + 1;
            let b = inner.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\\' {
                    let e = *b.get(i + 1)?;
                    let (s, used): (String, usize) = match e {
                        b'n' => ("\n".into(), 2),
                        b't' => ("\t".into(), 2),
                        b'r' => ("\r".into(), 2),
                        b'"' => ("\"".into(), 2),
                        b'\\' => ("\\".into(), 2),
                        b'/' => ("/".into(), 2),
                        b'u' => {
                            let cp = inner
                                .get(i + 2..i + 6)
                                .and_then(|h| u32::from_str_radix(h, 16).ok())?;
                            (char::from_u32(cp)?.to_string(), 6)
                        }
                        _ => return None,
                    };
                    push(&mut out, &mut offs, &s, base + i);
                    i += used;
                } else {
                    let mut j = i;
                    while j < b.len() && b[j] != b'\\' {
                        j += 1;
                    }
                    copy(&mut out, &mut offs, base + i, base + j);
                    i = j;
                }
            }
            Outer::Double
        }
        ScalarStyle::Single if !raw.contains('\n') => {
            let inner = &raw[1..raw.len() - 1];
            let base = span.start + 1;
            let b = inner.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'\'' {
                    push(&mut out, &mut offs, "'", base + i);
                    i += 2;
                } else {
                    let mut j = i;
                    while j < b.len() && b[j] != b'\'' {
                        j += 1;
                    }
                    copy(&mut out, &mut offs, base + i, base + j);
                    i = j;
                }
            }
            Outer::Single
        }
        ScalarStyle::Plain if !raw.contains('\n') => {
            copy(&mut out, &mut offs, span.start, span.end);
            Outer::Plain
        }
        _ => return None,
    };
    offs.push(span.end as u32);
    let out = String::from_utf8(out).ok()?;
    (offs.len() == out.len() + 1).then_some((out, offs, outer))
}
