//! The generic plan and apply rules every resource follows, driven by its schema.
//!
//! Plan: configured values come back unchanged; computed attributes left null in the
//! configuration become their default or unknown on create, and on an in-place update
//! keep their prior value when marked `keep_on_update` (otherwise unknown); changed
//! `force_new` attributes are listed in `requires_replace`. Apply: the new state takes
//! every value the plan knew and holds no unknowns.

use crate::schema::{AttrKind, Attribute, Nesting, Schema};
use crate::value::{Path, Value};

/// A planned new state and the attribute paths whose change replaces the object.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub planned: Value,
    pub requires_replace: Vec<Path>,
}

/// Plans a change from `prior` (null on create) to the `proposed` new state.
pub fn plan_change(schema: &Schema, prior: &Value, proposed: &Value, config: &Value) -> Plan {
    if proposed.is_null() {
        return Plan {
            planned: Value::Null,
            requires_replace: Vec::new(),
        };
    }
    let mut planned = proposed.clone();
    apply_defaults(&schema.attributes, &mut planned, config);
    if prior.is_null() {
        mark_computed_unknown(&schema.attributes, &mut planned, config, false);
        return Plan {
            planned,
            requires_replace: Vec::new(),
        };
    }
    if planned == *prior {
        return Plan {
            planned,
            requires_replace: Vec::new(),
        };
    }
    let mut requires_replace = Vec::new();
    collect_replace(
        &schema.attributes,
        &planned,
        prior,
        &Path::root(),
        &mut requires_replace,
    );
    mark_computed_unknown(&schema.attributes, &mut planned, config, true);
    Plan {
        planned,
        requires_replace,
    }
}

/// The planned value of a data source: its configuration with defaults, computed unknown.
pub fn plan_data_source(schema: &Schema, config: &Value) -> Value {
    let mut planned = config.clone();
    apply_defaults(&schema.attributes, &mut planned, config);
    mark_computed_unknown(&schema.attributes, &mut planned, config, false);
    planned
}

/// Sets defaults for attributes the configuration leaves null (also used after import).
pub fn apply_defaults(attrs: &[Attribute], value: &mut Value, config: &Value) {
    for a in attrs {
        if let Some(d) = &a.default
            && config.get(a.name).is_null()
            && !value.get(a.name).is_unknown()
        {
            value.set(a.name, d.clone());
        }
    }
}

fn mark_computed_unknown(attrs: &[Attribute], planned: &mut Value, config: &Value, update: bool) {
    for a in attrs {
        let cfg = config.get(a.name);
        if a.computed && cfg.is_null() {
            match &a.default {
                Some(d) => planned.set(a.name, d.clone()),
                None if !(update && a.keep_on_update) => planned.set(a.name, Value::unknown()),
                None => {}
            }
            continue;
        }
        // Computed attributes nested inside a configured value.
        if let AttrKind::Nested(n, inner) = &a.kind {
            if !inner.iter().any(|i| i.computed) || cfg.is_unknown() {
                continue;
            }
            let Some(pv) = planned.get_mut(a.name) else {
                continue;
            };
            match (n, pv) {
                (Nesting::Single, pv @ Value::Object(_)) => {
                    mark_computed_unknown(inner, pv, cfg, update)
                }
                (Nesting::Map, Value::Map(m)) => {
                    for (k, e) in m.iter_mut() {
                        let c = cfg.entries().and_then(|c| c.get(k)).unwrap_or(&Value::Null);
                        mark_computed_unknown(inner, e, c, update);
                    }
                }
                _ => {}
            }
        }
    }
}

fn collect_replace(
    attrs: &[Attribute],
    planned: &Value,
    prior: &Value,
    base: &Path,
    out: &mut Vec<Path>,
) {
    for a in attrs {
        let path = base.child(a.name);
        let (pv, rv) = (planned.get(a.name), prior.get(a.name));
        if a.force_new && pv != rv {
            out.push(path);
        } else if let AttrKind::Nested(Nesting::Single, inner) = &a.kind {
            collect_replace(inner, pv, rv, &path, out);
        }
    }
}

/// Makes an applied state consistent with the plan: every wholly known planned
/// attribute is kept as planned, and no unknown remains.
pub fn reconcile_applied(schema: &Schema, planned: &Value, mut applied: Value) -> Value {
    if applied.is_null() {
        return applied;
    }
    if let Value::Object(p) = planned {
        for (name, pv) in p {
            let nested_single = matches!(
                schema.attribute(name).map(|a| &a.kind),
                Some(AttrKind::Nested(Nesting::Single, _))
            );
            if pv.is_wholly_known() {
                applied.set(name, pv.clone());
            } else if nested_single && !pv.is_unknown() {
                // Keep the known parts of a partly known nested object.
                if let (Value::Object(pm), Some(Value::Object(am))) = (pv, applied.get_mut(name)) {
                    for (k, x) in pm {
                        if x.is_wholly_known() {
                            am.insert(k.clone(), x.clone());
                        }
                    }
                }
            }
        }
    }
    applied.unknowns_to_null();
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Type;

    fn schema() -> Schema {
        Schema::new(
            "test",
            vec![
                Attribute::string("id")
                    .computed()
                    .keep_on_update()
                    .describe("id"),
                Attribute::string("name")
                    .required()
                    .force_new()
                    .describe("n"),
                Attribute::string("description").optional().describe("d"),
                Attribute::string("status").computed().describe("s"),
                Attribute::string("visibility")
                    .default(Value::from("private"))
                    .describe("v"),
                Attribute::typed("tags", Type::map(Type::String))
                    .optional()
                    .describe("t"),
                Attribute::nested(
                    "image",
                    Nesting::Single,
                    vec![
                        Attribute::string("region")
                            .optional()
                            .force_new()
                            .describe("r"),
                        Attribute::string("image_id").optional().describe("i"),
                    ],
                )
                .optional()
                .describe("img"),
            ],
        )
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        let names = [
            "id",
            "name",
            "description",
            "status",
            "visibility",
            "tags",
            "image",
        ];
        Value::object(names.iter().map(|n| {
            (
                *n,
                pairs
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Value::Null),
            )
        }))
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let config = obj(&[("name", "a".into())]);
        let p = plan_change(&schema(), &Value::Null, &config, &config);
        assert!(p.planned.get("id").is_unknown());
        assert!(p.planned.get("status").is_unknown());
        assert_eq!(p.planned.get("visibility"), &Value::from("private"));
        assert_eq!(p.planned.get("name"), &Value::from("a"));
        assert!(p.planned.get("description").is_null());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn configured_values_are_never_changed() {
        let config = obj(&[
            ("name", "a".into()),
            ("visibility", "public".into()),
            ("description", Value::unknown()),
        ]);
        let p = plan_change(&schema(), &Value::Null, &config, &config);
        assert_eq!(p.planned.get("visibility"), &Value::from("public"));
        assert!(p.planned.get("description").is_unknown());
    }

    #[test]
    fn no_change_keeps_prior_state() {
        let prior = obj(&[
            ("id", "x".into()),
            ("name", "a".into()),
            ("status", "ok".into()),
            ("visibility", "private".into()),
        ]);
        let config = obj(&[("name", "a".into())]);
        // Terraform proposes prior values for computed attributes left null.
        let proposed = prior.clone();
        let p = plan_change(&schema(), &prior, &proposed, &config);
        assert_eq!(p.planned, prior);
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn update_keeps_stable_computed_and_unknowns_the_rest() {
        let prior = obj(&[
            ("id", "x".into()),
            ("name", "a".into()),
            ("status", "ok".into()),
            ("visibility", "private".into()),
        ]);
        let config = obj(&[("name", "a".into()), ("description", "new".into())]);
        let mut proposed = prior.clone();
        proposed.set("description", "new".into());
        let p = plan_change(&schema(), &prior, &proposed, &config);
        assert_eq!(p.planned.get("id"), &Value::from("x"));
        assert!(p.planned.get("status").is_unknown());
        assert_eq!(p.planned.get("visibility"), &Value::from("private"));
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn force_new_changes_require_replacement_including_nested() {
        let img = |r: &str| Value::object([("region", r.into()), ("image_id", "m-1".into())]);
        let prior = obj(&[
            ("id", "x".into()),
            ("name", "a".into()),
            ("visibility", "private".into()),
            ("image", img("r1")),
        ]);
        let config = obj(&[("name", "b".into()), ("image", img("r2"))]);
        let mut proposed = prior.clone();
        proposed.set("name", "b".into());
        proposed.set("image", img("r2"));
        let p = plan_change(&schema(), &prior, &proposed, &config);
        let paths: Vec<String> = p.requires_replace.iter().map(ToString::to_string).collect();
        assert_eq!(paths, vec!["name", "image.region"]);
        // An unknown new value of a force-new attribute also replaces.
        proposed.set("name", Value::unknown());
        let p = plan_change(&schema(), &prior, &proposed, &config);
        assert_eq!(p.requires_replace[0], Path::attr("name"));
    }

    #[test]
    fn destroy_plans_null() {
        let prior = obj(&[("id", "x".into())]);
        let p = plan_change(&schema(), &prior, &Value::Null, &Value::Null);
        assert!(p.planned.is_null());
    }

    #[test]
    fn apply_keeps_planned_values_and_leaves_no_unknowns() {
        let config = obj(&[
            ("name", "a".into()),
            ("tags", Value::string_map([("k", "v")])),
        ]);
        let p = plan_change(&schema(), &Value::Null, &config, &config);
        // The resource returned a normalised name and forgot status.
        let applied = obj(&[
            ("id", "new".into()),
            ("name", "A".into()),
            ("status", Value::unknown()),
        ]);
        let s = reconcile_applied(&schema(), &p.planned, applied);
        assert_eq!(s.get("name"), &Value::from("a"));
        assert_eq!(s.get("id"), &Value::from("new"));
        assert_eq!(s.get("tags"), &Value::string_map([("k", "v")]));
        assert!(s.get("status").is_null());
        assert!(s.is_wholly_known());
    }
}
