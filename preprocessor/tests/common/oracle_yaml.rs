//! The YAML reference oracle: saphyr-parser events built into trees (aliases resolved, merge
//! keys applied as YAML loaders apply them), then the image sites of the ROS template.

use std::collections::HashMap;

use imagenest_preprocessor::ResourceTypes;

use super::{RefSite, embedded_sites};

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

pub(super) fn yaml_sites(text: &str, types: &ResourceTypes) -> Result<Vec<RefSite>, String> {
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
