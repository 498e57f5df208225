//! Validators attached to attributes, and the walk that runs them over a configuration.
//!
//! A validator sees a known, non-null value and reports diagnostics at the path it is
//! given (or below it, e.g. at a map key). Unknown values are skipped until known.

use super::{AttrKind, Attribute, Nesting, Schema};
use crate::diag::Diagnostics;
use crate::value::{Path, Value};
use std::sync::Arc;

pub type Validator = Arc<dyn Fn(&Value, &Path, &mut Diagnostics) + Send + Sync>;

/// Checks a string value with `f`, which returns the problem in words.
pub fn string(f: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> Validator {
    Arc::new(move |v, path, diags| {
        if let Some(s) = v.as_str()
            && let Err(msg) = f(s)
        {
            diags.error_at(path, format!("Invalid {}", last_name(path)), msg);
        }
    })
}

/// The string must be one of `allowed`.
pub fn one_of(allowed: &'static [&'static str]) -> Validator {
    string(move |s| {
        if allowed.contains(&s) {
            Ok(())
        } else {
            Err(format!(
                "{s:?} is not allowed; use one of: {}.",
                allowed.join(", ")
            ))
        }
    })
}

/// Checks every known string element of a list or set.
pub fn each_string(f: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> Validator {
    Arc::new(move |v, path, diags| {
        if let Value::List(items) | Value::Set(items) = v {
            for item in items {
                if let Some(s) = item.as_str()
                    && let Err(msg) = f(s)
                {
                    diags.error_at(path, format!("Invalid {}", last_name(path)), msg);
                }
            }
        }
    })
}

/// Checks every key of a map, reporting at that key.
pub fn each_key(f: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static) -> Validator {
    Arc::new(move |v, path, diags| {
        if let Value::Map(m) = v {
            for k in m.keys() {
                if let Err(msg) = f(k) {
                    diags.error_at(
                        &path.key(k),
                        format!("Invalid key in {}", last_name(path)),
                        msg,
                    );
                }
            }
        }
    })
}

/// At most `n` elements or entries.
pub fn max_items(n: usize) -> Validator {
    Arc::new(move |v, path, diags| {
        let len = match v {
            Value::List(x) | Value::Set(x) => x.len(),
            Value::Map(m) => m.len(),
            _ => 0,
        };
        if len > n {
            diags.error_at(
                path,
                format!("Too many items in {}", last_name(path)),
                format!("At most {n} are allowed, found {len}."),
            );
        }
    })
}

/// At least `n` elements.
pub fn min_items(n: usize) -> Validator {
    Arc::new(move |v, path, diags| {
        if let Value::List(x) | Value::Set(x) = v
            && x.len() < n
        {
            diags.error_at(
                path,
                format!("Too few items in {}", last_name(path)),
                format!("At least {n} required."),
            );
        }
    })
}

/// A duration such as "60m", "1h30m" or "90s".
pub fn duration() -> Validator {
    string(|s| parse_duration(s).map(|_| ()))
}

/// Parses Terraform-style durations ("60m", "1h30m", "45s").
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let err = || format!("{s:?} is not a duration; write e.g. \"60m\", \"1h30m\" or \"90s\".");
    let mut total = 0u64;
    let mut num = String::new();
    if s.is_empty() {
        return Err(err());
    }
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let n: u64 = num.parse().map_err(|_| err())?;
        num.clear();
        total += match c {
            'h' => n * 3600,
            'm' => n * 60,
            's' => n,
            _ => return Err(err()),
        };
    }
    if !num.is_empty() {
        return Err(err());
    }
    Ok(std::time::Duration::from_secs(total))
}

fn last_name(path: &Path) -> String {
    path.0
        .iter()
        .rev()
        .find_map(|s| match s {
            crate::value::Step::Attr(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "value".to_string())
}

/// Runs every attribute's validators over a configuration value.
pub fn validate_config(schema: &Schema, config: &Value, diags: &mut Diagnostics) {
    walk_attrs(&schema.attributes, config, &Path::root(), diags);
    for b in &schema.blocks {
        walk_attrs(
            &b.attributes,
            config.get(b.name),
            &Path::attr(b.name),
            diags,
        );
    }
}

fn walk_attrs(attrs: &[Attribute], obj: &Value, base: &Path, diags: &mut Diagnostics) {
    for a in attrs {
        let v = obj.get(a.name);
        let path = base.child(a.name);
        if v.is_null() || v.is_unknown() {
            continue;
        }
        for check in &a.validators {
            if v.is_wholly_known() || matches!(v, Value::Map(_) | Value::List(_) | Value::Set(_)) {
                check(v, &path, diags);
            }
        }
        if let AttrKind::Nested(n, inner) = &a.kind {
            match (n, v) {
                (Nesting::Single, _) => walk_attrs(inner, v, &path, diags),
                (Nesting::Map, Value::Map(m)) => {
                    for (k, e) in m {
                        walk_attrs(inner, e, &path.key(k), diags);
                    }
                }
                (Nesting::List, Value::List(items)) => {
                    for (i, e) in items.iter().enumerate() {
                        walk_attrs(inner, e, &path.index(i), diags);
                    }
                }
                (_, Value::Set(items)) => {
                    for e in items {
                        walk_attrs(inner, e, &path, diags);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60m").unwrap().as_secs(), 3600);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("45s").unwrap().as_secs(), 45);
        assert!(parse_duration("").is_err());
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn validators_report_at_paths_and_skip_unknowns() {
        let schema = Schema::new(
            "t",
            vec![
                Attribute::string("mode")
                    .optional()
                    .describe("m")
                    .validate(one_of(&["a", "b"])),
                Attribute::typed("tags", crate::value::Type::map(crate::value::Type::String))
                    .optional()
                    .validate(each_key(|k| {
                        if k.len() < 3 {
                            Err("short".into())
                        } else {
                            Ok(())
                        }
                    })),
                Attribute::nested(
                    "img",
                    Nesting::Single,
                    vec![Attribute::string("t").optional().validate(one_of(&["x"]))],
                ),
            ],
        );
        let cfg = Value::object([
            ("mode", Value::from("c")),
            ("tags", Value::string_map([("ok_key", "1"), ("k", "2")])),
            ("img", Value::object([("t", Value::from("y"))])),
        ]);
        let mut d = Diagnostics::new();
        validate_config(&schema, &cfg, &mut d);
        let paths: Vec<String> =
            d.0.iter()
                .map(|x| x.path.as_ref().unwrap().to_string())
                .collect();
        assert_eq!(paths, vec!["mode", "tags[\"k\"]", "img.t"]);

        let cfg = Value::object([
            ("mode", Value::unknown()),
            ("img", Value::object([("t", Value::unknown())])),
        ]);
        let mut d = Diagnostics::new();
        validate_config(&schema, &cfg, &mut d);
        assert!(d.is_empty());
    }
}
