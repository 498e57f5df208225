//! Reference oracles: image sites found with general parsers (saphyr-parser for YAML, serde_json
//! for JSON, hcl-edit for HCL), written independently of the scanners, for differential tests.

use imagenest_preprocessor::{Format, ImageSite, ResourceTypes};

#[path = "oracle_yaml.rs"]
mod yaml;
use yaml::yaml_sites;

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

/// The scanner's sites in the oracle's shape: each is paired with a reference site of the
/// same resource, property and value (an exact position match first), and keeps only the
/// position facts that reference site has.
pub fn from_scan(sites: &[ImageSite], reference: &[RefSite]) -> Vec<RefSite> {
    let mut used = vec![false; reference.len()];
    let same = |o: &RefSite, r: &RefSite| {
        o.resource == r.resource
            && o.property == r.property
            && o.literal == r.literal
            && o.embedded == r.embedded
    };
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
    // Exact matches first, then the rest in order.
    let mut pending = Vec::new();
    for (i, o) in out.iter().enumerate() {
        let exact = (0..reference.len()).find(|&j| {
            let r = &reference[j];
            !used[j]
                && same(o, r)
                && r.line.is_some_and(|l| Some(l) == o.line)
                && r.span.is_none_or(|sp| Some(sp) == o.span)
        });
        match exact {
            Some(j) => {
                used[j] = true;
                if reference[j].span.is_none() {
                    pending.push((i, true));
                }
            }
            None => pending.push((i, false)),
        }
    }
    for (i, matched) in pending {
        if matched {
            out[i].span = None;
            continue;
        }
        let j = (0..reference.len())
            .find(|&j| !used[j] && same(&out[i], &reference[j]) && reference[j].line.is_none())
            .or_else(|| (0..reference.len()).find(|&j| !used[j] && same(&out[i], &reference[j])));
        if let Some(j) = j {
            used[j] = true;
            if reference[j].line.is_none() {
                out[i].line = None;
            }
            if reference[j].span.is_none() {
                out[i].span = None;
            }
        } else {
            out[i].line = None;
            out[i].span = None;
        }
    }
    out.sort();
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
                        // A heredoc without interpolations or directives is a literal; its final
                        // line break is not part of the image ID.
                        Expression::HeredocTemplate(h) => {
                            let mut value = String::new();
                            h.template
                                .iter()
                                .all(|e| match e {
                                    hcl_edit::template::Element::Literal(l) => {
                                        value.push_str(l.value());
                                        true
                                    }
                                    _ => false,
                                })
                                .then(|| value.trim_end_matches(['\n', '\r']).to_string())
                        }
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
        if let Structure::Block(b) = s
            && b.ident.as_str() == "resource"
            && b.labels.len() == 2
        {
            let (ty, name) = (label(&b.labels[0]), label(&b.labels[1]));
            if types.boots_image(&ty) {
                walk(&b.body, "", &ty, &name, &mut out, text);
            }
        }
    }
    Ok(out)
}

/// A JSON value that keeps every entry of an object, duplicate keys included (serde_json's
/// `Value` keeps only the last one; the scanner reports every duplicate, which is the safe
/// choice whichever one a loader keeps).
#[derive(Debug)]
enum Json {
    Obj(Vec<(String, Json)>),
    Arr(Vec<Json>),
    Str(String),
    Other,
}

impl Json {
    /// The value of `key` (the last one, as JSON loaders keep it).
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn entries(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(m) => m,
            _ => &[],
        }
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::Str(v))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Json::Arr(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = a.next_entry()? {
                    v.push(e);
                }
                Ok(Json::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

fn json_sites(text: &str, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
    let root: Json = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    if let Some(res) = root.get("Resources") {
        for (id, r) in res.entries() {
            let ty = r.get("Type").and_then(Json::as_str).unwrap_or("");
            if !types.boots_image(ty) {
                continue;
            }
            for (k, props) in r.entries() {
                if k != "Properties" {
                    continue;
                }
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
    if let Some(ws) = root.get("Workspace") {
        for (name, body) in ws.entries() {
            if let Some(src) = body.as_str() {
                out.extend(embedded_sites(name, src, types)?);
            }
        }
    }
    let resource_blocks: Vec<&Json> = match root.get("resource") {
        Some(Json::Arr(a)) => a.iter().collect(),
        Some(v @ Json::Obj(_)) => vec![v],
        _ => vec![],
    };
    for block in resource_blocks {
        for (ty, named) in block.entries() {
            if !types.boots_image(ty) {
                continue;
            }
            let named: Vec<&Json> = match named {
                Json::Arr(a) => a.iter().collect(),
                v => vec![v],
            };
            for n in named {
                for (name, body) in n.entries() {
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

/// The sites of a `Workspace` file (`main.tf`, `main.tf.json`) of a ROS template.
pub(crate) fn embedded_sites(
    name: &str,
    src: &str,
    types: &ResourceTypes,
) -> Result<Vec<RefSite>, String> {
    let mut sites = if name.ends_with(".tf") {
        hcl_sites(src, types)?
    } else if name.ends_with(".tf.json") {
        json_sites(src, types)?
    } else {
        return Ok(Vec::new());
    };
    for s in &mut sites {
        s.line = None;
        s.span = None;
        s.embedded = true;
    }
    Ok(sites)
}

fn has_template(s: &str) -> bool {
    s.replace("$${", "").replace("%%{", "").contains("${") || s.replace("%%{", "").contains("%{")
}

/// Every value under `key` at any depth of `v` (through arrays), with its dotted key path.
fn find_key<'v>(v: &'v Json, key: &str, path: &mut Vec<String>, out: &mut Vec<(String, &'v Json)>) {
    match v {
        Json::Obj(m) => {
            for (k, child) in m {
                path.push(k.clone());
                if k == key {
                    out.push((path.join("."), child));
                }
                find_key(child, key, path, out);
                path.pop();
            }
        }
        Json::Arr(a) => {
            for child in a {
                find_key(child, key, path, out);
            }
        }
        _ => {}
    }
}
