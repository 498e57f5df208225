//! Terraform (cty) types and their JSON form used in schemas.

use std::collections::BTreeMap;

/// A cty type. `Object` also describes nested attributes and blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }

    /// The type as cty's JSON type notation, e.g. `["map","string"]`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::String => J::from("string"),
            Type::Number => J::from("number"),
            Type::Bool => J::from("bool"),
            Type::List(e) => J::Array(vec![J::from("list"), e.to_json()]),
            Type::Set(e) => J::Array(vec![J::from("set"), e.to_json()]),
            Type::Map(e) => J::Array(vec![J::from("map"), e.to_json()]),
            Type::Object(attrs) => {
                let fields = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                J::Array(vec![J::from("object"), J::Object(fields)])
            }
        }
    }

    /// Attribute types of an object type, if it is one.
    pub fn object_attrs(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(a) => Some(a),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_notation() {
        let t = Type::Object(BTreeMap::from([
            ("a".to_string(), Type::map(Type::String)),
            ("b".to_string(), Type::set(Type::Number)),
        ]));
        assert_eq!(
            t.to_json().to_string(),
            r#"["object",{"a":["map","string"],"b":["set","number"]}]"#
        );
    }
}
