//! Schemas of the provider, resources and data sources, declared in plain Rust.
//!
//! An [`Attribute`] carries what Terraform needs (type, required/optional/computed,
//! sensitive, description) and what the provider's plan and validation layers use
//! (force-new, keep-on-update, default, validators).

mod proto;
pub mod validate;

pub use validate::Validator;

use crate::value::{Type, Value};
use std::collections::BTreeMap;

/// How nested attributes repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

/// The type of an attribute: a plain cty type or nested attributes (`x = { … }`).
#[derive(Clone)]
pub enum AttrKind {
    Plain(Type),
    Nested(Nesting, Vec<Attribute>),
}

/// One attribute of a schema.
#[derive(Clone)]
pub struct Attribute {
    pub name: &'static str,
    pub description: String,
    pub kind: AttrKind,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    /// A change of this attribute replaces the object.
    pub force_new: bool,
    /// A computed value that does not change when the object is updated in place.
    pub keep_on_update: bool,
    /// Planned when the configuration leaves the attribute null (implies optional + computed).
    pub default: Option<Value>,
    pub validators: Vec<Validator>,
}

impl Attribute {
    pub fn new(name: &'static str, kind: AttrKind) -> Attribute {
        Attribute {
            name,
            description: String::new(),
            kind,
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            force_new: false,
            keep_on_update: false,
            default: None,
            validators: Vec::new(),
        }
    }
    pub fn string(name: &'static str) -> Attribute {
        Attribute::new(name, AttrKind::Plain(Type::String))
    }
    pub fn number(name: &'static str) -> Attribute {
        Attribute::new(name, AttrKind::Plain(Type::Number))
    }
    pub fn typed(name: &'static str, ty: Type) -> Attribute {
        Attribute::new(name, AttrKind::Plain(ty))
    }
    pub fn nested(name: &'static str, nesting: Nesting, attrs: Vec<Attribute>) -> Attribute {
        Attribute::new(name, AttrKind::Nested(nesting, attrs))
    }

    pub fn describe(mut self, d: &str) -> Self {
        self.description = d.to_string();
        self
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }
    pub fn computed(mut self) -> Self {
        self.computed = true;
        self
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }
    pub fn keep_on_update(mut self) -> Self {
        self.keep_on_update = true;
        self
    }
    /// Optional with a default: planned as `v` when the configuration leaves it out.
    pub fn default(mut self, v: Value) -> Self {
        self.default = Some(v);
        self.optional = true;
        self.computed = true;
        self
    }
    pub fn validate(mut self, v: Validator) -> Self {
        self.validators.push(v);
        self
    }

    /// The cty type of this attribute's value.
    pub fn value_type(&self) -> Type {
        match &self.kind {
            AttrKind::Plain(t) => t.clone(),
            AttrKind::Nested(n, attrs) => {
                let obj = object_type(attrs);
                match n {
                    Nesting::Single => obj,
                    Nesting::List => Type::list(obj),
                    Nesting::Set => Type::set(obj),
                    Nesting::Map => Type::map(obj),
                }
            }
        }
    }
}

/// A nested block with single nesting (`timeouts { … }`).
#[derive(Clone)]
pub struct Block {
    pub name: &'static str,
    pub description: String,
    pub attributes: Vec<Attribute>,
}

/// The schema of a resource, data source or the provider configuration.
#[derive(Clone)]
pub struct Schema {
    pub version: i64,
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<Block>,
}

impl Schema {
    pub fn new(description: &str, attributes: Vec<Attribute>) -> Schema {
        Schema {
            version: 0,
            description: description.to_string(),
            attributes,
            blocks: Vec::new(),
        }
    }

    pub fn with_block(mut self, b: Block) -> Schema {
        self.blocks.push(b);
        self
    }

    /// The object type of a whole value of this schema.
    pub fn value_type(&self) -> Type {
        let mut t = BTreeMap::new();
        for a in &self.attributes {
            t.insert(a.name.to_string(), a.value_type());
        }
        for b in &self.blocks {
            t.insert(b.name.to_string(), object_type(&b.attributes));
        }
        Type::Object(t)
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

fn object_type(attrs: &[Attribute]) -> Type {
    Type::Object(
        attrs
            .iter()
            .map(|a| (a.name.to_string(), a.value_type()))
            .collect(),
    )
}

/// The `timeouts` block convention: optional duration strings per operation.
pub fn timeouts_block(ops: &[&'static str]) -> Block {
    Block {
        name: "timeouts",
        description: "How long each operation may take, as durations such as \"60m\" or \"1h30m\"."
            .to_string(),
        attributes: ops
            .iter()
            .map(|op| {
                Attribute::string(op)
                    .optional()
                    .describe(&format!("Time limit for {op}, e.g. \"60m\"."))
                    .validate(validate::duration())
            })
            .collect(),
    }
}
