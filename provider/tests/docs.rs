//! The committed provider docs (`docs/index.md`, `docs/resources/`, `docs/data-sources/`) are
//! exactly what `provider-docs` renders from `terraform providers schema -json` against the
//! built provider; these tests fail naming every stale, missing or extra page and the command
//! that regenerates them. They need `terraform` on PATH and fail saying so when it is missing.

use imagenest_provider::docs::{self, Difference};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

/// The JSON Terraform prints for the built `terraform-provider-imagenest` (once per test
/// process), or a failure saying what to install.
fn schema_json() -> &'static [u8] {
    static JSON: OnceLock<Vec<u8>> = OnceLock::new();
    JSON.get_or_init(|| {
        let provider = Path::new(env!("CARGO_BIN_EXE_terraform-provider-imagenest"));
        docs::schema_json(provider).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The generated files of a docs directory: `index.md` and the pages under `resources/` and
/// `data-sources/`, as relative path → bytes.
fn generated_files(docs_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let index = docs_dir.join("index.md");
    if index.is_file() {
        out.push(("index.md".to_string(), std::fs::read(&index).unwrap()));
    }
    for dir in ["resources", "data-sources"] {
        let Ok(entries) = std::fs::read_dir(docs_dir.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path: PathBuf = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((format!("{dir}/{name}"), std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
    out
}

#[test]
fn committed_docs_are_what_terraform_sees_in_the_built_provider() {
    let pages = docs::pages(schema_json(), &repo().join("examples")).unwrap();

    // Regenerate into a temp dir, then compare byte for byte with the committed files.
    let fresh = tempfile::tempdir().unwrap();
    docs::write(&pages, fresh.path()).unwrap();
    let fresh_files = generated_files(fresh.path());
    let committed_files = generated_files(&repo().join("docs"));
    let mut problems = Vec::new();
    for (path, bytes) in &fresh_files {
        match committed_files.iter().find(|(p, _)| p == path) {
            None => problems.push(format!("missing docs/{path}")),
            Some((_, committed)) if committed != bytes => {
                problems.push(format!("stale   docs/{path}"))
            }
            Some(_) => {}
        }
    }
    for (path, _) in &committed_files {
        if !fresh_files.iter().any(|(p, _)| p == path) {
            problems.push(format!(
                "extra   docs/{path} (documents nothing the provider has)"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "the committed provider docs differ from `terraform providers schema -json`:\n  {}\n\
         regenerate them with: {}",
        problems.join("\n  "),
        docs::REGENERATE
    );

    // What the registry layout promises on every page.
    for page in &pages {
        assert!(
            page.text.starts_with("---\npage_title: "),
            "{}: no frontmatter",
            page.path
        );
        for heading in ["## Example Usage", "## Schema"] {
            assert!(
                page.text.contains(&format!("\n{heading}\n")),
                "{}: no `{heading}` (add the example under examples/)",
                page.path
            );
        }
        if page.path.starts_with("resources/") {
            assert!(
                page.text.contains("\n## Import\n"),
                "{}: no `## Import` (add examples/resources/<type>/import.sh)",
                page.path
            );
        }
    }
}

#[test]
fn every_attribute_terraform_sees_has_a_description() {
    let all: docs::SchemaJson = serde_json::from_slice(schema_json()).unwrap();
    let p = &all.provider_schemas[docs::PROVIDER_SOURCE];
    fn attrs(
        owner: &str,
        attributes: &std::collections::BTreeMap<String, docs::Attribute>,
        missing: &mut Vec<String>,
    ) {
        for (name, a) in attributes {
            if a.description.trim().is_empty() {
                missing.push(format!("{owner}.{name}"));
            }
            if let Some(n) = &a.nested_type {
                attrs(&format!("{owner}.{name}"), &n.attributes, missing);
            }
        }
    }
    fn block(owner: &str, b: &docs::Block, missing: &mut Vec<String>) {
        if b.description.trim().is_empty() {
            missing.push(owner.to_string());
        }
        attrs(owner, &b.attributes, missing);
        for (name, bt) in &b.block_types {
            block(&format!("{owner}.{name}"), &bt.block, missing);
        }
    }
    let mut missing = Vec::new();
    block("provider", &p.provider.block, &mut missing);
    for (ty, s) in p.resource_schemas.iter().chain(&p.data_source_schemas) {
        block(ty, &s.block, &mut missing);
    }
    assert!(missing.is_empty(), "no description: {missing:?}");
}

#[test]
fn the_docs_command_lists_what_differs_then_rewrites_it() {
    let bin = env!("CARGO_BIN_EXE_provider-docs");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // A docs dir as someone might leave it: a stale index, a page for a retired resource,
    // a guide the generator must not touch, and no other pages.
    std::fs::create_dir_all(out.join("resources")).unwrap();
    std::fs::create_dir_all(out.join("guides")).unwrap();
    std::fs::write(out.join("index.md"), "hand-edited\n").unwrap();
    std::fs::write(out.join("resources/retired.md"), "gone\n").unwrap();
    std::fs::write(out.join("guides/keep.md"), "a guide\n").unwrap();

    let check = Command::new(bin)
        .args(["--check", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let said = text(&check);
    assert_eq!(check.status.code(), Some(1), "{said}");
    for expected in [
        "stale   index.md",
        "missing resources/distribution.md",
        "missing data-sources/image_map.md",
        "extra   resources/retired.md",
        docs::REGENERATE,
    ] {
        assert!(said.contains(expected), "no `{expected}` in:\n{said}");
    }

    let write = Command::new(bin).arg("--out").arg(out).output().unwrap();
    assert!(write.status.success(), "{}", text(&write));
    let rewritten = generated_files(out);
    let committed = generated_files(&repo().join("docs"));
    let names = |files: &[(String, Vec<u8>)]| -> Vec<String> {
        files.iter().map(|(p, _)| p.clone()).collect()
    };
    assert_eq!(names(&rewritten), names(&committed));
    for ((path, fresh), (_, old)) in rewritten.iter().zip(&committed) {
        assert!(
            fresh == old,
            "`provider-docs` wrote docs/{path} differently from the committed file: run {}",
            docs::REGENERATE
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("guides/keep.md")).unwrap(),
        "a guide\n"
    );

    let again = Command::new(bin)
        .args(["--check", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", text(&again));
}

#[test]
fn a_changed_schema_json_changes_the_pages() {
    // The renderer reads only the JSON: a description changed there shows in the page.
    let mut json: serde_json::Value = serde_json::from_slice(schema_json()).unwrap();
    json["provider_schemas"][docs::PROVIDER_SOURCE]["resource_schemas"]["imagenest_package"]["block"]
        ["attributes"]["name"]["description"] = "A changed description.".into();
    let pages = docs::pages(
        &serde_json::to_vec(&json).unwrap(),
        &repo().join("examples"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let committed = repo().join("docs");
    for page in &pages {
        let path = dir.path().join(&page.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(committed.join(&page.path), &path).unwrap();
    }
    assert_eq!(
        docs::compare(&pages, dir.path()).unwrap(),
        vec![Difference::Stale("resources/package.md".into())]
    );
    let package = pages
        .iter()
        .find(|p| p.path == "resources/package.md")
        .unwrap();
    assert!(
        package
            .text
            .contains("- `name` (String) A changed description.\n")
    );
}
