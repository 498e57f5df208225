//! Attribute paths: where in a value a diagnostic or a replacement applies.

use crate::proto::tfplugin6 as pb;
use std::fmt;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
}

/// A path from the root object of a resource, e.g. `image.region` or `tags["env"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Step>);

impl Path {
    pub fn root() -> Path {
        Path(Vec::new())
    }
    pub fn attr(name: &str) -> Path {
        Path(vec![Step::Attr(name.to_string())])
    }
    pub fn child(&self, name: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Step::Attr(name.to_string()));
        p
    }
    pub fn key(&self, key: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Step::Key(key.to_string()));
        p
    }
    pub fn index(&self, i: usize) -> Path {
        let mut p = self.clone();
        p.0.push(Step::Index(i as i64));
        p
    }

    pub fn to_proto(&self) -> pb::AttributePath {
        use pb::attribute_path::step::Selector;
        let steps = self
            .0
            .iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    Step::Attr(n) => Selector::AttributeName(n.clone()),
                    Step::Key(k) => Selector::ElementKeyString(k.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect();
        pb::AttributePath { steps }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Attr(n) if i == 0 => write!(f, "{n}")?,
                Step::Attr(n) => write!(f, ".{n}")?,
                Step::Key(k) => write!(f, "[{k:?}]")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        let p = Path::attr("image_associations")
            .key("centos_7")
            .child("version");
        assert_eq!(p.to_string(), "image_associations[\"centos_7\"].version");
    }
}
