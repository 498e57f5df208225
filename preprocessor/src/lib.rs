//! Span-preserving rewriting of image IDs in ROS and Terraform templates (DESIGN §4).
//!
//! [`scan`] finds every image site of a template (ROS YAML/JSON, Terraform HCL/JSON, and
//! Terraform embedded in a ROS `Workspace`) with its exact byte span and whether it holds a
//! literal; [`resolve`] looks literals up and prepares edits; [`Resolution::write_to`] splices
//! them into the original bytes. No document is ever re-serialised: an untouched template comes
//! back byte for byte.
//!
//! ```
//! use imagenest_preprocessor::{Format, Lookup, ScanOptions, resolve, scan};
//! let text = "Resources:\n  Vm:\n    Type: ALIYUN::ECS::Instance\n    Properties:\n      ImageId: centos_7 # base\n";
//! let sites = scan(text, Format::RosYaml, &ScanOptions::default()).unwrap();
//! let res = resolve(text, &sites, |lit| if lit == "centos_7" { Lookup::Image("m-bp1".into()) } else { Lookup::NotAssociated });
//! assert_eq!(res.apply(text), text.replace("centos_7", "m-bp1"));
//! ```

mod anchors;
mod embed;
pub mod error;
mod flow;
mod hcl;
mod hcl_expr;
mod resolve;
mod scalar;
pub mod site;
mod source;
mod tree;
mod tree_sites;
pub mod types;
mod yaml;

use std::path::Path;

pub use error::{Error, Position};
pub use resolve::{Edit, Lookup, Outcome, Resolution, resolve};
pub use site::{ImageSite, NonLiteral, NonLiteralKind, SiteValue};
pub use source::TemplateText;
pub use types::ResourceTypes;

use error::{PositionCursor, RawError};
use site::Quoting;

/// Largest template accepted by default (bigger input is refused, not scanned).
pub const DEFAULT_MAX_SIZE: usize = 256 * 1024 * 1024;

/// A template format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// ROS template in YAML (also JSON-looking YAML).
    RosYaml,
    /// ROS template in JSON.
    RosJson,
    /// Terraform native syntax (`.tf`).
    Terraform,
    /// Terraform JSON syntax (`.tf.json`).
    TerraformJson,
}

impl Format {
    /// The syntax the format is written in, for messages.
    pub fn syntax(self) -> &'static str {
        match self {
            Format::RosYaml => "YAML",
            Format::RosJson | Format::TerraformJson => "JSON",
            Format::Terraform => "HCL",
        }
    }

    /// Parses a `--format` value.
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "ros-yaml" | "yaml" => Format::RosYaml,
            "ros-json" | "json" => Format::RosJson,
            "tf" | "terraform" | "hcl" => Format::Terraform,
            "tf-json" | "terraform-json" => Format::TerraformJson,
            _ => return None,
        })
    }
}

/// Options of a scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Which resource types boot an image.
    pub resource_types: ResourceTypes,
    /// Inputs larger than this are refused.
    pub max_size: usize,
    /// Literal defaults of Terraform variables and locals defined in other files of the same
    /// module (`variables.tf`), for the hints of `var.`/`local.` sites.
    pub terraform_defaults: TerraformDefaults,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            resource_types: ResourceTypes::default(),
            max_size: DEFAULT_MAX_SIZE,
            terraform_defaults: TerraformDefaults::default(),
        }
    }
}

/// Literal string defaults of Terraform variables and locals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerraformDefaults {
    /// `variable "name" { default = "literal" }`.
    pub variables: std::collections::HashMap<String, String>,
    /// `locals { name = "literal" }`.
    pub locals: std::collections::HashMap<String, String>,
}

impl TerraformDefaults {
    /// Adds the literal defaults defined in the Terraform file `text` (nothing if it does not
    /// parse: these only improve hints).
    pub fn add_file(&mut self, text: &str) {
        let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let Ok(h) = hcl::scan(text, start, &mut |_| {}) else {
            return;
        };
        let literal = |span: &std::ops::Range<usize>| match hcl_expr::classify(&text[span.clone()])
        {
            hcl_expr::Expr::String { value } => Some(value),
            _ => None,
        };
        for (name, span) in &h.variables {
            if let Some(v) = literal(span) {
                self.variables.insert(name.clone(), v);
            }
        }
        for (name, span) in &h.locals {
            if let Some(v) = literal(span) {
                self.locals.insert(name.clone(), v);
            }
        }
    }
}

/// Whether a file name is one the preprocessor handles when walking a directory.
pub fn is_template_path(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [
        ".tf",
        ".tf.json",
        ".yaml",
        ".yml",
        ".json",
        ".ros",
        ".template",
    ]
    .iter()
    .any(|e| name.ends_with(e))
}

/// Picks the format from the file name, else from the content.
pub fn detect_format(path: Option<&Path>, text: &str) -> Format {
    let name = path
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    if name.ends_with(".tf.json") {
        return Format::TerraformJson;
    }
    if name.ends_with(".tf") {
        return Format::Terraform;
    }
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        return Format::RosYaml;
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text).trim_start();
    if body.starts_with('{') {
        // JSON: Terraform JSON has lower-case top-level blocks, ROS capitalised sections.
        let tf = [
            "\"resource\"",
            "\"variable\"",
            "\"provider\"",
            "\"terraform\"",
            "\"module\"",
            "\"data\"",
            "\"locals\"",
            "\"output\"",
        ];
        if !body.contains("ROSTemplateFormatVersion") && tf.iter().any(|k| body.contains(k)) {
            return Format::TerraformJson;
        }
        return if name.ends_with(".json") || serde_like_json(body) {
            Format::RosJson
        } else {
            Format::RosYaml
        };
    }
    if name.ends_with(".json") {
        return Format::RosJson;
    }
    if body.contains("ROSTemplateFormatVersion") {
        return Format::RosYaml;
    }
    let hcl_start = [
        "resource \"",
        "variable \"",
        "provider \"",
        "terraform {",
        "locals {",
        "data \"",
        "module \"",
        "output \"",
    ];
    if body
        .lines()
        .any(|l| hcl_start.iter().any(|k| l.starts_with(k)))
    {
        return Format::Terraform;
    }
    Format::RosYaml
}

/// Cheap guess whether `{…}` text is strict JSON rather than YAML flow (no comments, quoted keys).
fn serde_like_json(body: &str) -> bool {
    !body.contains('#') && body.trim_start_matches('{').trim_start().starts_with('"')
}

/// Checks raw input before scanning: size limit, no NUL bytes, valid UTF-8.
pub fn text_of<'b>(bytes: &'b [u8], name: &str, max_size: usize) -> Result<&'b str, Error> {
    if bytes.len() > max_size {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: max_size,
        });
    }
    if memchr::memchr(0, bytes).is_some() {
        return Err(Error::Binary(name.to_string()));
    }
    std::str::from_utf8(bytes).map_err(|_| Error::Binary(name.to_string()))
}

/// Like [`text_of`] for owned bytes: no copy, one UTF-8 check.
pub fn text_from_bytes(bytes: Vec<u8>, name: &str, max_size: usize) -> Result<String, Error> {
    if bytes.len() > max_size {
        return Err(Error::TooLarge {
            size: bytes.len(),
            limit: max_size,
        });
    }
    if memchr::memchr(0, &bytes).is_some() {
        return Err(Error::Binary(name.to_string()));
    }
    String::from_utf8(bytes).map_err(|_| Error::Binary(name.to_string()))
}

/// Finds every image site of `text`, in order, with positions.
pub fn scan(text: &str, format: Format, opts: &ScanOptions) -> Result<Vec<ImageSite>, Error> {
    if text.len() > opts.max_size {
        return Err(Error::TooLarge {
            size: text.len(),
            limit: opts.max_size,
        });
    }
    let mut sites =
        scan_sites(text, format, opts).map_err(|(raw, syntax)| raw.into_error(text, syntax))?;
    sites.sort_by_key(|s| s.span.start);
    let mut cursor = PositionCursor::new(text);
    for s in &mut sites {
        s.position = cursor.position(s.span.start);
    }
    Ok(sites)
}

/// Sites without positions; errors as byte offsets (so embedded scans can map them back).
pub(crate) fn scan_sites(
    text: &str,
    format: Format,
    opts: &ScanOptions,
) -> Result<Vec<ImageSite>, (RawError, &'static str)> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let syntax = format.syntax();
    match format {
        Format::RosYaml | Format::RosJson | Format::TerraformJson => {
            let mut sink = tree_sites::TreeSites::new(text, format != Format::RosYaml);
            let scanned = if format == Format::RosYaml {
                yaml::scan(text, start, &mut sink)
            } else {
                flow::scan_json(text, start, &mut sink)
            };
            scanned.map_err(|e| (e, syntax))?;
            if sink.alias_overflow {
                return Err((
                    RawError::new(
                        start,
                        "YAML aliases expand to too many nodes (aliases of aliases); write the values out",
                    ),
                    syntax,
                ));
            }
            let workspace = std::mem::take(&mut sink.workspace);
            let mut sites = sink.finish(&opts.resource_types);
            // The Workspace files are one Terraform module: their variable and local defaults
            // serve the hints of each other's `var.`/`local.` sites.
            let module_opts;
            let opts = if workspace.iter().any(|f| f.name.ends_with(".tf")) {
                let mut o = opts.clone();
                for f in workspace.iter().filter(|f| f.name.ends_with(".tf")) {
                    if let tree::NodeKind::Scalar(style) = f.node.kind {
                        o.terraform_defaults.add_file(&scalar::decode(
                            text,
                            style,
                            f.node.span.clone(),
                        ));
                    }
                }
                module_opts = o;
                &module_opts
            } else {
                opts
            };
            for file in &workspace {
                let embedded = embed::sites(text, file, opts).map_err(|e| {
                    // Re-raise as an offset error at the Workspace scalar.
                    (RawError::new(file.node.span.start, e.to_string()), syntax)
                })?;
                sites.extend(embedded);
            }
            Ok(sites)
        }
        Format::Terraform => hcl_sites(text, start, opts).map_err(|e| (e, syntax)),
    }
}

fn hcl_sites(text: &str, start: usize, opts: &ScanOptions) -> Result<Vec<ImageSite>, RawError> {
    use hcl_expr::Expr;
    let mut out =
        Vec::with_capacity(memchr::memmem::find_iter(text.as_bytes(), b"image_id").count());
    // Non-literal sites get their reason once the whole file (variables, locals) is known.
    let mut later: Vec<(usize, NonLiteralKind, Option<String>, Option<String>)> = Vec::new();
    let h = hcl::scan(text, start, &mut |a| {
        let Some(resource_type) = opts.resource_types.lookup(&a.resource_type) else {
            return;
        };
        let (value, quoting) = match hcl_expr::classify(&text[a.expr.clone()]) {
            Expr::String { value } => (SiteValue::Literal { literal: value }, Quoting::HclString),
            Expr::Heredoc { value, content } => (
                SiteValue::Literal { literal: value },
                Quoting::HclHeredoc {
                    content: a.expr.start + content.start..a.expr.start + content.end,
                },
            ),
            Expr::NonLiteral { kind, name, inner } => {
                later.push((out.len(), kind, name, inner));
                (
                    SiteValue::non_literal(kind, String::new(), String::new(), None),
                    Quoting::None,
                )
            }
        };
        out.push(ImageSite {
            resource: format!("{}.{}", a.resource_type, a.name),
            resource_type,
            property: a.property,
            embedded_in: None,
            span: a.expr,
            position: Position { line: 0, column: 0 },
            value,
            quoting,
        });
    })?;
    let literal_of = |span: Option<&std::ops::Range<usize>>| -> Option<String> {
        match hcl_expr::classify(&text[span?.clone()]) {
            Expr::String { value } => Some(value),
            _ => None,
        }
    };
    for (i, kind, name, inner) in later {
        let inner_kind = match (kind, inner.as_deref()) {
            (NonLiteralKind::Interpolation, Some("var")) => NonLiteralKind::Var,
            (NonLiteralKind::Interpolation, Some("local")) => NonLiteralKind::Local,
            (NonLiteralKind::Interpolation, Some("data")) => NonLiteralKind::Data,
            (k, _) => k,
        };
        let default = match (inner_kind, name.as_deref()) {
            (NonLiteralKind::Var, Some(n)) => Some(
                literal_of(h.variables.get(n))
                    .or_else(|| opts.terraform_defaults.variables.get(n).cloned()),
            ),
            (NonLiteralKind::Local, Some(n)) => Some(
                literal_of(h.locals.get(n))
                    .or_else(|| opts.terraform_defaults.locals.get(n).cloned()),
            ),
            _ => None,
        };
        let (reason, hint) = hcl_expr::explain(
            inner_kind,
            name.as_deref(),
            default.as_ref().map(|d| d.as_deref()),
        );
        let reason = if kind == NonLiteralKind::Interpolation && inner_kind != kind {
            format!("interpolation: {reason}")
        } else {
            reason
        };
        let expression = site::shorten(&text[out[i].span.clone()]);
        out[i].value = SiteValue::non_literal(kind, expression, reason, hint);
    }
    Ok(out)
}

/// A template after [`resolve_text`]: its sites, one outcome per site, and the new text.
#[derive(Debug, Clone)]
pub struct ResolvedTemplate {
    /// The format the template was read as.
    pub format: Format,
    /// Every image site, in order.
    pub sites: Vec<ImageSite>,
    /// Edits and outcomes (parallel to `sites`).
    pub resolution: Resolution,
    /// The rewritten template (the input byte for byte where nothing was replaced).
    pub output: String,
}

/// Scans, resolves and splices in one call (what `POST /v1/resolve/template` needs).
/// `name` (a file name such as `main.tf`) helps detect the format when `format` is `None`.
pub fn resolve_text(
    text: &str,
    name: Option<&str>,
    format: Option<Format>,
    opts: &ScanOptions,
    lookup: impl FnMut(&str) -> Lookup,
) -> Result<ResolvedTemplate, Error> {
    let format = format.unwrap_or_else(|| detect_format(name.map(Path::new), text));
    let sites = scan(text, format, opts)?;
    let resolution = resolve(text, &sites, lookup);
    let output = resolution.apply(text);
    Ok(ResolvedTemplate {
        format,
        sites,
        resolution,
        output,
    })
}

/// Every scalar of a YAML or JSON document as `(key path, decoded value)`: for differential
/// tests of the scanners against reference parsers. Not a stable API.
#[doc(hidden)]
pub fn debug_scalars(text: &str, json: bool) -> Result<Vec<(String, String)>, Error> {
    struct All<'t> {
        text: &'t str,
        out: Vec<(String, String)>,
    }
    impl<'t> tree::TreeSink<'t> for All<'t> {
        fn node(&mut self, path: &[tree::Key<'t>], node: &tree::Node) {
            if let tree::NodeKind::Scalar(style) = node.kind {
                let p = path
                    .iter()
                    .map(|k| match k {
                        tree::Key::Str(s) => s.as_ref(),
                        tree::Key::Index => "[]",
                        tree::Key::Complex => "?",
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                self.out
                    .push((p, scalar::decode(self.text, style, node.span.clone())));
            }
        }
    }
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut all = All {
        text,
        out: Vec::new(),
    };
    let r = if json {
        flow::scan_json(text, start, &mut all)
    } else {
        yaml::scan(text, start, &mut all)
    };
    r.map_err(|e| e.into_error(text, if json { "JSON" } else { "YAML" }))?;
    Ok(all.out)
}
