//! The parts of `terraform providers schema -json` the docs need: the provider, resource and
//! data source schemas, their attributes (type or nested type, description, flags) and blocks.
//! Maps are `BTreeMap`s, so every list in the docs is in name order whatever the JSON's order.

use serde::Deserialize;
use std::collections::BTreeMap;

/// The whole output: one entry per provider address.
#[derive(Debug, Deserialize)]
pub struct SchemaJson {
    #[serde(default)]
    pub provider_schemas: BTreeMap<String, ProviderSchemas>,
}

#[derive(Debug, Deserialize)]
pub struct ProviderSchemas {
    #[serde(default)]
    pub provider: Schema,
    #[serde(default)]
    pub resource_schemas: BTreeMap<String, Schema>,
    #[serde(default)]
    pub data_source_schemas: BTreeMap<String, Schema>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Schema {
    #[serde(default)]
    pub block: Block,
}

#[derive(Debug, Default, Deserialize)]
pub struct Block {
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    #[serde(default)]
    pub block_types: BTreeMap<String, BlockType>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub deprecated: bool,
}

#[derive(Debug, Deserialize)]
pub struct Attribute {
    /// A cty type in its JSON form: `"string"`, `["map", "string"]`, `["object", {...}]`.
    /// Absent when the attribute has a `nested_type`.
    #[serde(rename = "type")]
    pub ty: Option<serde_json::Value>,
    pub nested_type: Option<NestedType>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub computed: bool,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub deprecated: bool,
}

/// The attributes of a nested attribute (protocol 6) and how they nest.
#[derive(Debug, Deserialize)]
pub struct NestedType {
    #[serde(default)]
    pub attributes: BTreeMap<String, Attribute>,
    /// `single`, `list`, `set` or `map`.
    pub nesting_mode: String,
}

#[derive(Debug, Deserialize)]
pub struct BlockType {
    /// `single`, `group`, `list`, `set` or `map`.
    pub nesting_mode: String,
    #[serde(default)]
    pub block: Block,
    #[serde(default)]
    pub min_items: u64,
    #[serde(default)]
    pub max_items: u64,
}
