//! Test harness: a real `imagenest serve` process and the real `terraform` CLI driving the
//! built provider through `dev_overrides` (no `terraform init`).
//!
//! The registry binary is `IMAGENEST_BIN` when set, else `target/<profile>/imagenest`,
//! which the harness brings up to date with `cargo test --workspace --no-run` first.

#![allow(dead_code)]

use imagenest_client::Client;
use imagenest_core::Role;
use imagenest_core::api::NewToken;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PROVIDER_BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-imagenest");

/// Polls `f` until it returns `Some`, panicking with `what` after `limit`.
pub fn wait_until<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The `imagenest` binary: `IMAGENEST_BIN`, or `target/<profile>/imagenest` brought up to
/// date once per test process (see `imagenest_testkit::bins`).
pub fn imagenest_bin() -> PathBuf {
    match std::env::var_os("IMAGENEST_BIN") {
        Some(p) => PathBuf::from(p),
        None => imagenest_testkit::bins::workspace_bin("imagenest"),
    }
}

/// A registry process with its own data directory and a vendor token for account `acme`.
pub struct Registry {
    child: Child,
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    pub admin_token: String,
    pub token: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    pub fn start() -> Registry {
        Registry::start_with(&[])
    }

    /// Starts `imagenest serve` with extra arguments (e.g. `--sim-speed`).
    pub fn start_with(extra: &[&str]) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let log = std::fs::File::create(dir.path().join("serve.log")).unwrap();
        let child = Command::new(imagenest_bin())
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--engine-poll-ms",
                "100",
                "--data-dir",
            ])
            .arg(&data)
            .args(extra)
            .env_remove("IMAGENEST_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start imagenest serve");
        let endpoint = wait_until(
            "the registry's endpoint file",
            Duration::from_secs(30),
            || {
                std::fs::read_to_string(data.join("endpoint"))
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            },
        );
        let endpoint = endpoint.trim().to_string();
        let admin_token = std::fs::read_to_string(data.join("admin-token"))
            .unwrap()
            .trim()
            .to_string();
        let mut reg = Registry {
            child,
            dir,
            endpoint,
            admin_token,
            token: String::new(),
        };
        reg.token = reg.create_token("acme", Role::Vendor);
        reg
    }

    pub fn create_token(&self, account: &str, role: Role) -> String {
        let admin = self.admin_client();
        block_on(async move {
            let new = NewToken {
                account: account.to_string(),
                role,
                kind: Default::default(),
                cloud_account_id: None,
                description: "provider e2e test".into(),
            };
            admin
                .create_token(&new)
                .await
                .expect("create a token")
                .token
        })
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Whether `imagenest serve` runs its embedded sim cloud (it writes `sim-cloud.json`).
    pub fn has_sim_cloud(&self) -> bool {
        self.data_dir().join("sim-cloud.json").exists()
    }

    /// Sets the embedded sim cloud's faults (`PUT /_sim/faults`), e.g. `{"down_regions": ["x"]}`.
    pub fn set_sim_faults(&self, json: &str) {
        use std::io::{Read, Write};
        let info: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(self.data_dir().join("sim-cloud.json"))
                .expect("sim-cloud.json"),
        )
        .unwrap();
        let endpoint = info["endpoint"].as_str().expect("sim endpoint");
        let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
        let mut s = std::net::TcpStream::connect(host).unwrap();
        write!(
            s,
            "PUT /_sim/faults HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 2"),
            "setting sim faults failed: {answer}"
        );
    }

    /// A source image of account `acme` in `region`: seeded in the embedded sim cloud when
    /// there is one, otherwise a well-formed ID the registry accepts without a cloud.
    pub fn source_image(&self, region: &str) -> String {
        self.source_image_sized(region, 1)
    }

    pub fn source_image_sized(&self, region: &str, size_gib: u32) -> String {
        if !self.has_sim_cloud() {
            return "m-provider0test0image0".to_string();
        }
        let out = Command::new(imagenest_bin())
            .args([
                "sim-cloud",
                "image",
                "create",
                "--account",
                "acme",
                "--region",
                region,
                "--name",
                "base",
                "--size-gib",
            ])
            .arg(size_gib.to_string())
            .arg("--data-dir")
            .arg(self.data_dir())
            .output()
            .expect("run imagenest sim-cloud image create");
        assert!(
            out.status.success(),
            "seeding an image failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The ID of the embedded sim cloud's seeded marketplace image of `product_code` and
    /// `version` (e.g. `V2.0`) in `region`.
    pub fn marketplace_image(&self, region: &str, product_code: &str, version: &str) -> String {
        let out = Command::new(imagenest_bin())
            .args([
                "sim-cloud",
                "image",
                "list",
                "--marketplace",
                "--output",
                "json",
            ])
            .args(["--region", region, "--data-dir"])
            .arg(self.data_dir())
            .output()
            .expect("run imagenest sim-cloud image list");
        assert!(
            out.status.success(),
            "listing sim images failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let images: Vec<serde_json::Value> =
            serde_json::from_slice(&out.stdout).expect("image list JSON");
        let suffix = format!(" {version}");
        images
            .iter()
            .find(|i| {
                i["product_code"] == product_code
                    && i["name"].as_str().is_some_and(|n| n.ends_with(&suffix))
            })
            .and_then(|i| i["image_id"].as_str())
            .unwrap_or_else(|| panic!("no marketplace image {product_code} {version} in {region}"))
            .to_string()
    }

    /// The embedded sim cloud's images in `region`, marketplace images left out.
    pub fn sim_images(&self, region: &str) -> Vec<serde_json::Value> {
        let out = Command::new(imagenest_bin())
            .args(["sim-cloud", "image", "list", "--output", "json"])
            .args(["--region", region, "--data-dir"])
            .arg(self.data_dir())
            .output()
            .expect("run imagenest sim-cloud image list");
        assert!(
            out.status.success(),
            "listing sim images failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("image list JSON")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn admin_client(&self) -> Client {
        Client::new(&self.endpoint, Some(&self.admin_token)).unwrap()
    }

    pub fn client(&self) -> Client {
        Client::new(&self.endpoint, Some(&self.token)).unwrap()
    }
}

/// Runs a future on a fresh runtime (tests are synchronous; the client is async).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A Terraform working directory using the built provider.
pub struct Tf {
    pub dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Tf {
    pub fn new(endpoint: &str, token: &str) -> Tf {
        check_terraform();
        let dir = tempfile::tempdir().unwrap();
        let provider_dir = Path::new(PROVIDER_BIN).parent().unwrap();
        let rc = format!(
            "provider_installation {{\n  dev_overrides {{ \"imagenest/imagenest\" = \"{}\" }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        );
        std::fs::write(dir.path().join("cli.tfrc"), rc).unwrap();
        let env = vec![
            (
                "TF_CLI_CONFIG_FILE".to_string(),
                dir.path().join("cli.tfrc").display().to_string(),
            ),
            ("TF_IN_AUTOMATION".to_string(), "1".to_string()),
            ("CHECKPOINT_DISABLE".to_string(), "1".to_string()),
            ("IMAGENEST_ENDPOINT".to_string(), endpoint.to_string()),
            ("IMAGENEST_TOKEN".to_string(), token.to_string()),
        ];
        Tf { dir, env }
    }

    pub fn set_env(&mut self, k: &str, v: &str) {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.to_string(), v.to_string()));
    }

    /// Writes main.tf: the provider requirement plus `body`.
    pub fn config(&self, body: &str) {
        let text = format!(
            "terraform {{\n  required_providers {{\n    imagenest = {{ source = \"imagenest/imagenest\" }}\n  }}\n}}\n\nprovider \"imagenest\" {{}}\n\n{body}"
        );
        std::fs::write(self.dir.path().join("main.tf"), text).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new("terraform");
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("TF_LOG")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().expect("run terraform")
    }

    /// Starts a command with piped stdout and stderr.
    pub fn spawn(&self, args: &[&str]) -> Child {
        let mut cmd = Command::new("terraform");
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("TF_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("start terraform")
    }

    /// Runs a command that must succeed; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "terraform {args:?} failed:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }

    pub fn apply(&self) -> String {
        self.ok(&["apply", "-auto-approve", "-input=false", "-no-color"])
    }

    pub fn destroy(&self) -> String {
        self.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"])
    }

    /// `plan -detailed-exitcode`: 0 no changes, 2 changes; anything else fails the test.
    pub fn plan(&self) -> (i32, String) {
        let out = self.run(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let code = out.status.code().unwrap_or(-1);
        assert!(code == 0 || code == 2, "plan failed ({code}):\n{text}");
        (code, text)
    }

    pub fn assert_no_changes(&self) {
        let (code, text) = self.plan();
        assert_eq!(code, 0, "expected no changes:\n{text}");
    }

    /// Runs a command expected to fail; returns stdout + stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !out.status.success(),
            "terraform {args:?} should have failed:\n{text}"
        );
        text
    }

    /// An attribute of a resource in the state (`terraform state show` is for people; use JSON).
    pub fn state_attr(&self, address: &str, attr: &str) -> serde_json::Value {
        let out = self.ok(&["show", "-json"]);
        let j: serde_json::Value = serde_json::from_str(&out).expect("show -json");
        let resources = j["values"]["root_module"]["resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        resources
            .iter()
            .find(|r| r["address"] == address)
            .map(|r| r["values"][attr].clone())
            .unwrap_or(serde_json::Value::Null)
    }

    pub fn outputs(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok(&["output", "-json"])).expect("output -json")
    }
}

/// Fails loudly when the terraform CLI is missing.
pub fn check_terraform() {
    let ok = Command::new("terraform")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the `terraform` CLI (1.11 or newer) is required for the provider's end-to-end tests: \
         install it so that `terraform` is on PATH"
    );
}
