//! Helpers for the newcomer-path tests: the built provider, the terraform CLI, a CLI config with
//! `dev_overrides`, and the repository's examples.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const IMAGENEST: &str = env!("CARGO_BIN_EXE_imagenest");

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Fails loudly when the terraform CLI is missing.
pub fn require_terraform() {
    let ok = Command::new("terraform")
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "these tests run the real `terraform` CLI: install Terraform 1.5 or newer so that \
         `terraform` is on PATH (https://developer.hashicorp.com/terraform/install)"
    );
}

/// `terraform-provider-imagenest` next to the `imagenest` binary under test, brought up to date
/// once per test process (see `imagenest_testkit::bins`).
pub fn provider_bin() -> PathBuf {
    imagenest_testkit::bins::workspace_bin("terraform-provider-imagenest")
}

/// A Terraform CLI config in `dir` that takes `imagenest/imagenest` from the built provider.
pub fn cli_config(dir: &Path) -> PathBuf {
    let provider_dir = provider_bin().parent().unwrap().to_path_buf();
    let path = dir.join("cli.tfrc");
    std::fs::write(
        &path,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"imagenest/imagenest\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        ),
    )
    .unwrap();
    path
}

/// Runs `terraform ARGS` in `dir` with the CLI config `rc`.
pub fn terraform(dir: &Path, rc: &Path, args: &[&str]) -> Output {
    Command::new("terraform")
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", rc)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run terraform")
}

/// stdout + stderr of a process, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Subdirectories of `dir`, sorted.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}
