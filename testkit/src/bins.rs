//! The workspace's binaries for tests that run one package's binary from another package's
//! tests (the provider's tests start `imagenest serve`; the newcomer tests run the provider).
//!
//! Cargo only sets `CARGO_BIN_EXE_<name>` for the test's own package, so the other binary is
//! taken from the same target directory and profile. It is brought up to date with
//! `cargo test --workspace --no-run`, not `cargo build -p <package>`: features are unified per
//! cargo invocation, so a `-p` build would compile every shared dependency a second time with a
//! different feature set (and double the disk a clean CI run needs). After the
//! `cargo test --workspace` that runs the suite, this is a no-op that takes well under a second.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// `target/<profile>/<name>`, after making sure every workspace binary is up to date
/// (once per test process).
pub fn workspace_bin(name: &str) -> PathBuf {
    let profile_dir = profile_dir();
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| build_workspace(&profile_dir));
    let bin = profile_dir.join(name);
    assert!(
        bin.is_file(),
        "no `{name}` binary at {} after `cargo test --workspace --no-run`",
        bin.display()
    );
    bin
}

/// `target/<profile>` of the running test executable (`target/<profile>/deps/<test-exe>`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(Path::parent)
        .expect("test executables live in target/<profile>/deps")
        .to_path_buf()
}

/// Runs `cargo test --workspace --no-run` into the same target dir and profile.
fn build_workspace(profile_dir: &Path) {
    let target = profile_dir.parent().expect("target dir");
    let release = profile_dir.file_name().is_some_and(|n| n == "release");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let mut cmd = Command::new(cargo);
    cmd.args(["test", "--workspace", "--no-run", "--quiet"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", target)
        .stdin(Stdio::null());
    if release {
        cmd.arg("--release");
    }
    let status = cmd
        .status()
        .expect("run `cargo test --workspace --no-run` to build the workspace's binaries");
    assert!(
        status.success(),
        "building the workspace's binaries failed: run `cargo test --workspace --no-run` to see why"
    );
}
