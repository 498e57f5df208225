//! Reference oracles: image sites found with general parsers (saphyr-parser for YAML, serde_json
//! for JSON, hcl-edit for HCL), written independently of the scanners, for differential tests.

use std::collections::HashMap;

use imagenest_preprocessor::{Format, ImageSite, ResourceTypes};

/// A site as the oracle sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RefSite {
    pub resource: String,
    pub property: String,
    /// `Some` for a literal string.
    pub literal: Option<String>,
    /// 1-based line, when the oracle knows it exactly.
    pub line: Option<usize>,
    /// Byte span of the value, when the oracle knows it (HCL).
    pub span: Option<(usize, usize)>,
    pub embedded: bool,
}

/// The scanner's sites in the oracle's shape (positions filled in where the oracle has them).
pub fn from_scan(sites: &[ImageSite], reference: &[RefSite]) -> Vec<RefSite> {
    let mut out: Vec<RefSite> = sites
        .iter()
        .map(|s| RefSite {
            resource: s.resource.clone(),
            property: s.property.to_string(),
            literal: s.value.literal().map(str::to_string),
            line: Some(s.position.line),
            span: Some((s.span.start, s.span.end)),
            embedded: s.embedded_in.is_some(),
        })
        .collect();
    out.sort();
    let mut reference = reference.to_vec();
    reference.sort();
    // Keep only the position facts the oracle has.
    for (o, r) in out.iter_mut().zip(&reference) {
        if r.line.is_none() {
            o.line = None;
        }
        if r.span.is_none() {
            o.span = None;
        }
    }
    out
}

/// Sites of `text` according to the reference parser for `format`.
pub fn sites(text: &str, format: Format, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = match format {
        Format::RosYaml => yaml_sites(body, types)?,
        Format::RosJson | Format::TerraformJson => json_sites(body, types)?,
        Format::Terraform => {
            let offset = text.len() - body.len();
            let mut s = hcl_sites(body, types)?;
            for site in &mut s {
                site.span = site.span.take().map(|(a, b)| (a + offset, b + offset));
            }
            s
        }
    };
    out.sort();
    Ok(out)
}

fn hcl_sites(text: &str, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
    use hcl_edit::Span;
    use hcl_edit::expr::Expression;
    use hcl_edit::structure::{BlockLabel, Body, Structure};
    let body = hcl_edit::parser::parse_body(text).map_err(|e| e.to_string())?;
    let label = |l: &BlockLabel| match l {
        BlockLabel::Ident(i) => i.as_str().to_string(),
        BlockLabel::String(s) => s.value().to_string(),
    };
    fn walk(body: &Body, prefix: &str, ty: &str, name: &str, out: &mut Vec<RefSite>, text: &str) {
        for s in body.iter() {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "image_id" => {
                    let literal = match &a.value {
                        Expression::String(v) => Some(v.value().to_string()),
                        _ => None,
                    };
                    let span = a.value.span().map(|r| (r.start, r.end));
                    let line = span.map(|(a, _)| text[..a].matches('\n').count() + 1);
                    out.push(RefSite {
                        resource: format!("{ty}.{name}"),
                        property: format!("{prefix}image_id"),
                        literal,
                        line,
                        span,
                        embedded: false,
                    });
                }
                Structure::Attribute(_) => {}
                Structure::Block(b) => {
                    let step = if b.ident.as_str() == "dynamic" {
                        b.labels
                            .first()
                            .map(|l| match l {
                                BlockLabel::Ident(i) => i.as_str().to_string(),
                                BlockLabel::String(s) => s.value().to_string(),
                            })
                            .unwrap_or_default()
                    } else {
                        b.ident.as_str().to_string()
                    };
                    walk(&b.body, &format!("{prefix}{step}."), ty, name, out, text);
                }
            }
        }
    }
    let mut out = Vec::new();
    for s in body.iter() {
        if let Structure::Block(b) = s {
            if b.ident.as_str() == "resource" && b.labels.len() == 2 {
                let (ty, name) = (label(&b.labels[0]), label(&b.labels[1]));
                if types.boots_image(&ty) {
                    walk(&b.body, "", &ty, &name, &mut out, text);
                }
            }
        }
    }
    // Heredocs are literals for the scanner; the oracle sees a template. Compare them as literal.
    for s in &mut out {
        if s.literal.is_none() {
            if let Some((a, b)) = s.span {
                let src = &text[a..b];
                if src.starts_with("<<") && !src.contains("${") && !src.contains("%{") {
                    let content_start = src.find('\n').map_or(src.len(), |i| i + 1);
                    let content_end = src.trim_end().rfind('\n').map_or(content_start, |i| i + 1);
                    s.literal =
                        Some(src[content_start..content_end.max(content_start)].to_string());
                }
            }
        }
    }
    Ok(out)
}

fn json_sites(text: &str, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
    use serde_json::Value;
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let Value::Object(root) = &v else {
        return Ok(out);
    };
    if let Some(Value::Object(res)) = root.get("Resources") {
        for (id, r) in res {
            let ty = r.get("Type").and_then(Value::as_str).unwrap_or("");
            if !types.boots_image(ty) {
                continue;
            }
            if let Some(props) = r.get("Properties") {
                let mut found = Vec::new();
                find_key(
                    props,
                    "ImageId",
                    &mut vec!["Properties".to_string()],
                    &mut found,
                );
                for (path, val) in found {
                    out.push(RefSite {
                        resource: id.clone(),
                        property: path,
                        literal: val.as_str().map(str::to_string),
                        line: None,
                        span: None,
                        embedded: false,
                    });
                }
            }
        }
    }
    if let Some(Value::Object(ws)) = root.get("Workspace") {
        for (name, body) in ws {
            if let (true, Some(src)) = (name.ends_with(".tf"), body.as_str()) {
                for mut s in hcl_sites(src, types)? {
                    s.line = None;
                    s.span = None;
                    s.embedded = true;
                    out.push(s);
                }
            }
        }
    }
    let resource_blocks: Vec<&Value> = match root.get("resource") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => vec![],
    };
    for block in resource_blocks {
        let Value::Object(by_type) = block else {
            continue;
        };
        for (ty, named) in by_type {
            if !types.boots_image(ty) {
                continue;
            }
            let named: Vec<&Value> = match named {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            for n in named {
                let Value::Object(by_name) = n else { continue };
                for (name, body) in by_name {
                    let mut found = Vec::new();
                    find_key(body, "image_id", &mut Vec::new(), &mut found);
                    for (path, val) in found {
                        let literal = val
                            .as_str()
                            .filter(|s| !has_template(s))
                            .map(|s| s.replace("$${", "${").replace("%%{", "%{"));
                        out.push(RefSite {
                            resource: format!("{ty}.{name}"),
                            property: path,
                            literal,
                            line: None,
                            span: None,
                            embedded: false,
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

fn has_template(s: &str) -> bool {
    s.replace("$${", "").replace("%%{", "").contains("${") || s.replace("%%{", "").contains("%{")
}

/// Every value under `key` at any depth of `v` (through arrays), with its dotted key path.
fn find_key<'v>(
    v: &'v serde_json::Value,
    key: &str,
    path: &mut Vec<String>,
    out: &mut Vec<(String, &'v serde_json::Value)>,
) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m {
                path.push(k.clone());
                if k == key {
                    out.push((path.join("."), child));
                }
                find_key(child, key, path, out);
                path.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for child in a {
                find_key(child, key, path, out);
            }
        }
        _ => {}
    }
}

fn yaml_sites(text: &str, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    enum Frame {
        Map { key: Option<String>, want_key: bool },
        Seq,
    }
    struct Cand {
        doc: usize,
        id: String,
        property: String,
        literal: Option<String>,
        line: Option<usize>,
    }
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut doc = 0usize;
    let mut rtypes: HashMap<(usize, String), String> = HashMap::new();
    let mut cands: Vec<Cand> = Vec::new();
    let mut workspace: Vec<String> = Vec::new();
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| e.to_string())?;
        let keys = |stack: &[Frame]| -> Vec<Option<String>> {
            stack
                .iter()
                .map(|f| match f {
                    Frame::Map { key, .. } => key.clone(),
                    Frame::Seq => Some("[]".to_string()),
                })
                .collect()
        };
        let is_value_node = matches!(
            ev,
            Event::Scalar(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..)
                | Event::Alias(..)
        );
        if !is_value_node {
            match ev {
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                Event::DocumentStart(_) => doc += 1,
                _ => {}
            }
            continue;
        }
        // A key?
        if let Some(Frame::Map { key, want_key }) = stack.last_mut() {
            if *want_key {
                *want_key = false;
                *key = match &ev {
                    Event::Scalar(v, ..) => Some(v.to_string()),
                    _ => None,
                };
                match ev {
                    Event::MappingStart(..) => stack.push(Frame::Map {
                        key: None,
                        want_key: true,
                    }),
                    Event::SequenceStart(..) => stack.push(Frame::Seq),
                    _ => {}
                }
                continue;
            }
        }
        // A value at the path of the stack.
        let path = keys(&stack);
        if let Some(Frame::Map { want_key, .. }) = stack.last_mut() {
            *want_key = true;
        }
        let p: Vec<Option<&str>> = path.iter().map(|k| k.as_deref()).collect();
        if p.len() >= 3 && p[0] == Some("Resources") {
            if let Some(id) = p[1] {
                if p.len() == 3 && p[2] == Some("Type") {
                    if let Event::Scalar(v, ..) = &ev {
                        rtypes.insert((doc, id.to_string()), v.to_string());
                    }
                }
                if p.len() >= 4 && p[2] == Some("Properties") && p[p.len() - 1] == Some("ImageId") {
                    let property = p[2..]
                        .iter()
                        .filter_map(|k| *k)
                        .filter(|k| *k != "[]")
                        .collect::<Vec<_>>()
                        .join(".");
                    let (literal, line) = match &ev {
                        Event::Scalar(v, style, _, tag) => {
                            let str_tag = tag
                                .as_ref()
                                .is_some_and(|t| t.suffix == "str" && t.handle != "!");
                            let literal = (tag.is_none() || str_tag).then(|| v.to_string());
                            let literal = if matches!(style, ScalarStyle::Plain)
                                && v.is_empty()
                                && tag.is_none()
                            {
                                // An empty plain value is YAML null, not a string.
                                None
                            } else {
                                literal
                            };
                            let exact = matches!(
                                style,
                                ScalarStyle::Plain
                                    | ScalarStyle::SingleQuoted
                                    | ScalarStyle::DoubleQuoted
                            ) && tag.is_none();
                            (literal, exact.then(|| span.start.line()))
                        }
                        _ => (None, None),
                    };
                    cands.push(Cand {
                        doc,
                        id: id.to_string(),
                        property,
                        literal,
                        line,
                    });
                }
            }
        }
        if p.len() == 2 && p[0] == Some("Workspace") && p[1].is_some_and(|n| n.ends_with(".tf")) {
            if let Event::Scalar(v, ..) = &ev {
                workspace.push(v.to_string());
            }
        }
        match ev {
            Event::MappingStart(..) => stack.push(Frame::Map {
                key: None,
                want_key: true,
            }),
            Event::SequenceStart(..) => stack.push(Frame::Seq),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for c in cands {
        if rtypes
            .get(&(c.doc, c.id.clone()))
            .is_some_and(|t| types.boots_image(t))
        {
            out.push(RefSite {
                resource: c.id,
                property: c.property,
                literal: c.literal,
                line: c.line,
                span: None,
                embedded: false,
            });
        }
    }
    for src in workspace {
        for mut s in hcl_sites(&src, types)? {
            s.line = None;
            s.span = None;
            s.embedded = true;
            out.push(s);
        }
    }
    Ok(out)
}
