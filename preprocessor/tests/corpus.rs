//! Conformance over ../shared/corpus: every literal site that OCCURRENCES.tsv lists in a
//! supported resource type is found with its value, every non-literal one is reported, an
//! empty mapping returns each file byte for byte, and a full mapping changes only the values.
//! Fails loudly when the corpus is absent (IMAGENEST_ALLOW_NO_CORPUS=1 accepts that).

mod common;

use std::collections::{BTreeMap, HashMap};

use imagenest_preprocessor::{Lookup, ScanOptions, SiteValue, detect_format, resolve, scan, types};

#[test]
fn corpus_sites_match_occurrences_and_round_trip() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let occurrences = std::fs::read_to_string(dir.join("OCCURRENCES.tsv")).unwrap();
    // file -> line -> (scope, type, class, value)
    // file -> (line, scope, type, class, value)
    type Row = (usize, String, String, String, String);
    let mut rows: HashMap<String, Vec<Row>> = HashMap::new();
    for line in occurrences.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        rows.entry(f[0].to_string()).or_default().push((
            f[1].parse().unwrap(),
            f[3].into(),
            f[4].into(),
            f[7].into(),
            f[9].into(),
        ));
    }
    let supported = |t: &str| {
        types::ROS_IMAGE_BOOTING_TYPES.contains(&t)
            || types::TERRAFORM_IMAGE_BOOTING_TYPES.contains(&t)
    };
    let opts = ScanOptions::default();
    let mut problems = Vec::new();
    let (mut literal_rows, mut non_literal_rows) = (0, 0);
    for (name, text) in common::corpus_files(&dir) {
        let format = detect_format(Some(std::path::Path::new(&name)), &text);
        let sites = match scan(&text, format, &opts) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{name}: {e}"));
                continue;
            }
        };
        let by_line: BTreeMap<usize, &imagenest_preprocessor::ImageSite> =
            sites.iter().map(|s| (s.position.line, s)).collect();
        for (line, scope, ty, class, value) in rows.get(&name).map(Vec::as_slice).unwrap_or(&[]) {
            if !(scope == "Resources" || scope == "resource") || !supported(ty) {
                continue;
            }
            // A mapping value (`ImageId:` then `Ref: X` below) starts on a following line.
            let site = by_line
                .range(*line..=*line + 3)
                .map(|(_, s)| *s)
                .find(|s| s.resource_type == ty.as_str());
            match (site, class.as_str()) {
                (None, _) => {
                    problems.push(format!("{name}:{line}: {class} site of {ty} not found"))
                }
                (Some(s), "literal") => {
                    literal_rows += 1;
                    let want = value.trim_matches('"');
                    if s.value.literal() != Some(want) {
                        problems.push(format!(
                            "{name}:{line}: want literal {want:?}, got {:?}",
                            s.value
                        ));
                    }
                }
                (Some(s), _) => {
                    non_literal_rows += 1;
                    if !matches!(s.value, SiteValue::NonLiteral(_)) {
                        problems.push(format!(
                            "{name}:{line}: want a non-literal ({class}), got {:?}",
                            s.value
                        ));
                    }
                }
            }
        }
        // Empty mapping: identical bytes.
        let none = resolve(&text, &sites, |_| Lookup::NotAssociated);
        if none.apply(&text) != text {
            problems.push(format!("{name}: changed with no association"));
        }
        // Full mapping: only the values change, and each becomes the mapped ID.
        let res = resolve(&text, &sites, |lit| {
            Lookup::Image(format!("m-corpus{}", lit.len()))
        });
        let out = res.apply(&text);
        let mut back = out.clone();
        for e in &res.edits {
            if !e.text.contains("m-corpus") {
                problems.push(format!("{name}: replacement {:?} lacks the ID", e.text));
            }
            back.replace_range(
                e.span.start..e.span.start + e.text.len(),
                &text[e.span.clone()],
            );
        }
        if back != text {
            problems.push(format!("{name}: bytes outside the image values changed"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(
        literal_rows > 200 && non_literal_rows > 100,
        "{literal_rows} literal and {non_literal_rows} non-literal rows checked"
    );
}
