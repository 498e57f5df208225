//! Image sites: where a template names the image an instance boots from, and what is there.

use std::borrow::Cow;
use std::ops::Range;

use serde::Serialize;

use crate::error::Position;

/// One image site of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageSite {
    /// The resource: a ROS logical ID, or `type.name` for Terraform.
    pub resource: String,
    /// The resource type (`ALIYUN::ECS::Instance`, `alicloud_instance`).
    pub resource_type: Cow<'static, str>,
    /// The property path inside the resource (`Properties.ImageId`, `image_id`,
    /// `manager.manager_node.image_id`).
    pub property: Cow<'static, str>,
    /// For Terraform embedded in a ROS template: the `Workspace` file (`Workspace/main.tf`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embedded_in: Option<String>,
    /// Byte range of the value in the template (quotes and block scalar header included).
    #[serde(skip)]
    pub span: Range<usize>,
    /// Line and column of the value.
    #[serde(flatten)]
    pub position: Position,
    /// What the site holds.
    #[serde(flatten)]
    pub value: SiteValue,
    #[serde(skip)]
    pub(crate) quoting: Quoting,
}

impl ImageSite {
    /// Whether `resolve` can write an image ID at this site: a literal whose bytes can be
    /// replaced in place (not, say, a value of an embedded Terraform file folded over lines).
    pub fn rewritable(&self) -> bool {
        self.value.literal().is_some() && !matches!(self.quoting, Quoting::None)
    }
}

/// What an image site holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum SiteValue {
    /// A literal string: can be associated with a package (the Compute Nest rule).
    Literal {
        /// The decoded string.
        literal: String,
    },
    /// Anything else: cannot be associated; `check` reports it as an error.
    NonLiteral(Box<NonLiteral>),
}

/// A value at an image site that is not a literal string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonLiteral {
    /// What kind of expression it is.
    pub kind: NonLiteralKind,
    /// The expression as written (shortened).
    pub expression: String,
    /// Why it cannot be associated.
    pub reason: String,
    /// What to do instead, when we know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl SiteValue {
    pub(crate) fn non_literal(
        kind: NonLiteralKind,
        expression: String,
        reason: String,
        hint: Option<String>,
    ) -> Self {
        SiteValue::NonLiteral(Box::new(NonLiteral {
            kind,
            expression,
            reason,
            hint,
        }))
    }
}

impl SiteValue {
    /// Whether the site breaks the literal rule (a finding for `check` and `resolve`). Sites
    /// resolved at deploy time by the registry's ROS endpoint are information, not findings.
    pub fn is_problem(&self) -> bool {
        matches!(self, SiteValue::NonLiteral(n) if n.kind != NonLiteralKind::RegionImage)
    }

    /// The literal, if the site holds one.
    pub fn literal(&self) -> Option<&str> {
        match self {
            SiteValue::Literal { literal } => Some(literal),
            SiteValue::NonLiteral(_) => None,
        }
    }
}

/// Kinds of values that are not literal strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NonLiteralKind {
    /// ROS `Ref`.
    Ref,
    /// ROS `Fn::*`.
    Function,
    /// A YAML tag such as `!Ref`.
    Tag,
    /// A YAML alias `*name`.
    Alias,
    /// Terraform `var.`.
    Var,
    /// Terraform `local.`.
    Local,
    /// Terraform `data.`.
    Data,
    /// Terraform `module.`.
    Module,
    /// Another resource's attribute.
    ResourceAttr,
    /// A string with `${…}` or `%{…}`.
    Interpolation,
    /// A function call.
    FunctionCall,
    /// A `? :` conditional.
    Conditional,
    /// No value, a number, a collection, or something else.
    Other,
    /// `Fn::GetAtt: [X, ImageId]` of a `Custom::RegionImage` resource `X`: resolved at deploy time
    /// by the registry's ROS custom resource endpoint. Information, not a problem.
    RegionImage,
}

impl NonLiteralKind {
    /// The short name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            NonLiteralKind::Ref => "ref",
            NonLiteralKind::Function => "function",
            NonLiteralKind::Tag => "tag",
            NonLiteralKind::Alias => "alias",
            NonLiteralKind::Var => "var",
            NonLiteralKind::Local => "local",
            NonLiteralKind::Data => "data",
            NonLiteralKind::Module => "module",
            NonLiteralKind::ResourceAttr => "resource-attr",
            NonLiteralKind::Interpolation => "interpolation",
            NonLiteralKind::FunctionCall => "function-call",
            NonLiteralKind::Conditional => "conditional",
            NonLiteralKind::Other => "other",
            NonLiteralKind::RegionImage => "region-image",
        }
    }
}

/// How the value at a site is written, so a replacement can keep (or fix) its quoting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) enum Quoting {
    #[default]
    YamlPlain,
    YamlSingle,
    YamlDouble,
    /// Block scalar; the site's span runs from the header; `content` is the first content
    /// character to the end of the last content line.
    YamlBlock {
        content: Range<usize>,
    },
    JsonString,
    HclString,
    /// Heredoc; `content` is the text between the opening and closing lines.
    HclHeredoc {
        content: Range<usize>,
    },
    /// Terraform inside a ROS `Workspace` scalar: the span is the HCL string's content only.
    Embedded {
        outer: Outer,
    },
    /// Not replaceable (non-literal sites).
    None,
}

/// The YAML/JSON scalar style around embedded Terraform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outer {
    Block,
    Double,
    Single,
    Plain,
}

/// The message for a ROS `Ref` or Terraform `var.`/`local.` whose default is a literal.
pub(crate) fn default_hint(what: &str, name: &str, default: Option<&str>) -> String {
    match default {
        Some(d) if !d.is_empty() => {
            format!(
                "refers to {what} `{name}` whose default is `{d}`: write the literal `{d}` here to associate it"
            )
        }
        _ => format!(
            "refers to {what} `{name}`, chosen at deploy time: write the image ID literal here to associate it"
        ),
    }
}

/// Shortens an expression for a report line.
pub(crate) fn shorten(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 100 {
        let mut t: String = one_line.chars().take(97).collect();
        t.push_str("...");
        t
    } else {
        one_line
    }
}
