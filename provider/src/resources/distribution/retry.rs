//! What a retry of failed regions keeps, what its plan predicts, and what the user is told:
//! the error after a partly failed apply, the warning of a plan that adopts a distribution.

use super::status_str;
use crate::value::Value;
use imagenest_core::distribution::{Distribution, DistributionStatus, RegionCopy, RegionStatus};

/// Which operation a distribution apply is: the error text tells what the next plan shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Create,
    Update,
}

/// Region IDs as a readable list: `a, b and c`.
pub(super) fn region_list<S: AsRef<str>>(regions: &[S]) -> String {
    match regions {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => format!(
            "{} and {}",
            init.iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

pub(super) fn regions_with(d: &Distribution, status: RegionStatus) -> Vec<&str> {
    d.regions
        .iter()
        .filter(|r| r.status == status)
        .map(|r| r.region.as_str())
        .collect()
}

/// What the apply after a failed one does, for the error's detail.
pub(super) fn next_apply_note(d: &Distribution, op: Op) -> String {
    let kept = regions_with(d, RegionStatus::Available);
    let kept = if kept.is_empty() {
        "No region has a copy yet.".to_string()
    } else {
        format!("The copies in {} are kept.", region_list(&kept))
    };
    match op {
        Op::Create => format!(
            "{kept} Terraform marks a resource whose create failed as tainted, so the next plan says \
             this distribution \"must be replaced\": that replacement adopts the distribution, deletes \
             no copies and copies only the failed regions again. (After `terraform untaint` on this \
             resource, the next plan shows the same retry as an in-place update.)"
        ),
        Op::Update => format!(
            "{kept} The next plan shows the failed regions as regions to add; applying it copies only \
             those again."
        ),
    }
}

pub(super) fn region_status_value(r: &RegionCopy) -> Value {
    Value::object([
        ("status", Value::from(r.status.as_str())),
        ("progress", Value::from(i64::from(r.progress))),
        ("image_id", Value::from(r.image_id.clone())),
        ("error", Value::from(r.error.clone())),
    ])
}

/// Fills in what an apply that waits for every region will end with, when it succeeds:
/// every target region available, the copies available now unchanged (the registry never
/// copies an available region again), the others unknown. The plan then shows the copies
/// that stay as unchanged instead of as values that vanish.
pub(super) fn predict(d: &Distribution, targets: &[String], planned: &mut Value) {
    let mut images = std::collections::BTreeMap::new();
    let mut status = std::collections::BTreeMap::new();
    for t in targets {
        let now = d.regions.iter().find(|r| {
            &r.region == t && r.status == RegionStatus::Available && r.image_id.is_some()
        });
        match now {
            Some(r) => {
                images.insert(t.clone(), Value::from(r.image_id.clone()));
                status.insert(t.clone(), region_status_value(r));
            }
            None => {
                images.insert(t.clone(), Value::unknown());
                status.insert(t.clone(), Value::unknown());
            }
        }
    }
    planned.set("region_images", Value::Map(images));
    planned.set("region_status", Value::Map(status));
    planned.set(
        "status",
        Value::from(status_str(DistributionStatus::Available)),
    );
}

/// How a successful apply departs from the values the plan predicted, if it does (a copy
/// lost or re-made between plan and apply). Terraform would call that a provider bug, so
/// it becomes an error that tells what happened.
pub(super) fn departs_from_plan(planned: &Value, applied: &Value) -> Option<String> {
    let (Some(want), Some(got)) = (
        planned.get("region_images").entries(),
        applied.get("region_images").entries(),
    ) else {
        return None;
    };
    let mut out = Vec::new();
    for (region, image) in want {
        match (image.as_str(), got.get(region).and_then(Value::as_str)) {
            (Some(w), Some(g)) if w != g => {
                out.push(format!("{region} now has image {g} instead of {w}"))
            }
            (_, None) => out.push(format!("{region} has no image")),
            _ => {}
        }
    }
    for region in got.keys().filter(|r| !want.contains_key(*r)) {
        out.push(format!("{region} has an image the plan did not expect"));
    }
    let (ws, gs) = (planned.get("status"), applied.get("status"));
    if ws.as_str().is_some() && ws != gs {
        out.push(format!(
            "the status is {:?}",
            gs.as_str().unwrap_or("unknown")
        ));
    }
    (!out.is_empty()).then(|| out.join("; "))
}

/// The plan warning of a create that adopts an existing distribution: what stays, what is
/// copied again, added or deleted.
pub(super) fn adoption_note(d: &Distribution, targets: Option<&[String]>) -> String {
    let wanted = |region: &str| targets.is_none_or(|t| t.iter().any(|r| r == region));
    let pick = |keep: &dyn Fn(&RegionStatus) -> bool, want: bool| -> Vec<&str> {
        d.regions
            .iter()
            .filter(|r| keep(&r.status) && wanted(&r.region) == want)
            .map(|r| r.region.as_str())
            .collect()
    };
    let kept = pick(&|s| *s == RegionStatus::Available, true);
    let copying = pick(
        &|s| matches!(s, RegionStatus::Pending | RegionStatus::Copying),
        true,
    );
    let failed = pick(&|s| *s == RegionStatus::Failed, true);
    let removed = pick(&|s| *s != RegionStatus::Deleting, false);
    let added: Vec<&str> = targets
        .unwrap_or_default()
        .iter()
        .filter(|t| {
            !d.regions
                .iter()
                .any(|r| &r.region == *t && r.status != RegionStatus::Deleting)
        })
        .map(String::as_str)
        .collect();
    let mut parts = vec![format!(
        "The registry already distributes version {}. This apply takes that distribution over \
         instead of starting again: the copies that exist stay, and only regions without one are \
         copied.",
        d.version_id
    )];
    if !kept.is_empty() {
        parts.push(format!("Kept as they are: {}.", region_list(&kept)));
    }
    if !copying.is_empty() {
        parts.push(format!(
            "Still copying (the apply waits for them): {}.",
            region_list(&copying)
        ));
    }
    if !failed.is_empty() {
        parts.push(format!(
            "Copied again (failed before): {}.",
            region_list(&failed)
        ));
    }
    if !added.is_empty() {
        parts.push(format!(
            "Copied for the first time: {}.",
            region_list(&added)
        ));
    }
    if !removed.is_empty() {
        parts.push(format!(
            "Deleted (no longer in `regions`): {}.",
            region_list(&removed)
        ));
    }
    parts.push(
        "If the plan says this distribution \"is tainted, so must be replaced\": its create \
         failed, timed out or was interrupted, and this replacement finishes that distribution; \
         it does not copy every region again."
            .to_string(),
    );
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(region: &str, status: RegionStatus, image: Option<&str>) -> RegionCopy {
        RegionCopy {
            region: region.into(),
            status,
            progress: if status == RegionStatus::Available {
                100
            } else {
                0
            },
            image_id: image.map(Into::into),
            error: (status == RegionStatus::Failed).then(|| "ServiceUnavailable".into()),
        }
    }

    fn dist(regions: Vec<RegionCopy>) -> Distribution {
        Distribution::from_regions("ver-1", "pkg-1", regions, String::new())
    }

    fn planned() -> Value {
        Value::object([
            ("status", Value::unknown()),
            ("region_images", Value::unknown()),
            ("region_status", Value::unknown()),
        ])
    }

    #[test]
    fn lists_read_like_prose() {
        assert_eq!(region_list::<&str>(&[]), "");
        assert_eq!(region_list(&["a"]), "a");
        assert_eq!(region_list(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn prediction_keeps_available_copies_and_leaves_the_rest_unknown() {
        let d = dist(vec![
            copy("cn-hangzhou", RegionStatus::Available, Some("m-hz")),
            copy("ap-southeast-1", RegionStatus::Failed, None),
            copy("eu-west-1", RegionStatus::Deleting, Some("m-eu")),
        ]);
        let mut p = planned();
        let targets = ["ap-southeast-1".to_string(), "cn-hangzhou".to_string()];
        predict(&d, &targets, &mut p);
        let images = p.get("region_images").entries().unwrap();
        assert_eq!(images["cn-hangzhou"], Value::from("m-hz"));
        assert!(images["ap-southeast-1"].is_unknown());
        assert!(!images.contains_key("eu-west-1"));
        let status = p.get("region_status").entries().unwrap();
        assert_eq!(
            status["cn-hangzhou"].get("status"),
            &Value::from("available")
        );
        assert!(status["ap-southeast-1"].is_unknown());
        assert_eq!(p.get("status"), &Value::from("available"));
    }

    #[test]
    fn an_apply_that_departs_from_the_prediction_is_named() {
        let d = dist(vec![
            copy("cn-hangzhou", RegionStatus::Available, Some("m-hz")),
            copy("ap-southeast-1", RegionStatus::Failed, None),
        ]);
        let mut p = planned();
        let targets = ["ap-southeast-1".to_string(), "cn-hangzhou".to_string()];
        predict(&d, &targets, &mut p);
        let applied = |images: &[(&str, &str)], status: &str| {
            Value::object([
                ("status", Value::from(status)),
                ("region_images", Value::string_map(images.iter().copied())),
            ])
        };
        let good = applied(
            &[("cn-hangzhou", "m-hz"), ("ap-southeast-1", "m-sg")],
            "available",
        );
        assert_eq!(departs_from_plan(&p, &good), None);
        let remade = applied(
            &[("cn-hangzhou", "m-new"), ("ap-southeast-1", "m-sg")],
            "available",
        );
        let what = departs_from_plan(&p, &remade).unwrap();
        assert!(
            what.contains("cn-hangzhou now has image m-new instead of m-hz"),
            "{what}"
        );
        let lost = applied(&[("ap-southeast-1", "m-sg")], "partially_available");
        let what = departs_from_plan(&p, &lost).unwrap();
        assert!(what.contains("cn-hangzhou has no image"), "{what}");
        assert!(what.contains("partially_available"), "{what}");
        // Nothing predicted, nothing to check.
        assert_eq!(departs_from_plan(&planned(), &lost), None);
    }

    #[test]
    fn adoption_note_says_what_stays_what_is_copied_and_what_goes() {
        let d = dist(vec![
            copy("cn-hangzhou", RegionStatus::Available, Some("m-hz")),
            copy("ap-southeast-1", RegionStatus::Failed, None),
            copy("eu-west-1", RegionStatus::Available, Some("m-eu")),
            copy("us-west-1", RegionStatus::Copying, None),
        ]);
        let targets = [
            "ap-southeast-1".to_string(),
            "cn-hangzhou".to_string(),
            "cn-shanghai".to_string(),
            "us-west-1".to_string(),
        ];
        let note = adoption_note(&d, Some(&targets));
        for want in [
            "Kept as they are: cn-hangzhou.",
            "Still copying (the apply waits for them): us-west-1.",
            "Copied again (failed before): ap-southeast-1.",
            "Copied for the first time: cn-shanghai.",
            "Deleted (no longer in `regions`): eu-west-1.",
        ] {
            assert!(note.contains(want), "no {want:?} in {note}");
        }
        // Targets unknown at plan time: only what exists is described.
        let note = adoption_note(&d, None);
        assert!(
            note.contains("Kept as they are: cn-hangzhou and eu-west-1."),
            "{note}"
        );
        assert!(!note.contains("Deleted"), "{note}");
    }

    #[test]
    fn the_error_tells_what_the_next_plan_shows() {
        let d = dist(vec![
            copy("cn-hangzhou", RegionStatus::Available, Some("m-hz")),
            copy("ap-southeast-1", RegionStatus::Failed, None),
        ]);
        let create = next_apply_note(&d, Op::Create);
        assert!(
            create.starts_with("The copies in cn-hangzhou are kept."),
            "{create}"
        );
        assert!(create.contains("\"must be replaced\""), "{create}");
        let update = next_apply_note(&d, Op::Update);
        assert!(update.contains("regions to add"), "{update}");
        let none = next_apply_note(
            &dist(vec![copy("x", RegionStatus::Failed, None)]),
            Op::Update,
        );
        assert!(none.starts_with("No region has a copy yet."), "{none}");
    }
}
