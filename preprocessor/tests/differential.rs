//! Differential tests: on every fixture and corpus file, the scanners find exactly the image
//! sites that the reference parsers (saphyr-parser, serde_json, hcl-edit) find: same resources,
//! properties and literal values, same lines, and for HCL the same byte spans.

mod common;

use common::oracle;
use imagenest_preprocessor::{ResourceTypes, ScanOptions, detect_format, scan};

fn compare(
    name: &str,
    text: &str,
    format: imagenest_preprocessor::Format,
    opts: &ScanOptions,
) -> Result<usize, String> {
    let reference = match oracle::sites(text, format, &opts.resource_types) {
        Ok(r) => r,
        Err(e) => return Err(format!("{name}: the reference parser rejects it: {e}")),
    };
    let mine =
        scan(text, format, opts).map_err(|e| format!("{name}: the scanner rejects it: {e}"))?;
    let got = oracle::from_scan(&mine, &reference);
    let mut want = reference.clone();
    want.sort();
    if got != want {
        return Err(format!(
            "{name}: sites differ\n  scanner:   {got:?}\n  reference: {want:?}"
        ));
    }
    Ok(got.len())
}

#[test]
fn fixtures_match_the_reference_parsers() {
    let mut errors = Vec::new();
    for f in common::fixtures() {
        if let Err(e) = compare(&f.name, &f.text, f.format, &f.opts) {
            errors.push(e);
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn corpus_matches_the_reference_parsers() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let opts = ScanOptions {
        resource_types: ResourceTypes::default(),
        ..ScanOptions::default()
    };
    let mut errors = Vec::new();
    let mut sites = 0;
    let files = common::corpus_files(&dir);
    for (name, text) in &files {
        let format = detect_format(Some(std::path::Path::new(name)), text);
        match compare(name, text, format, &opts) {
            Ok(n) => sites += n,
            Err(e) => errors.push(e),
        }
    }
    assert!(
        errors.is_empty(),
        "{} of {} files differ:\n{}",
        errors.len(),
        files.len(),
        errors.join("\n")
    );
    assert!(sites > 200, "only {sites} sites in the corpus");
}
