//! Conversion of schemas to the protocol's `Schema` message.

use super::{AttrKind, Attribute, Block, Nesting, Schema};
use crate::proto::tfplugin6 as pb;

impl Schema {
    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(pb::schema::Block {
                version: self.version,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: self.blocks.iter().map(Block::to_proto).collect(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Plain as i32,
                deprecated: false,
            }),
        }
    }
}

impl Block {
    fn to_proto(&self) -> pb::schema::NestedBlock {
        pb::schema::NestedBlock {
            type_name: self.name.to_string(),
            block: Some(pb::schema::Block {
                version: 0,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: Vec::new(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Plain as i32,
                deprecated: false,
            }),
            nesting: pb::schema::nested_block::NestingMode::Single as i32,
            min_items: 0,
            max_items: 0,
        }
    }
}

impl Attribute {
    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested_type) = match &self.kind {
            AttrKind::Plain(t) => (t.to_json().to_string().into_bytes(), None),
            AttrKind::Nested(n, attrs) => {
                use pb::schema::object::NestingMode as M;
                let nesting = match n {
                    Nesting::Single => M::Single,
                    Nesting::List => M::List,
                    Nesting::Set => M::Set,
                    Nesting::Map => M::Map,
                };
                let obj = pb::schema::Object {
                    attributes: attrs.iter().map(Attribute::to_proto).collect(),
                    nesting: nesting as i32,
                };
                (Vec::new(), Some(obj))
            }
        };
        pb::schema::Attribute {
            name: self.name.to_string(),
            r#type: ty,
            nested_type,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Plain as i32,
            deprecated: false,
            write_only: false,
        }
    }
}
