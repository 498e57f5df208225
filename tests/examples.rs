//! Every Terraform example under `examples/` passes `terraform validate` against the built
//! provider (through `dev_overrides`, no `terraform init`); the registry-layout examples cover
//! every resource and data source of the provider's schema; the example templates are all
//! literal image sites.

mod newcomer;

use std::path::Path;

use newcomer::{IMAGENEST, cli_config, require_terraform, root, subdirs, terraform, text};

/// Copies `from` into `dir` as `name`.
fn copy(from: &Path, dir: &Path, name: &str) {
    std::fs::copy(from, dir.join(name)).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

fn validate(dir: &Path, rc: &Path) {
    let out = terraform(dir, rc, &["validate", "-no-color"]);
    assert!(
        out.status.success(),
        "terraform validate failed in {}:\n{}",
        dir.display(),
        text(&out)
    );
}

fn dir_names(dir: &Path) -> Vec<String> {
    subdirs(dir)
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The per-resource examples reference each other (`imagenest_package.base`), as the registry
/// shows them side by side; they are validated as one module with the provider example.
#[test]
fn registry_layout_examples_validate_and_cover_the_schema() {
    require_terraform();
    let ex = root().join("examples");
    let work = tempfile::tempdir().unwrap();
    let rc = cli_config(work.path());
    let module = work.path().join("module");
    std::fs::create_dir(&module).unwrap();
    copy(&ex.join("provider/provider.tf"), &module, "provider.tf");
    for dir in subdirs(&ex.join("resources")) {
        let ty = dir.file_name().unwrap().to_string_lossy().into_owned();
        copy(
            &dir.join("resource.tf"),
            &module,
            &format!("resource_{ty}.tf"),
        );
        let import = std::fs::read_to_string(dir.join("import.sh"))
            .unwrap_or_else(|_| panic!("{} has no import.sh", dir.display()));
        let commands: Vec<&str> = import
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .collect();
        assert!(
            !commands.is_empty(),
            "{}/import.sh imports nothing",
            dir.display()
        );
        for c in commands {
            assert!(
                c.starts_with(&format!("terraform import {ty}.")),
                "{}/import.sh: `{c}` does not import a {ty}",
                dir.display()
            );
        }
    }
    for dir in subdirs(&ex.join("data-sources")) {
        let ty = dir.file_name().unwrap().to_string_lossy().into_owned();
        copy(
            &dir.join("data-source.tf"),
            &module,
            &format!("data_source_{ty}.tf"),
        );
    }
    validate(&module, &rc);

    let out = terraform(&module, &rc, &["providers", "schema", "-json"]);
    assert!(
        out.status.success(),
        "providers schema failed:\n{}",
        text(&out)
    );
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &schema["provider_schemas"]["registry.terraform.io/imagenest/imagenest"];
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&p["resource_schemas"]),
        dir_names(&ex.join("resources")),
        "every resource needs examples/resources/<type>/ and nothing else lives there"
    );
    assert_eq!(
        keys(&p["data_source_schemas"]),
        dir_names(&ex.join("data-sources")),
        "every data source needs examples/data-sources/<type>/ and nothing else lives there"
    );
}

#[test]
fn quickstart_example_validates() {
    require_terraform();
    let work = tempfile::tempdir().unwrap();
    let rc = cli_config(work.path());
    let module = work.path().join("quickstart");
    std::fs::create_dir(&module).unwrap();
    copy(
        &root().join("examples/quickstart/main.tf"),
        &module,
        "main.tf",
    );
    validate(&module, &rc);
}

/// A new example directory must be covered by one of the tests above.
#[test]
fn every_example_directory_is_covered() {
    let ex = root().join("examples");
    let mut known = vec![
        "data-sources".to_string(),
        "provider".into(),
        "quickstart".into(),
        "resources".into(),
        "ros".into(),
        "templates".into(),
    ];
    known.sort();
    assert_eq!(
        dir_names(&ex),
        known,
        "a new directory under examples/ needs a test in tests/examples.rs"
    );
    for (dir, file) in [
        ("resources", "resource.tf"),
        ("data-sources", "data-source.tf"),
    ] {
        for d in subdirs(&ex.join(dir)) {
            assert!(d.join(file).is_file(), "{} has no {file}", d.display());
        }
    }
}

/// The templates the quickstart resolves: one of each format, every image site the literal
/// `centos_7`, so `imagenest check` passes them.
#[test]
fn example_templates_are_all_literal_sites() {
    let templates = root().join("examples/templates");
    for name in ["app.ros.yaml", "app.ros.json", "app.tf", "app.tf.json"] {
        assert!(
            templates.join(name).is_file(),
            "examples/templates/{name} is missing"
        );
    }
    let out = std::process::Command::new(IMAGENEST)
        .args(["check", "--report", "json"])
        .arg(&templates)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "imagenest check failed:\n{}",
        text(&out)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    for name in ["app.ros.yaml", "app.ros.json", "app.tf", "app.tf.json"] {
        assert!(
            report.contains(name),
            "no site reported in {name}:\n{report}"
        );
    }
    assert!(report.contains("centos_7"), "{report}");
}

/// The custom-resource ROS example passes `check`: its image is resolved at deploy time.
#[test]
fn ros_custom_resource_example_parses() {
    let out = std::process::Command::new(IMAGENEST)
        .arg("check")
        .arg(root().join("examples/ros/region-image.yaml"))
        .output()
        .unwrap();
    // Its image comes from `Fn::GetAtt` of a Custom::RegionImage: resolved at deploy time.
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("region-image.yaml"), "{}", text(&out));
}
