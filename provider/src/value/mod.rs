//! Terraform values (cty semantics): nulls, unknowns, primitives and collections.
//!
//! `types` names the type system, `msgpack` converts to and from the wire, `path`
//! addresses parts of a value. Everything above this module works on [`Value`].

pub mod msgpack;
pub mod path;
pub mod types;

pub use path::{Path, Step};
pub use types::Type;

use std::collections::BTreeMap;

/// What Terraform knows about a value that is not known yet (a "refined unknown").
#[derive(Debug, Clone, Default)]
pub struct Unknown {
    /// The value will certainly not be null.
    pub not_null: bool,
    /// The string value will start with this prefix.
    pub string_prefix: Option<String>,
    /// The extension type and payload as received, re-sent unchanged.
    pub raw: Option<(i8, Vec<u8>)>,
}

/// A value of a Terraform type. Sets keep insertion order but compare as sets.
#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Unknown(Unknown),
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            // Two unknowns are "the same" for plan purposes: neither is known.
            (Unknown(_), Unknown(_)) => true,
            (Bool(a), Bool(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) => a == b,
            (Set(a), Set(b)) => {
                a.len() == b.len()
                    && a.iter().all(|x| b.contains(x))
                    && b.iter().all(|x| a.contains(x))
            }
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            _ => false,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n as f64)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(Unknown::default())
    }

    /// An object from `(name, value)` pairs.
    pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// A map of strings.
    pub fn string_map<K: Into<String>, V: Into<String>>(
        m: impl IntoIterator<Item = (K, V)>,
    ) -> Value {
        Value::Map(
            m.into_iter()
                .map(|(k, v)| (k.into(), Value::String(v.into())))
                .collect(),
        )
    }

    /// A set of strings.
    pub fn string_set<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Value {
        Value::Set(items.into_iter().map(|s| Value::String(s.into())).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when this value is unknown (not when it merely contains unknowns).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) => v.iter().all(Value::is_wholly_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// An attribute of an object; `Null` when absent or when `self` is not an object.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(m) => m.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Sets an attribute of an object (no effect on other values).
    pub fn set(&mut self, name: &str, v: Value) {
        if let Value::Object(m) = self {
            m.insert(name.to_string(), v);
        }
    }

    /// Mutable access to an attribute of an object.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// A known string attribute.
    pub fn str_attr(&self, name: &str) -> Option<String> {
        self.get(name).as_str().map(str::to_string)
    }

    /// Known string elements of a list or set attribute (unknown elements skipped).
    pub fn strings(&self) -> Vec<String> {
        match self {
            Value::List(v) | Value::Set(v) => v
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Entries of a map or object value.
    pub fn entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Known string entries of a map value.
    pub fn string_entries(&self) -> BTreeMap<String, String> {
        self.entries()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value at a path, if every step exists.
    pub fn at(&self, path: &Path) -> Option<&Value> {
        let mut cur = self;
        for step in &path.0 {
            cur = match (step, cur) {
                (Step::Attr(n), Value::Object(m)) => m.get(n)?,
                (Step::Key(k), Value::Map(m)) => m.get(k)?,
                (Step::Index(i), Value::List(v)) => v.get(usize::try_from(*i).ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Replaces every unknown inside this value with null (for a state that must be known).
    pub fn unknowns_to_null(&mut self) {
        match self {
            Value::Unknown(_) => *self = Value::Null,
            Value::List(v) | Value::Set(v) => v.iter_mut().for_each(Value::unknowns_to_null),
            Value::Map(m) | Value::Object(m) => m.values_mut().for_each(Value::unknowns_to_null),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_compare_unordered() {
        assert_eq!(Value::string_set(["a", "b"]), Value::string_set(["b", "a"]));
        assert_ne!(Value::string_set(["a", "b"]), Value::string_set(["a"]));
        assert_ne!(
            Value::string_set(["a"]),
            Value::List(vec![Value::from("a")])
        );
    }

    #[test]
    fn paths_and_known() {
        let v = Value::object([
            ("m", Value::string_map([("k", "x")])),
            ("u", Value::unknown()),
        ]);
        assert_eq!(v.at(&Path::attr("m").key("k")), Some(&Value::from("x")));
        assert!(!v.is_wholly_known());
        let mut w = v.clone();
        w.unknowns_to_null();
        assert!(w.get("u").is_null());
        assert!(w.is_wholly_known());
    }
}
