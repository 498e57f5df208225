//! Image sites of ROS templates (YAML or JSON) and of Terraform JSON, from the tree scanners.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::anchors::Anchors;
use crate::error::Position;
use crate::scalar;
use crate::site::{ImageSite, NonLiteralKind, Quoting, SiteValue, shorten};
use crate::tree::{Key, Node, NodeKind, ScalarStyle, TreeSink};
use crate::types::ResourceTypes;

mod classify;
mod merges;

/// The resource being scanned: its ID, its type so far, and its index in `resources` once it
/// holds a candidate.
type Current<'t> = (Cow<'t, str>, Option<Cow<'t, str>>, Option<usize>);

/// A ROS resource seen while scanning (its nodes arrive together, after its own node).
#[derive(Debug)]
struct Resource<'t> {
    id: Cow<'t, str>,
    ty: Option<Cow<'t, str>>,
}

#[derive(Debug)]
struct Candidate {
    /// Index into `resources` for ROS; `None` for Terraform JSON.
    resource: Option<usize>,
    /// Terraform JSON: `type.name` and the type.
    tf: Option<Box<(String, String)>>,
    property: Cow<'static, str>,
    node: Node,
    /// For a mapping value: its first key (`Ref`, `Fn::Join`) and, for `Ref`, the target.
    mapping: Option<Box<(String, Option<String>)>>,
    /// How many merge keys it arrived through (0: none).
    merge_depth: usize,
    /// Which alias expansion produced it (0: written where it is).
    batch: usize,
    /// For a merged candidate: the mapping it was merged into (where that mapping starts) and
    /// the merged key it sits under; a key written in that mapping overrides it.
    merge_key: Option<Box<(usize, String, usize)>>,
    /// `ImageId: *alias` of an anchored scalar: `node` is the anchored scalar, this is the
    /// alias, which a replacement takes (the anchor stays as it is for its other uses).
    alias_span: Option<std::ops::Range<usize>>,
}

/// A `Workspace` file of a ROS template that embeds Terraform.
#[derive(Debug)]
pub(crate) struct WorkspaceFile {
    pub name: String,
    pub node: Node,
}

/// Collects candidate sites while a YAML or JSON scanner runs.
pub(crate) struct TreeSites<'t> {
    text: &'t str,
    terraform_json: bool,
    /// Resources that hold at least one candidate.
    resources: Vec<Resource<'t>>,
    /// The resource being scanned: its ID, its type so far, its index in `resources` if any.
    current: Option<Current<'t>>,
    candidates: Vec<Candidate>,
    open: Option<(usize, usize)>,
    params: HashMap<String, String>,
    /// Logical IDs of `Custom::RegionImage` resources (the registry's ROS custom resource).
    region_images: std::collections::HashSet<String>,
    tf_vars: HashMap<String, String>,
    pub workspace: Vec<WorkspaceFile>,
    anchors: Anchors<'t>,
    /// How many alias expansions deep the current node is (0: written where it is).
    alias_depth: usize,
    /// How many of those expansions are merge keys (`<<`).
    merging: usize,
    any_merged: bool,
    /// The text has `<<`: merge keys are possible, so written keys are tracked.
    may_merge: bool,
    /// Where the collections on the path of the current node start (by path length).
    starts: Vec<usize>,
    /// Keys written in the mappings of the current resource: (mapping start, key).
    written: Vec<(usize, Key<'t>)>,
    /// The merge being expanded: (start of the mapping merged into, length of its path, which
    /// merge source).
    merge_ctx: Option<(usize, usize, usize)>,
    /// Merge sources expanded so far (their order decides which one wins).
    merge_sources: usize,
    /// Alias expansions started at a written alias so far.
    batches: usize,
    /// Keys supplied by the merges of each mapping so far (by where the mapping starts).
    merge_supplied: HashMap<usize, Vec<String>>,
    /// Candidates of the current resource start here (merges are settled when it ends).
    resource_first: usize,
    /// Some node arrived through an alias.
    any_alias: bool,
    /// Nodes produced by expanding aliases so far.
    expanded: usize,
    /// Expanding aliases went past the limit: the template is refused.
    pub alias_overflow: bool,
}

impl<'t> TreeSites<'t> {
    pub fn new(text: &'t str, terraform_json: bool) -> Self {
        // Every site mentions its key, so this bounds the number of candidates (and avoids
        // growing a large vector by doubling).
        let key: &[u8] = if terraform_json {
            b"image_id"
        } else {
            b"ImageId"
        };
        let bound = memchr::memmem::find_iter(text.as_bytes(), key).count();
        TreeSites {
            text,
            terraform_json,
            resources: Vec::new(),
            current: None,
            candidates: Vec::with_capacity(bound),
            open: None,
            params: HashMap::new(),
            region_images: std::collections::HashSet::new(),
            tf_vars: HashMap::new(),
            workspace: Vec::new(),
            anchors: Anchors::default(),
            alias_depth: 0,
            merging: 0,
            any_merged: false,
            may_merge: memchr::memmem::find(text.as_bytes(), b"<<").is_some(),
            starts: Vec::new(),
            written: Vec::new(),
            merge_ctx: None,
            merge_sources: 0,
            batches: 0,
            merge_supplied: HashMap::new(),
            resource_first: 0,
            any_alias: false,
            expanded: 0,
            alias_overflow: false,
        }
    }

    fn scalar_value(&self, node: &Node) -> Option<String> {
        match node.kind {
            NodeKind::Scalar(style) if node.tag.is_none() || self.is_str_tag(node) => {
                Some(scalar::decode(self.text, style, node.span.clone()))
            }
            _ => None,
        }
    }

    fn is_str_tag(&self, node: &Node) -> bool {
        node.tag
            .as_ref()
            .is_some_and(|t| is_str_tag(&self.text[t.clone()]))
    }

    /// Turns the candidates into image sites of image-booting types.
    pub fn finish(mut self, types: &ResourceTypes) -> Vec<ImageSite> {
        if self.any_merged {
            self.settle_merges();
            self.drop_overridden_merges();
        }
        // Values that an alias or merge key also gives to a resource that does not boot an
        // image (a `CopyImage` source): rewriting them would change that resource too.
        let shared: std::collections::HashMap<(usize, usize), &str> = if self.any_alias {
            self.candidates
                .iter()
                .filter(|c| c.alias_span.is_none() && c.tf.is_none())
                .filter_map(|c| {
                    let r = &self.resources[c.resource?];
                    let t = r.ty.as_deref()?;
                    types
                        .lookup(t)
                        .is_none()
                        .then(|| ((c.node.span.start, c.node.span.end), r.id.as_ref()))
                })
                .collect()
        } else {
            Default::default()
        };
        let mut out = Vec::with_capacity(self.candidates.len());
        for c in &self.candidates {
            let (resource, ty) = match (c.tf.as_deref(), c.resource) {
                (Some((r, t)), _) => (r.clone(), t.as_str()),
                (None, Some(i)) => match &self.resources[i].ty {
                    Some(t) => (self.resources[i].id.to_string(), t.as_ref()),
                    None => continue,
                },
                (None, None) => continue,
            };
            let Some(ty) = types.lookup(ty) else { continue };
            let (value, mut quoting) = if c.tf.is_some() {
                self.classify_tf(c)
            } else {
                self.classify_ros(c)
            };
            if c.alias_span.is_some() && value.literal().is_some() {
                // The alias itself is replaced by the image ID.
                quoting = Quoting::YamlPlain;
            }
            let value = match shared.get(&(c.node.span.start, c.node.span.end)) {
                Some(other) if c.alias_span.is_none() && value.literal().is_some() => {
                    quoting = Quoting::None;
                    SiteValue::non_literal(
                        NonLiteralKind::Alias,
                        shorten(&self.text[c.node.span.clone()]),
                        format!(
                            "this ImageId is also `{other}`'s, through a YAML anchor; rewriting it \
                             would change `{other}`, which does not boot the image"
                        ),
                        Some("write the image ID literal in this resource instead of sharing it through an anchor".into()),
                    )
                }
                _ => value,
            };
            out.push(ImageSite {
                resource,
                resource_type: ty,
                property: c.property.clone(),
                embedded_in: None,
                span: match c.node.kind {
                    _ if c.alias_span.is_some() => c.alias_span.clone().unwrap_or_default(),
                    // An empty block scalar: just its header (`|-`), not the line break after it.
                    NodeKind::Scalar(ScalarStyle::Block { header, .. })
                        if c.node.span.is_empty() =>
                    {
                        header..block_header_end(self.text, header)
                    }
                    NodeKind::Scalar(ScalarStyle::Block { header, .. }) => header..c.node.span.end,
                    _ => c.node.span.clone(),
                },
                position: Position { line: 0, column: 0 },
                value,
                quoting,
            });
        }
        out
    }
}

/// Whether a tag is YAML's string tag (`!!str`, or written out verbatim).
fn is_str_tag(tag: &str) -> bool {
    tag == "!!str" || tag == "!<tag:yaml.org,2002:str>"
}

/// End of a block scalar header (`|`, `>-`, `|2+`) starting at `header`.
fn block_header_end(text: &str, header: usize) -> usize {
    header
        + 1
        + text.as_bytes()[header + 1..]
            .iter()
            .take(2)
            .take_while(|b| matches!(b, b'-' | b'+' | b'1'..=b'9'))
            .count()
}

impl<'t> TreeSink<'t> for TreeSites<'t> {
    fn document(&mut self) {
        self.settle_merges();
        self.open = None;
        self.current = None;
        self.anchors.clear();
    }

    fn anchor(&mut self, name: &'t str) {
        self.anchors.anchor(name);
    }

    fn node(&mut self, path: &[Key<'t>], node: &Node) {
        // Anchors hold what is written in them; aliases inside are expanded where used.
        if self.alias_depth == 0 {
            self.anchors.observe(path, node);
            if self.may_merge {
                self.track_written(path, node);
            }
        }
        self.site_node(path, node);
        if node.kind == NodeKind::Alias && path.first().is_some_and(|k| k.is("Resources")) {
            self.expand_alias(path, node);
        }
    }
}

impl<'t> TreeSites<'t> {
    fn site_node(&mut self, path: &[Key<'t>], node: &Node) {
        if let Some((idx, depth)) = self.open {
            if path.len() <= depth {
                self.open = None;
            } else if path.len() == depth + 1 {
                let first = path[depth].as_str().map(str::to_string);
                let target = match first.as_deref() {
                    Some("Ref") => self.scalar_value(node),
                    // `Fn::GetAtt: BaseImage.ImageId`.
                    Some("Fn::GetAtt") => self
                        .scalar_value(node)
                        .map(|v| v.split('.').next().unwrap_or_default().to_string()),
                    _ => None,
                };
                let c = &mut self.candidates[idx];
                if c.mapping.is_none()
                    && let Some(first) = first
                {
                    c.mapping = Some(Box::new((first, target)));
                }
            } else if path.len() == depth + 2 && path[depth].is("Fn::GetAtt") {
                // `Fn::GetAtt: [BaseImage, ImageId]`: the first item names the resource.
                let value = self.scalar_value(node);
                if let Some(m) = self.candidates[idx].mapping.as_deref_mut()
                    && m.0 == "Fn::GetAtt"
                    && m.1.is_none()
                {
                    m.1 = value;
                }
            }
        }
        let Some(k0) = path.first().and_then(Key::as_str) else {
            return;
        };
        match k0 {
            "Resources" if path.len() >= 2 => {
                let Key::Str(id) = &path[1] else { return };
                if path.len() == 2 {
                    if self.alias_depth == 0 {
                        self.settle_merges();
                    }
                    self.current = Some((id.clone(), None, None));
                    return;
                }
                let Some((cur_id, cur_ty, cur_index)) = &mut self.current else {
                    return;
                };
                if path.len() == 3 && path[2].is("Type") {
                    let untagged = node
                        .tag
                        .as_ref()
                        .is_none_or(|t| is_str_tag(&self.text[t.clone()]));
                    let t = match (node.kind, untagged) {
                        (NodeKind::Scalar(style), true) => {
                            match scalar::key(self.text, style, node.span.clone()) {
                                Key::Str(s) => Some(s),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    if self.merging > 0 && cur_ty.is_some() {
                        // A merged `Type` never overrides one written (or merged) earlier.
                        return;
                    }
                    if let Some(i) = *cur_index {
                        self.resources[i].ty = t.clone();
                    }
                    if t.as_deref() == Some("Custom::RegionImage") {
                        self.region_images.insert(cur_id.to_string());
                    }
                    *cur_ty = t;
                    return;
                }
                if path.len() >= 4 && path[2].is("Properties") && path[path.len() - 1].is("ImageId")
                {
                    let property = if path.len() == 4 {
                        Cow::Borrowed("Properties.ImageId")
                    } else {
                        Cow::Owned(
                            path[2..]
                                .iter()
                                .filter_map(Key::as_str)
                                .collect::<Vec<_>>()
                                .join("."),
                        )
                    };
                    if matches!(node.kind, NodeKind::Mapping | NodeKind::Sequence)
                        && self.alias_depth == 0
                    {
                        self.open = Some((self.candidates.len(), path.len()));
                    }
                    let current = match *cur_index {
                        Some(i) => i,
                        None => {
                            self.resources.push(Resource {
                                id: cur_id.clone(),
                                ty: cur_ty.clone(),
                            });
                            *cur_index = Some(self.resources.len() - 1);
                            self.resources.len() - 1
                        }
                    };
                    let merged = self.merging > 0;
                    let merge_depth = self.merging;
                    // The merged entry is the key right under the mapping merged into.
                    let merge_key = match self.merge_ctx {
                        Some((start, base, source)) if merged => path
                            .get(base)
                            .and_then(Key::as_str)
                            .map(|k| Box::new((start, k.to_string(), source))),
                        _ => None,
                    };
                    let (node, alias_span) = match node.kind {
                        NodeKind::Alias => {
                            let name = &self.text[node.span.start + 1..node.span.end];
                            match self.anchors.get(name) {
                                Some(def) if matches!(def.node.kind, NodeKind::Scalar(_)) => {
                                    (def.node.clone(), Some(node.span.clone()))
                                }
                                _ => (node.clone(), None),
                            }
                        }
                        _ => (node.clone(), None),
                    };
                    self.candidates.push(Candidate {
                        resource: Some(current),
                        tf: None,
                        property,
                        node,
                        mapping: None,
                        merge_depth,
                        batch: if self.alias_depth > 0 {
                            self.batches
                        } else {
                            0
                        },
                        merge_key,
                        alias_span,
                    });
                }
            }
            "Parameters" if path.len() == 3 && path[2].is("Default") => {
                if let (Some(name), Some(v)) = (path[1].as_str(), self.scalar_value(node)) {
                    self.params.insert(name.to_string(), v);
                }
            }
            "Workspace" if path.len() == 2 && matches!(node.kind, NodeKind::Scalar(_)) => {
                if let Some(name) = path[1].as_str()
                    && (name.ends_with(".tf") || name.ends_with(".tf.json"))
                {
                    self.workspace.push(WorkspaceFile {
                        name: name.to_string(),
                        node: node.clone(),
                    });
                }
            }
            "resource" if self.terraform_json && path[path.len() - 1].is("image_id") => {
                let keys: Vec<&str> = path.iter().filter_map(Key::as_str).collect();
                if keys.len() >= 4 {
                    self.candidates.push(Candidate {
                        resource: None,
                        tf: Some(Box::new((
                            format!("{}.{}", keys[1], keys[2]),
                            keys[1].to_string(),
                        ))),
                        property: Cow::Owned(keys[3..].join(".")),
                        node: node.clone(),
                        mapping: None,
                        merge_depth: 0,
                        batch: 0,
                        merge_key: None,
                        alias_span: None,
                    });
                }
            }
            "variable" if self.terraform_json => {
                let keys: Vec<&str> = path.iter().filter_map(Key::as_str).collect();
                if keys.len() == 3
                    && keys[2] == "default"
                    && let Some(v) = self.scalar_value(node)
                {
                    self.tf_vars.insert(keys[1].to_string(), v);
                }
            }
            _ => {}
        }
    }
}
