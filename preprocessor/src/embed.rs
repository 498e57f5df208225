//! Terraform embedded in a ROS template (`Transform: Aliyun::Terraform-v1.*`, `Workspace` files):
//! decode the scalar with a map back to source offsets, scan it, and map the sites back.
//!
//! Every scalar style works: a literal (`|`) or folded (`>`) block, a double- or single-quoted
//! string (multi-line too) and a plain scalar. A site is rewritten in place when its value sits
//! on one source line and decodes exactly from it (escapes included: the replacement is encoded
//! for the outer scalar); otherwise it is reported as not rewritable, never rewritten wrongly.

use crate::error::{Error, RawError, position_of};
use crate::scalar;
use crate::site::{ImageSite, Outer, Quoting};
use crate::tree::{NodeKind, ScalarStyle};
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
    let outer = match style {
        ScalarStyle::Block { .. } => Outer::Block,
        ScalarStyle::Double => Outer::Double,
        ScalarStyle::Single => Outer::Single,
        ScalarStyle::Plain => Outer::Plain,
        ScalarStyle::Empty => return Ok(Vec::new()),
    };
    let decoded = scalar::decode_mapped(text, style, span.clone());
    let (Some(offsets), decoded) = (decoded.offsets, decoded.text) else {
        return Ok(Vec::new());
    };
    if offsets.len() != decoded.len() + 1 {
        // The decoder broke its own invariant: refuse rather than rewrite the wrong bytes.
        return Err(Error::Unsupported {
            position: position_of(text, span.start),
            message: format!(
                "the embedded Terraform file `Workspace/{}` could not be mapped back to the template; \
                 write it as a literal block scalar (`|`)",
                file.name
            ),
        });
    }
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
    let map = |i: usize| offsets[i.min(offsets.len() - 1)] as usize;
    let mut out = Vec::with_capacity(inner.len());
    for mut site in inner {
        // The decoded range that a replacement would take, if the site can have one.
        let target = match (&site.quoting, site.value.literal()) {
            (Quoting::HclString | Quoting::JsonString, Some(_)) => {
                Some(site.span.start + 1..site.span.end - 1)
            }
            (Quoting::HclHeredoc { content }, Some(_)) => {
                // One line of content: its text without indentation and line break.
                let body = &decoded[content.clone()];
                let line = body.trim_end_matches(['\n', '\r']);
                let lead = if decoded[site.span.clone()].starts_with("<<-") {
                    line.len() - line.trim_start_matches([' ', '\t']).len()
                } else {
                    0
                };
                (!line.contains('\n') && lead < line.len())
                    .then(|| content.start + lead..content.start + line.len())
            }
            _ => None,
        };
        let src = target.as_ref().map(|t| {
            map(t.start)..if t.is_empty() {
                map(t.start)
            } else {
                map(t.end)
            }
        });
        let in_place = match (&target, &src) {
            (Some(t), Some(src)) => {
                src.start <= src.end
                    && text
                        .get(src.clone())
                        .is_some_and(|piece| decodes_to(piece, outer, &decoded[t.clone()]))
            }
            _ => false,
        };
        match src {
            Some(src) if in_place => {
                site.span = src;
                site.quoting = Quoting::Embedded { outer };
            }
            _ => {
                site.span = map(site.span.start)..map(site.span.end);
                if site.value.literal().is_some() {
                    site.quoting = Quoting::None;
                }
            }
        }
        site.embedded_in = Some(format!("Workspace/{}", file.name));
        out.push(site);
    }
    Ok(out)
}

/// Whether the source `piece` (on one line) is exactly `want` once decoded in the `outer` style.
fn decodes_to(piece: &str, outer: Outer, want: &str) -> bool {
    if piece.contains(['\n', '\r']) {
        return false;
    }
    match outer {
        Outer::Block | Outer::Plain => piece == want,
        Outer::Single => piece.replace("''", "'") == want,
        Outer::Double => {
            let quoted = format!("\"{piece}\"");
            scalar::decode(&quoted, ScalarStyle::Double, 0..quoted.len()) == want
        }
    }
}
