//! YAML anchors and aliases as image sites see them: what an anchored node holds, so that an
//! `ImageId` (or a resource `Type`) that arrives through an alias or a merge key (`<<: *base`)
//! is found where it is written.

use std::collections::HashMap;

use crate::tree::{Key, Node, NodeKind};

/// How deep aliases of aliases are followed (a well-formed document cannot loop, but input
/// can be anything).
pub(crate) const MAX_ALIAS_DEPTH: usize = 16;

/// An anchored node and the nodes inside it that matter for image sites.
#[derive(Debug)]
pub(crate) struct Def<'t> {
    /// The anchored node itself.
    pub node: Node,
    /// `ImageId` and `Type` values and aliases inside it, with paths relative to it.
    pub inner: Vec<(Vec<Key<'t>>, Node)>,
}

/// Anchors seen so far in a document.
#[derive(Debug, Default)]
pub(crate) struct Anchors<'t> {
    /// An anchor whose node is the next one reported.
    pending: Option<&'t str>,
    /// Anchored collections still open: (name, length of the anchored node's path).
    open: Vec<(&'t str, usize)>,
    defs: HashMap<&'t str, Def<'t>>,
}

impl<'t> Anchors<'t> {
    /// `&name` was read: the next node reported is anchored.
    pub fn anchor(&mut self, name: &'t str) {
        self.pending = Some(name);
    }

    /// A new document: anchors do not cross documents.
    pub fn clear(&mut self) {
        self.pending = None;
        self.open.clear();
        self.defs.clear();
    }

    pub fn get(&self, name: &str) -> Option<&Def<'t>> {
        self.defs.get(name)
    }

    /// Sees every node in document order (aliases expanded or not).
    #[inline]
    pub fn observe(&mut self, path: &[Key<'t>], node: &Node) {
        if self.pending.is_none() && self.open.is_empty() {
            return;
        }
        while self.open.last().is_some_and(|&(_, d)| d >= path.len()) {
            self.open.pop();
        }
        let wanted = node.kind == NodeKind::Alias
            || path.last().is_some_and(|k| k.is("ImageId") || k.is("Type"));
        if wanted {
            for &(name, depth) in &self.open {
                if let Some(def) = self.defs.get_mut(name) {
                    def.inner.push((path[depth..].to_vec(), node.clone()));
                }
            }
        }
        if let Some(name) = self.pending.take() {
            self.defs.insert(
                name,
                Def {
                    node: node.clone(),
                    inner: Vec::new(),
                },
            );
            if matches!(node.kind, NodeKind::Mapping | NodeKind::Sequence) {
                self.open.push((name, path.len()));
            }
        }
    }
}

/// If `path` is the value of a merge key (`<<: *a` or `<<: [*a, *b]`), the path of the
/// mapping it merges into.
pub(crate) fn merge_target<'p, 't>(path: &'p [Key<'t>]) -> Option<&'p [Key<'t>]> {
    match path {
        [base @ .., last] if last.is("<<") => Some(base),
        [base @ .., m, Key::Index] if m.is("<<") => Some(base),
        _ => None,
    }
}
