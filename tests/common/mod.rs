//! Helpers for tests that run the real `imagenest` binary.

#![allow(dead_code)]

use std::{
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use imagenest_client::Client;

/// A running `imagenest serve`; killed when dropped.
pub struct Serve {
    pub child: Child,
    pub endpoint: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill9(mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) };
        let _ = self.child.wait();
    }

    pub fn admin_token(dir: &Path) -> String {
        std::fs::read_to_string(dir.join("admin-token"))
            .expect("admin token")
            .trim()
            .to_string()
    }
}

pub fn imagenest() -> Command {
    Command::new(env!("CARGO_BIN_EXE_imagenest"))
}

/// Starts `imagenest serve --listen 127.0.0.1:0 --data-dir DIR ARGS…` and waits until it answers.
pub async fn serve(dir: &Path, args: &[&str]) -> Serve {
    let _ = std::fs::remove_file(dir.join("endpoint"));
    let child = imagenest()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start imagenest serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(e) = std::fs::read_to_string(dir.join("endpoint")) {
            let endpoint = e.trim().to_string();
            if Client::new(&endpoint, None).unwrap().health().await.is_ok() {
                return Serve { child, endpoint };
            }
        }
        assert!(Instant::now() < deadline, "imagenest serve did not come up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `imagenest ARGS…` to completion.
pub fn run(args: &[&str]) -> Output {
    imagenest().args(args).output().expect("run imagenest")
}

/// Seeds a vendor image in the sim cloud of a `serve` data dir; returns its ID.
pub fn vendor_image(dir: &Path, account: &str, name: &str, size_gib: u64) -> String {
    let out = imagenest()
        .args([
            "sim-cloud",
            "image",
            "create",
            "--account",
            account,
            "--region",
            "cn-hangzhou",
            "--name",
            name,
            "--size-gib",
            &size_gib.to_string(),
            "--data-dir",
        ])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}
