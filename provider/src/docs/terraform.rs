//! Runs `terraform providers schema -json` against a provider executable, offline: a scratch
//! directory holds a one-line configuration and a CLI config whose `dev_overrides` point
//! `imagenest/imagenest` at the executable, so nothing is installed and `init` is never run.

use super::DocsError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The executable name Terraform looks for in a `dev_overrides` directory.
const PROVIDER_EXE: &str = "terraform-provider-imagenest";

/// The JSON `terraform providers schema -json` prints when `provider_exe` serves
/// `imagenest/imagenest`. `provider_exe` may have any name (the `provider-docs` binary passes
/// itself): it is linked into the scratch directory under the name Terraform expects.
pub fn schema_json(provider_exe: &Path) -> Result<Vec<u8>, DocsError> {
    let scratch = Scratch::new()?;
    let plugins = scratch.0.join("plugins");
    std::fs::create_dir(&plugins).map_err(super::io_error(&plugins))?;
    let linked = plugins.join(PROVIDER_EXE);
    link_or_copy(provider_exe, &linked).map_err(super::io_error(provider_exe))?;

    let rc = scratch.0.join("cli.tfrc");
    let rc_text = format!(
        "provider_installation {{\n  dev_overrides {{\n    \"imagenest/imagenest\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
        hcl_escape(&plugins.to_string_lossy())
    );
    std::fs::write(&rc, rc_text).map_err(super::io_error(&rc))?;
    let main_tf = scratch.0.join("main.tf");
    std::fs::write(
        &main_tf,
        "terraform {\n  required_providers {\n    imagenest = { source = \"imagenest/imagenest\" }\n  }\n}\n",
    )
    .map_err(super::io_error(&main_tf))?;

    let mut cmd = Command::new("terraform");
    cmd.args(["providers", "schema", "-json"])
        .current_dir(&scratch.0)
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null());
    // Settings from the caller's shell that would change what terraform does here.
    for var in [
        "TF_LOG",
        "TF_CLI_ARGS",
        "TF_CLI_ARGS_providers",
        "TF_DATA_DIR",
        "TF_WORKSPACE",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd.output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DocsError::TerraformMissing,
        _ => DocsError::TerraformSpawn(e),
    })?;
    if !out.status.success() {
        return Err(DocsError::Terraform {
            status: out.status,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    Ok(out.stdout)
}

fn hcl_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(unix)]
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(std::path::absolute(from)?, to)
}

#[cfg(not(unix))]
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::copy(from, to).map(|_| ())
}

/// A directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, DocsError> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "imagenest-provider-docs-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&path).map_err(super::io_error(&path))?;
        Ok(Scratch(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
