//! YAML aliases and merge keys under `Resources`: what an alias brings to where it is used,
//! and which merged entries a mapping keeps (written keys, then the first source, then the
//! shallowest merge), following YAML's merge rules.

use super::{Candidate, TreeSites};
use crate::anchors::{MAX_ALIAS_DEPTH, merge_target};
use crate::tree::{Key, Node, NodeKind, TreeSink};

impl<'t> TreeSites<'t> {
    /// An alias under `Resources`: what its anchor holds arrives here (a merge key `<<` merges
    /// into the mapping that holds it). `ImageId: *alias` itself is a candidate of its own.
    pub(super) fn expand_alias(&mut self, path: &[Key<'t>], node: &Node) {
        if self.alias_depth >= MAX_ALIAS_DEPTH {
            return;
        }
        let name = &self.text[node.span.start + 1..node.span.end];
        let Some(def) = self.anchors.get(name) else {
            return;
        };
        let (base, merge) = match merge_target(path) {
            Some(base) => (base, true),
            None => (path, false),
        };
        // A few lines of aliases of aliases can stand for billions of nodes: cap the work.
        self.expanded += def.inner.len();
        if self.expanded > self.text.len().max(100_000) {
            self.alias_overflow = true;
            return;
        }
        let inner = def.inner.clone();
        let def_keys = def.keys.clone();
        let def_is_seq = def.node.kind == NodeKind::Sequence;
        self.any_alias = true;
        self.batches += usize::from(self.alias_depth == 0);
        self.alias_depth += 1;
        self.merging += usize::from(merge);
        let top_merge = merge && self.alias_depth == 1;
        self.any_merged |= merge;
        self.merge_sources += usize::from(top_merge);
        let source = self.merge_sources;
        let start = self.starts.get(base.len()).copied().unwrap_or(usize::MAX);
        if top_merge {
            self.merge_ctx = Some((start, base.len(), source));
        }
        // `<<: *list` merges each mapping of the list: its items' keys land in the mapping.
        let seq = merge && def_is_seq;
        // A key that an earlier merge source (or list item) supplied is not supplied again.
        let mut supplied = if top_merge {
            std::mem::take(self.merge_supplied.entry(start).or_default())
        } else {
            Vec::new()
        };
        let mut item_done = 0;
        let supply = |supplied: &mut Vec<String>, item: usize| {
            for (i, k) in &def_keys {
                if *i == item
                    && let Some(k) = k.as_str()
                {
                    supplied.push(k.to_string());
                }
            }
        };
        for (rel, n, item) in inner {
            if top_merge {
                while item_done < item {
                    supply(&mut supplied, item_done);
                    item_done += 1;
                }
                let first = if seq { rel.get(1) } else { rel.first() };
                if first
                    .and_then(Key::as_str)
                    .is_some_and(|k| supplied.iter().any(|s| s == k))
                {
                    continue;
                }
            }
            let mut full = base.to_vec();
            match rel.split_first() {
                // An item that is an alias merges what it names; other items hold nothing
                // that a merge can use (a mapping item's keys come as longer paths).
                Some((Key::Index, [])) if seq && n.kind == NodeKind::Alias => {
                    full.push(Key::Str(std::borrow::Cow::Borrowed("<<")));
                }
                Some((Key::Index, [])) if seq => continue,
                Some((Key::Index, rest)) if seq => full.extend(rest.iter().cloned()),
                _ => full.extend(rel),
            }
            TreeSink::node(self, &full, &n);
        }
        if top_merge {
            self.merge_ctx = None;
            let last = def_keys.iter().map(|(i, _)| *i).max().unwrap_or(0);
            while item_done <= last {
                supply(&mut supplied, item_done);
                item_done += 1;
            }
            self.merge_supplied.insert(start, supplied);
        }
        self.merging -= usize::from(merge);
        self.alias_depth -= 1;
    }

    /// Keeps `starts` and `written` up to date with a node written in the document.
    pub(super) fn track_written(&mut self, path: &[Key<'t>], node: &Node) {
        self.starts.truncate(path.len());
        if matches!(node.kind, NodeKind::Mapping | NodeKind::Sequence) {
            self.starts.resize(path.len(), usize::MAX);
            self.starts.push(node.span.start);
        }
        if path.len() >= 3
            && path[0].is("Resources")
            && let (Some(&parent), Some(k @ Key::Str(_))) =
                (self.starts.get(path.len() - 1), path.last())
        {
            self.written.push((parent, k.clone()));
        }
    }

    /// Drops merged candidates of the current resource under a key that the mapping they
    /// were merged into writes itself.
    pub(super) fn settle_merges(&mut self) {
        if self.any_merged && !self.written.is_empty() {
            let written = &self.written;
            let first = self.resource_first.min(self.candidates.len());
            let mut keep = Vec::with_capacity(self.candidates.len() - first);
            for c in self.candidates.drain(first..) {
                let overridden = c.merge_key.as_deref().is_some_and(|(start, key, _)| {
                    written.iter().any(|(s, k)| s == start && k.is(key))
                });
                if !overridden {
                    keep.push(c);
                }
            }
            self.candidates.extend(keep);
        }
        self.written.clear();
        self.merge_supplied.clear();
        self.resource_first = self.candidates.len();
    }

    /// Of several merges supplying the same key of one mapping (`<<: [*a, *b]`), the first
    /// wins: candidates from the later ones are dropped. (A key the mapping writes itself was
    /// settled by [`Self::settle_merges`].)
    pub(super) fn drop_overridden_merges(&mut self) {
        use std::collections::HashMap;
        // Under one key of the mapping merged into: the first source, then the shallowest
        // merge (a key an anchored mapping writes beats what it merges itself).
        let group = |c: &Candidate| {
            c.merge_key
                .as_deref()
                .map(|m| ((m.0, m.1.clone()), (m.2, c.merge_depth)))
        };
        let mut best: HashMap<(usize, String), (usize, usize)> = HashMap::new();
        for (g, rank) in self.candidates.iter().filter_map(group) {
            let e = best.entry(g).or_insert(rank);
            *e = (*e).min(rank);
        }
        // Merges met inside an alias expansion: the shallowest wins at the same path.
        let nested = |c: &Candidate| {
            (c.batch != 0 && c.merge_key.is_none()).then(|| (c.batch, c.property.to_string()))
        };
        let mut shallowest: HashMap<(usize, String), usize> = HashMap::new();
        for c in &self.candidates {
            if let Some(k) = nested(c) {
                let e = shallowest.entry(k).or_insert(c.merge_depth);
                *e = (*e).min(c.merge_depth);
            }
        }
        self.candidates.retain(|c| {
            group(c).is_none_or(|(g, rank)| best.get(&g) == Some(&rank))
                && nested(c).is_none_or(|k| shallowest.get(&k) == Some(&c.merge_depth))
        });
    }
}
