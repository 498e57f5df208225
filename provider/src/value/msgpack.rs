//! The msgpack wire form of values (cty's encoding) and the JSON form of stored state.
//!
//! Objects are maps holding every attribute of their type (nil for null); lists and
//! sets are arrays; maps are string-keyed maps; numbers arrive as integers, floats or
//! decimal strings. Any msgpack extension is an unknown value; extension 12 carries
//! refinements (not-null, string prefix) which are parsed and re-sent unchanged.

use super::{Type, Unknown, Value};
use rmpv::Value as M;
use std::collections::BTreeMap;

/// A wire value that does not fit the schema type.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("invalid msgpack: {0}")]
    Msgpack(String),
    #[error("{path}: expected {expected}, found {found}")]
    Mismatch {
        path: String,
        expected: String,
        found: String,
    },
}

/// go-cty's extension code for an unknown value with refinements.
const REFINED_UNKNOWN_EXT: i8 = 12;
const REFINE_NULLNESS: i64 = 1;
const REFINE_STRING_PREFIX: i64 = 2;

/// Decodes msgpack bytes as a value of type `ty`. Empty input is null.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut rd = bytes;
    let m = rmpv::decode::read_value(&mut rd).map_err(|e| CodecError::Msgpack(e.to_string()))?;
    from_msgpack(&m, ty, "value")
}

/// Encodes a value of type `ty` as msgpack.
pub fn encode(v: &Value, ty: &Type) -> Vec<u8> {
    let m = to_msgpack(v, ty);
    let mut out = Vec::with_capacity(64);
    // Writing into a Vec cannot fail.
    rmpv::encode::write_value(&mut out, &m).expect("write to Vec");
    out
}

fn mismatch(path: &str, ty: &Type, found: &M) -> CodecError {
    CodecError::Mismatch {
        path: path.to_string(),
        expected: format!("{ty:?}"),
        found: format!("{found}"),
    }
}

fn parse_unknown(code: i8, data: &[u8]) -> Unknown {
    let mut u = Unknown {
        raw: Some((code, data.to_vec())),
        ..Unknown::default()
    };
    if code == REFINED_UNKNOWN_EXT {
        let mut rd = data;
        if let Ok(M::Map(entries)) = rmpv::decode::read_value(&mut rd) {
            for (k, v) in entries {
                match (k.as_i64(), v) {
                    (Some(REFINE_NULLNESS), M::Boolean(is_null)) => u.not_null = !is_null,
                    (Some(REFINE_STRING_PREFIX), M::String(s)) => u.string_prefix = s.into_str(),
                    _ => {}
                }
            }
        }
    }
    u
}

fn from_msgpack(m: &M, ty: &Type, path: &str) -> Result<Value, CodecError> {
    if let M::Ext(code, data) = m {
        return Ok(Value::Unknown(parse_unknown(*code, data)));
    }
    if let M::Nil = m {
        return Ok(Value::Null);
    }
    Ok(match (ty, m) {
        (Type::String, M::String(s)) => {
            Value::String(s.as_str().ok_or_else(|| mismatch(path, ty, m))?.to_string())
        }
        (Type::Bool, M::Boolean(b)) => Value::Bool(*b),
        (Type::Number, M::Integer(i)) => Value::Number(
            i.as_i64()
                .map(|n| n as f64)
                .or(i.as_u64().map(|n| n as f64))
                .unwrap_or(0.0),
        ),
        (Type::Number, M::F32(f)) => Value::Number(f64::from(*f)),
        (Type::Number, M::F64(f)) => Value::Number(*f),
        (Type::Number, M::String(s)) => Value::Number(
            s.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| mismatch(path, ty, m))?,
        ),
        (Type::List(e), M::Array(items)) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| from_msgpack(x, e, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Set(e), M::Array(items)) => Value::Set(
            items
                .iter()
                .map(|x| from_msgpack(x, e, &format!("{path}[*]")))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Map(e), M::Map(entries)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = k.as_str().ok_or_else(|| mismatch(path, ty, m))?;
                out.insert(
                    key.to_string(),
                    from_msgpack(v, e, &format!("{path}[{key:?}]"))?,
                );
            }
            Value::Map(out)
        }
        (Type::Object(attrs), M::Map(entries)) => {
            let mut out: BTreeMap<String, Value> =
                attrs.keys().map(|k| (k.clone(), Value::Null)).collect();
            for (k, v) in entries {
                let key = k.as_str().ok_or_else(|| mismatch(path, ty, m))?;
                if let Some(at) = attrs.get(key) {
                    out.insert(
                        key.to_string(),
                        from_msgpack(v, at, &format!("{path}.{key}"))?,
                    );
                }
            }
            Value::Object(out)
        }
        _ => return Err(mismatch(path, ty, m)),
    })
}

fn to_msgpack(v: &Value, ty: &Type) -> M {
    match (v, ty) {
        (Value::Null, _) => M::Nil,
        (Value::Unknown(u), _) => match &u.raw {
            Some((code, data)) => M::Ext(*code, data.clone()),
            None => M::Ext(0, vec![0]),
        },
        (Value::Bool(b), _) => M::Boolean(*b),
        (Value::Number(n), _) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                M::from(*n as i64)
            } else {
                M::F64(*n)
            }
        }
        (Value::String(s), _) => M::from(s.as_str()),
        (Value::List(items) | Value::Set(items), Type::List(e) | Type::Set(e)) => {
            M::Array(items.iter().map(|x| to_msgpack(x, e)).collect())
        }
        (Value::Map(m) | Value::Object(m), Type::Map(e)) => M::Map(
            m.iter()
                .map(|(k, x)| (M::from(k.as_str()), to_msgpack(x, e)))
                .collect(),
        ),
        (Value::Object(m) | Value::Map(m), Type::Object(attrs)) => M::Map(
            attrs
                .iter()
                .map(|(k, at)| {
                    (
                        M::from(k.as_str()),
                        m.get(k).map_or(M::Nil, |x| to_msgpack(x, at)),
                    )
                })
                .collect(),
        ),
        // A value that does not fit its type is a provider bug; send null rather than a
        // malformed payload so Terraform reports the attribute.
        _ => M::Nil,
    }
}

/// Decodes a stored state in Terraform's JSON form (used by UpgradeResourceState).
pub fn from_json(j: &serde_json::Value, ty: &Type) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    let bad = || CodecError::Mismatch {
        path: "state".into(),
        expected: format!("{ty:?}"),
        found: j.to_string(),
    };
    Ok(match (ty, j) {
        (_, J::Null) => Value::Null,
        (Type::String, J::String(s)) => Value::String(s.clone()),
        (Type::Bool, J::Bool(b)) => Value::Bool(*b),
        (Type::Number, J::Number(n)) => Value::Number(n.as_f64().ok_or_else(bad)?),
        (Type::Number, J::String(s)) => Value::Number(s.parse().map_err(|_| bad())?),
        (Type::List(e), J::Array(a)) => Value::List(
            a.iter()
                .map(|x| from_json(x, e))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Set(e), J::Array(a)) => Value::Set(
            a.iter()
                .map(|x| from_json(x, e))
                .collect::<Result<_, _>>()?,
        ),
        (Type::Map(e), J::Object(o)) => Value::Map(
            o.iter()
                .map(|(k, x)| Ok((k.clone(), from_json(x, e)?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        (Type::Object(attrs), J::Object(o)) => Value::Object(
            attrs
                .iter()
                .map(|(k, at)| {
                    Ok((
                        k.clone(),
                        o.get(k).map_or(Ok(Value::Null), |x| from_json(x, at))?,
                    ))
                })
                .collect::<Result<_, CodecError>>()?,
        ),
        _ => return Err(bad()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj_type() -> Type {
        Type::Object(BTreeMap::from([
            ("name".to_string(), Type::String),
            ("count".to_string(), Type::Number),
            ("tags".to_string(), Type::map(Type::String)),
            ("regions".to_string(), Type::set(Type::String)),
            ("list".to_string(), Type::list(Type::Bool)),
            (
                "nested".to_string(),
                Type::map(Type::Object(BTreeMap::from([
                    ("package_id".to_string(), Type::String),
                    ("progress".to_string(), Type::Number),
                ]))),
            ),
        ]))
    }

    #[test]
    fn round_trip_nested_values() {
        let v = Value::object([
            ("name", Value::from("acme")),
            ("count", Value::from(3)),
            ("tags", Value::string_map([("env", "prod")])),
            (
                "regions",
                Value::string_set(["cn-hangzhou", "ap-southeast-1"]),
            ),
            ("list", Value::List(vec![Value::from(true), Value::Null])),
            (
                "nested",
                Value::Map(BTreeMap::from([(
                    "centos_7".to_string(),
                    Value::object([
                        ("package_id", Value::from("p-1")),
                        ("progress", Value::Number(42.5)),
                    ]),
                )])),
            ),
        ]);
        let ty = obj_type();
        let back = decode(&encode(&v, &ty), &ty).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn nulls_and_missing_attributes() {
        let ty = obj_type();
        // Only one attribute on the wire: every other one decodes as null.
        let bytes = [0x81, 0xa4, b'n', b'a', b'm', b'e', 0xc0];
        let v = decode(&bytes, &ty).unwrap();
        assert!(v.get("name").is_null());
        assert!(v.get("tags").is_null());
        // Encoding writes every attribute of the type, nil for null.
        let out = encode(&v, &ty);
        let mut rd = &out[..];
        let m = rmpv::decode::read_value(&mut rd).unwrap();
        assert_eq!(m.as_map().unwrap().len(), 6);
        assert!(decode(&[], &ty).unwrap().is_null());
        assert!(decode(&[0xc0], &ty).unwrap().is_null());
    }

    #[test]
    fn unknowns_of_any_extension() {
        // go-cty's plain unknown: fixext1, type 0, payload 0.
        let v = decode(&[0xd4, 0x00, 0x00], &Type::String).unwrap();
        assert!(v.is_unknown());
        assert_eq!(encode(&v, &Type::String), vec![0xd4, 0x00, 0x00]);
        // Any other extension type is unknown too.
        assert!(
            decode(&[0xd4, 0x05, 0x01], &Type::Number)
                .unwrap()
                .is_unknown()
        );
        // Unknown inside a collection.
        let ty = Type::list(Type::String);
        let v = decode(&[0x92, 0xa1, b'a', 0xd4, 0x00, 0x00], &ty).unwrap();
        assert!(!v.is_wholly_known());
        assert!(matches!(&v, Value::List(items) if items[1].is_unknown()));
    }

    #[test]
    fn refined_unknowns() {
        // ext 12 with {1: false (not null), 2: "m-"}.
        let payload = [0x82, 0x01, 0xc2, 0x02, 0xa2, b'm', b'-'];
        let mut bytes = vec![0xc7, payload.len() as u8, 12];
        bytes.extend_from_slice(&payload);
        let v = decode(&bytes, &Type::String).unwrap();
        let Value::Unknown(u) = &v else {
            panic!("not unknown: {v:?}")
        };
        assert!(u.not_null);
        assert_eq!(u.string_prefix.as_deref(), Some("m-"));
        // Re-sent byte for byte.
        assert_eq!(encode(&v, &Type::String), bytes);
    }

    #[test]
    fn numbers_in_every_wire_form() {
        assert_eq!(decode(&[0x2a], &Type::Number).unwrap(), Value::from(42));
        assert_eq!(
            decode(&[0xcb, 0x40, 0x45, 0x40, 0, 0, 0, 0, 0], &Type::Number).unwrap(),
            Value::Number(42.5)
        );
        assert_eq!(
            decode(&[0xa3, b'1', b'e', b'3'], &Type::Number).unwrap(),
            Value::Number(1000.0)
        );
        assert_eq!(encode(&Value::from(7), &Type::Number), vec![0x07]);
    }

    #[test]
    fn type_mismatch_is_an_error() {
        assert!(decode(&[0x2a], &Type::String).is_err());
        assert!(decode(&[0xa1, b'x'], &Type::list(Type::String)).is_err());
    }

    #[test]
    fn json_state() {
        let j = serde_json::json!({"name": "acme", "count": 2, "tags": {"a": "b"}, "regions": ["x"], "list": null});
        let v = from_json(&j, &obj_type()).unwrap();
        assert_eq!(v.get("name"), &Value::from("acme"));
        assert!(v.get("nested").is_null());
        assert_eq!(v.get("regions"), &Value::string_set(["x"]));
    }
}
