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
fn embedded_sites(name: &str, src: &str, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
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

/// A YAML node built from saphyr-parser events, aliases resolved (and marked).
#[derive(Debug, Clone)]
enum Y {
    Scalar {
        value: String,
        style: saphyr_parser::ScalarStyle,
        /// Tagged with something else than `!!str`.
        tagged: bool,
        /// Tagged `!!str` (a string whatever it looks like).
        str_tagged: bool,
        line: usize,
        col: usize,
    },
    Map(Vec<(Y, Y)>),
    Seq(Vec<Y>),
    /// An alias, with the node its anchor names.
    Alias(Box<Y>),
}

impl Y {
    /// Through aliases.
    fn target(&self) -> &Y {
        match self {
            Y::Alias(t) => t.target(),
            other => other,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self.target() {
            Y::Scalar { value, tagged, .. } if !tagged => Some(value),
            _ => None,
        }
    }

    /// The entries of a mapping as YAML loaders with merge keys see them: keys written in
    /// the mapping first (all of them), then merged keys (`<<: *a` or `<<: [*a, *b]`) that
    /// are not written, the first merge winning.
    fn entries(&self) -> Vec<(String, &Y)> {
        let Y::Map(m) = self.target() else {
            return Vec::new();
        };
        let mut out: Vec<(String, &Y)> = Vec::new();
        let mut merges = Vec::new();
        for (k, v) in m {
            match k.as_str() {
                Some("<<")
                    if matches!(
                        k,
                        Y::Scalar {
                            style: saphyr_parser::ScalarStyle::Plain,
                            ..
                        }
                    ) =>
                {
                    merges.push(v)
                }
                Some(k) => out.push((k.to_string(), v)),
                None => {}
            }
        }
        for v in merges {
            let sources: Vec<&Y> = match v.target() {
                Y::Seq(items) => items.iter().collect(),
                other => vec![other],
            };
            for src in sources {
                for (k, v) in src.entries() {
                    if !out.iter().any(|(o, _)| *o == k) {
                        out.push((k, v));
                    }
                }
            }
        }
        out
    }

    /// The value of `key` (the last one, as loaders keep it).
    fn get(&self, key: &str) -> Option<&Y> {
        self.entries()
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// Every value of `key` (duplicates included: the scanner reports a site in each).
    fn all(&self, key: &str) -> Vec<&Y> {
        self.entries()
            .into_iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v)
            .collect()
    }
}

/// The documents of a YAML stream as trees.
fn yaml_documents(text: &str) -> Result<Vec<Y>, String> {
    use saphyr_parser::{Event, Parser};
    enum Open {
        Map(Vec<(Y, Y)>, Option<Y>, usize),
        Seq(Vec<Y>, usize),
    }
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, Y> = HashMap::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut docs = Vec::new();
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| e.to_string())?;
        let (node, anchor) = match ev {
            Event::DocumentStart(_) => {
                anchors.clear();
                continue;
            }
            Event::MappingStart(a, _) => {
                stack.push(Open::Map(Vec::new(), None, a));
                continue;
            }
            Event::SequenceStart(a, _) => {
                stack.push(Open::Seq(Vec::new(), a));
                continue;
            }
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map(m, _, a)) => (Y::Map(m), a),
                _ => return Err("unbalanced mapping".into()),
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq(v, a)) => (Y::Seq(v), a),
                _ => return Err("unbalanced sequence".into()),
            },
            Event::Scalar(v, style, a, tag) => {
                let str_tagged = tag.as_ref().is_some_and(|t| {
                    // `!!str` (the handle as written or resolved) or verbatim; not `!x!str`.
                    (matches!(t.handle.as_str(), "!!" | "tag:yaml.org,2002:") && t.suffix == "str")
                        || format!("{}{}", t.handle, t.suffix) == "tag:yaml.org,2002:str"
                });
                (
                    Y::Scalar {
                        value: v.to_string(),
                        style,
                        tagged: tag.is_some() && !str_tagged,
                        str_tagged,
                        line: span.start.line(),
                        col: span.start.col(),
                    },
                    a,
                )
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(t) => (Y::Alias(Box::new(t.clone())), 0),
                None => return Err(format!("unknown anchor {id}")),
            },
            _ => continue,
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            Some(Open::Map(m, key, _)) => match key.take() {
                None => *key = Some(node),
                Some(k) => m.push((k, node)),
            },
            Some(Open::Seq(v, _)) => v.push(node),
            None => docs.push(node),
        }
    }
    Ok(docs)
}

fn yaml_sites(text: &str, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
    use saphyr_parser::ScalarStyle;
    let mut out = Vec::new();
    for doc in yaml_documents(text)? {
        // Where the ImageId scalars of resources that do not boot an image are written: an
        // image site sharing one (through an anchor) cannot be rewritten.
        let mut shared = std::collections::HashSet::new();
        for res in doc.all("Resources") {
            for (_, r) in res.entries() {
                let Some(ty) = r.get("Type").and_then(Y::as_str) else {
                    continue;
                };
                if types.boots_image(ty) {
                    continue;
                }
                for props in r.all("Properties") {
                    let mut found = Vec::new();
                    find_yaml_key(props, &mut Vec::new(), &mut found);
                    for (_, v) in found {
                        if let Y::Scalar { line, col, .. } = v {
                            shared.insert((*line, *col));
                        }
                    }
                }
            }
        }
        for res in doc.all("Resources") {
            for (id, r) in res.entries() {
                let ty = r.get("Type").and_then(Y::as_str).unwrap_or("");
                if !types.boots_image(ty) {
                    continue;
                }
                let mut found = Vec::new();
                for props in r.all("Properties") {
                    find_yaml_key(props, &mut vec!["Properties".to_string()], &mut found);
                }
                for (property, v) in found {
                    let (literal, line) = match v {
                        Y::Scalar {
                            value,
                            style,
                            tagged,
                            str_tagged,
                            line,
                            col,
                        } => {
                            let plain = matches!(style, ScalarStyle::Plain) && !str_tagged;
                            let literal = if *tagged
                                || plain && core_schema_non_string(value)
                                || shared.contains(&(*line, *col))
                            {
                                // An empty plain value is YAML null, `12` a number: not strings.
                                None
                            } else if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                                // A block scalar's final line breaks are not part of the image ID.
                                Some(value.trim_end_matches('\n').to_string())
                            } else {
                                Some(value.clone())
                            };
                            let exact = !tagged
                                && !str_tagged
                                && matches!(
                                    style,
                                    ScalarStyle::Plain
                                        | ScalarStyle::SingleQuoted
                                        | ScalarStyle::DoubleQuoted
                                );
                            (literal, exact.then_some(*line))
                        }
                        // `ImageId: *alias` of a literal is that literal (written at the alias).
                        Y::Alias(t) => match &**t {
                            Y::Scalar {
                                value,
                                style,
                                tagged: false,
                                str_tagged,
                                ..
                            } if *str_tagged
                                || !(matches!(style, ScalarStyle::Plain)
                                    && core_schema_non_string(value)) =>
                            {
                                (Some(value.clone()), None)
                            }
                            _ => (None, None),
                        },
                        _ => (None, None),
                    };
                    out.push(RefSite {
                        resource: id.clone(),
                        property,
                        literal,
                        line,
                        span: None,
                        embedded: false,
                    });
                }
            }
        }
        for ws in doc.all("Workspace") {
            for (name, body) in ws.entries() {
                if let Some(src) = body.as_str() {
                    out.extend(embedded_sites(&name, src, types)?);
                }
            }
        }
    }
    Ok(out)
}

/// Every `ImageId` value under `v` (through sequences, aliases and merge keys), with its
/// dotted key path.
fn find_yaml_key<'v>(v: &'v Y, path: &mut Vec<String>, out: &mut Vec<(String, &'v Y)>) {
    match v.target() {
        Y::Map(_) => {
            for (k, child) in v.entries() {
                path.push(k.clone());
                if k == "ImageId" {
                    out.push((path.join("."), child));
                }
                find_yaml_key(child, path, out);
                path.pop();
            }
        }
        Y::Seq(items) => {
            for child in items {
                find_yaml_key(child, path, out);
            }
        }
        _ => {}
    }
}

/// Whether a plain YAML scalar resolves to null, a boolean or a number (YAML 1.2 core schema,
/// plus the YAML 1.1 booleans `yes`/`no`/`on`/`off`).
fn core_schema_non_string(v: &str) -> bool {
    let words = [
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE", "yes",
        "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", ".nan", ".NaN",
        ".NAN",
    ];
    if words.contains(&v) {
        return true;
    }
    let u = v.strip_prefix(['+', '-']).unwrap_or(v);
    if [".inf", ".Inf", ".INF"].contains(&u) {
        return true;
    }
    if let Some(h) = v.strip_prefix("0x") {
        return !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit());
    }
    if let Some(o) = v.strip_prefix("0o") {
        return !o.is_empty() && o.chars().all(|c| ('0'..='7').contains(&c));
    }
    let (mantissa, exp) = match u.find(['e', 'E']) {
        Some(i) => (&u[..i], Some(&u[i + 1..])),
        None => (u, None),
    };
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mantissa_ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    mantissa_ok && exp_ok
}
