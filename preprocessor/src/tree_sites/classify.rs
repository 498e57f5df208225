//! How a candidate site is classified: a literal (and how it is quoted, for the rewrite) or
//! why it is not one, for ROS values and Terraform JSON values.

use super::{Candidate, TreeSites};
use crate::hcl_expr::{self, Expr};
use crate::scalar;
use crate::site::{NonLiteralKind, Quoting, SiteValue, default_hint, shorten};
use crate::tree::{Node, NodeKind, ScalarStyle};

impl TreeSites<'_> {
    pub(super) fn literal_quoting(&self, node: &Node) -> Quoting {
        match node.kind {
            NodeKind::Scalar(ScalarStyle::Plain) => Quoting::YamlPlain,
            NodeKind::Scalar(ScalarStyle::Single) => Quoting::YamlSingle,
            NodeKind::Scalar(ScalarStyle::Double) => Quoting::YamlDouble,
            NodeKind::Scalar(ScalarStyle::Block { .. }) => {
                let s = node.span.clone();
                let first = s.start
                    + self.text[s.clone()]
                        .bytes()
                        .take_while(|&b| b == b' ' || b == b'\r' || b == b'\n')
                        .count();
                Quoting::YamlBlock {
                    content: first.min(s.end)..s.end,
                }
            }
            _ => Quoting::None,
        }
    }

    pub(super) fn classify_ros(&self, c: &Candidate) -> (SiteValue, Quoting) {
        let node = &c.node;
        let tag = node.tag.as_ref().map(|t| &self.text[t.clone()]);
        let non = |kind, expression: String, reason: String, hint: Option<String>| {
            (
                SiteValue::non_literal(kind, shorten(&expression), reason, hint),
                Quoting::None,
            )
        };
        const LIMIT: &str = "Compute Nest associates only literal image IDs";
        let param_hint =
            |name: &str| default_hint("parameter", name, self.params.get(name).map(String::as_str));
        match (node.kind, tag) {
            (NodeKind::Scalar(ScalarStyle::Empty), None) => non(
                NonLiteralKind::Other,
                String::new(),
                "the image ID is empty (null)".into(),
                Some("write the image ID literal here".into()),
            ),
            (NodeKind::Scalar(ScalarStyle::Plain), None)
                if scalar::plain_non_string(&self.text[node.span.clone()]).is_some() =>
            {
                let raw = &self.text[node.span.clone()];
                let what = scalar::plain_non_string(raw).unwrap_or("not a string");
                non(
                    NonLiteralKind::Other,
                    raw.to_string(),
                    format!("`{raw}` is {what} in YAML and JSON, not a string; {LIMIT}"),
                    Some(format!(
                        "if `{raw}` is the image ID literal, quote it: \"{raw}\""
                    )),
                )
            }
            (NodeKind::Scalar(style), None | Some("!!str" | "!<tag:yaml.org,2002:str>")) => {
                let mut literal = scalar::decode(self.text, style, node.span.clone());
                if let ScalarStyle::Block { .. } = style {
                    // `|` gives `centos_7\n`: an image ID never ends with a line break, so the
                    // literal is the text without it (the block keeps it when rewritten).
                    let keep = literal.trim_end_matches(['\n', '\r']).len();
                    literal.truncate(keep);
                }
                (SiteValue::Literal { literal }, self.literal_quoting(node))
            }
            (NodeKind::Scalar(style), Some("!GetAtt"))
                if self.region_images.contains(
                    scalar::decode(self.text, style, node.span.clone())
                        .split('.')
                        .next()
                        .unwrap_or_default(),
                ) =>
            {
                let arg = scalar::decode(self.text, style, node.span.clone());
                non(
                    NonLiteralKind::RegionImage,
                    format!("!GetAtt {arg}"),
                    "resolved at deploy time by the registry's ROS custom resource endpoint (a Custom::RegionImage)".into(),
                    None,
                )
            }
            (NodeKind::Scalar(style), Some(t)) => {
                let arg = scalar::decode(self.text, style, node.span.clone());
                let hint = if t == "!Ref" && !arg.is_empty() {
                    Some(param_hint(&arg))
                } else {
                    None
                };
                non(
                    NonLiteralKind::Tag,
                    format!("{t} {arg}"),
                    format!("the YAML tag `{t}` makes the value computed at deploy time; {LIMIT}"),
                    hint.or(Some("write the image ID literal here".into())),
                )
            }
            (NodeKind::Alias, _) => non(
                NonLiteralKind::Alias,
                self.text[node.span.clone()].to_string(),
                format!(
                    "a YAML alias refers to a value written elsewhere; {LIMIT} written at the site"
                ),
                Some("write the literal here instead of the alias".into()),
            ),
            (NodeKind::Mapping | NodeKind::Sequence, Some(t)) => non(
                NonLiteralKind::Tag,
                t.to_string(),
                format!("the YAML tag `{t}` makes the value computed at deploy time; {LIMIT}"),
                None,
            ),
            (NodeKind::Mapping, None) => match c.mapping.as_deref().map(|m| m.0.as_str()) {
                Some("Ref") => {
                    let target = c
                        .mapping
                        .as_deref()
                        .and_then(|m| m.1.clone())
                        .unwrap_or_default();
                    non(
                        NonLiteralKind::Ref,
                        format!("Ref: {target}"),
                        format!("`Ref` is resolved at deploy time; {LIMIT}"),
                        Some(param_hint(&target)),
                    )
                }
                Some("Fn::GetAtt")
                    if c.mapping
                        .as_deref()
                        .and_then(|m| m.1.as_deref())
                        .is_some_and(|t| self.region_images.contains(t)) =>
                {
                    let target = c
                        .mapping
                        .as_deref()
                        .and_then(|m| m.1.clone())
                        .unwrap_or_default();
                    non(
                        NonLiteralKind::RegionImage,
                        format!("Fn::GetAtt: [{target}, ImageId]"),
                        format!(
                            "resolved at deploy time by the registry's ROS custom resource endpoint (`{target}` is a Custom::RegionImage)"
                        ),
                        None,
                    )
                }
                Some(f) if f.starts_with("Fn::") => non(
                    NonLiteralKind::Function,
                    f.to_string(),
                    format!("`{f}` is computed at deploy time; {LIMIT}"),
                    Some("write the image ID literal here".into()),
                ),
                other => non(
                    NonLiteralKind::Other,
                    other.unwrap_or("{}").to_string(),
                    format!("a mapping is not a literal string; {LIMIT}"),
                    None,
                ),
            },
            (NodeKind::Sequence, None) => non(
                NonLiteralKind::Other,
                "[…]".into(),
                format!("a list is not a literal string; {LIMIT}"),
                None,
            ),
        }
    }

    pub(super) fn classify_tf(&self, c: &Candidate) -> (SiteValue, Quoting) {
        let node = &c.node;
        let raw = &self.text[node.span.clone()];
        if let NodeKind::Scalar(ScalarStyle::Double) = node.kind {
            let s = scalar::decode(self.text, ScalarStyle::Double, node.span.clone());
            if !hcl_expr::has_template(&s) {
                let literal = s.replace("$${", "${").replace("%%{", "%{");
                return (SiteValue::Literal { literal }, Quoting::JsonString);
            }
            let quoted = format!("\"{}\"", s.replace('"', "\\\""));
            if let Expr::NonLiteral { kind, name, .. } = hcl_expr::classify(&quoted) {
                let inner = s
                    .strip_prefix("${")
                    .and_then(|r| r.strip_suffix('}'))
                    .map(str::trim)
                    .map(hcl_expr::classify);
                let default = match (&inner, name.as_deref()) {
                    (
                        Some(Expr::NonLiteral {
                            kind: NonLiteralKind::Var,
                            ..
                        }),
                        Some(n),
                    ) => Some(self.tf_vars.get(n).map(String::as_str)),
                    _ => None,
                };
                let (reason, hint) = match inner {
                    Some(Expr::NonLiteral {
                        kind: k, name: n, ..
                    }) => hcl_expr::explain(k, n.as_deref(), default),
                    _ => hcl_expr::explain(kind, name.as_deref(), None),
                };
                return (
                    SiteValue::non_literal(kind, shorten(&s), reason, hint),
                    Quoting::None,
                );
            }
        }
        let (reason, hint) = hcl_expr::explain(NonLiteralKind::Other, None, None);
        (
            SiteValue::non_literal(NonLiteralKind::Other, shorten(raw), reason, hint),
            Quoting::None,
        )
    }
}
