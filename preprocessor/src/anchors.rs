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
    /// `ImageId` and `Type` values and aliases inside it, with paths relative to it and, for
    /// an anchored sequence, the item they are in (0 otherwise).
    pub inner: Vec<(Vec<Key<'t>>, Node, usize)>,
    /// The keys of the anchored mapping (item 0), or of each mapping item of an anchored
    /// sequence: what a merge of it supplies.
    pub keys: Vec<(usize, Key<'t>)>,
    /// Items of an anchored sequence seen so far.
    items: usize,
}

/// Anchors seen so far in a document.
#[derive(Debug, Default)]
pub(crate) struct Anchors<'t> {
    /// An anchor whose node is the next one reported.
    pending: Option<&'t str>,
    /// Anchored collections still open: (index in `defs`, length of the anchored node's path).
    open: Vec<(usize, usize)>,
    /// Every anchored node, in document order (a name may be anchored again).
    defs: Vec<Def<'t>>,
    /// The latest definition of each name.
    names: HashMap<&'t str, usize>,
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
        self.names.clear();
    }

    pub fn get(&self, name: &str) -> Option<&Def<'t>> {
        self.names.get(name).and_then(|&i| self.defs.get(i))
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
        for &(i, depth) in &self.open {
            let Some(def) = self.defs.get_mut(i) else {
                continue;
            };
            let seq = def.node.kind == NodeKind::Sequence;
            if path.len() == depth + 1 {
                if seq {
                    def.items += 1;
                } else {
                    def.keys.push((0, path[depth].clone()));
                }
            } else if seq && path.len() == depth + 2 {
                def.keys
                    .push((def.items.saturating_sub(1), path[depth + 1].clone()));
            }
            if wanted {
                let item = if seq { def.items.saturating_sub(1) } else { 0 };
                def.inner.push((path[depth..].to_vec(), node.clone(), item));
            }
        }
        if let Some(name) = self.pending.take() {
            let i = self.defs.len();
            self.defs.push(Def {
                node: node.clone(),
                inner: Vec::new(),
                keys: Vec::new(),
                items: 0,
            });
            self.names.insert(name, i);
            if matches!(node.kind, NodeKind::Mapping | NodeKind::Sequence) {
                self.open.push((i, path.len()));
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
