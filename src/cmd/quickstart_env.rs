//! The quickstart's surroundings: prerequisites, the provider binary, the registry child process,
//! the Terraform working directory and the terminal styling.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const PROVIDER_BIN: &str = "terraform-provider-imagenest";
const PROVIDER_SOURCE: &str = "imagenest/imagenest";

/// `Err(sentence)` when a tool the quickstart needs is missing.
pub fn check_prerequisites() -> Result<(), String> {
    let found = std::process::Command::new("terraform")
        .arg("version")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if found {
        Ok(())
    } else {
        Err("the quickstart runs the real `terraform` CLI, which is not on PATH: install Terraform 1.5 \
             or newer (https://developer.hashicorp.com/terraform/install) and run it again."
            .into())
    }
}

/// The repository root: `--repo`, else the current directory, else this binary's source tree.
pub fn repo_root(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let has_examples = |p: &Path| p.join("examples/quickstart/main.tf").is_file();
    if let Some(p) = given {
        anyhow::ensure!(
            has_examples(p),
            "{} has no examples/quickstart/main.tf",
            p.display()
        );
        return Ok(p.to_path_buf());
    }
    let mut candidates = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd);
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    candidates.into_iter().find(|p| has_examples(p)).context(
        "cannot find examples/quickstart/main.tf: run the quickstart from the imagenest \
         repository, or pass --repo DIR",
    )
}

/// The provider binary: `--provider`, else the one next to this binary, brought up to date with
/// cargo (same target dir and profile) when the repository's provider crate is at hand.
pub fn provider_binary(ui: &Ui, given: Option<&Path>, root: &Path) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        anyhow::ensure!(p.is_file(), "no provider binary at {}", p.display());
        return Ok(p.to_path_buf());
    }
    let exe = std::env::current_exe().context("cannot find the running imagenest binary")?;
    let profile_dir = exe
        .parent()
        .context("the imagenest binary has no parent directory")?;
    let candidate = profile_dir.join(PROVIDER_BIN);
    let profile = profile_dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let target_dir = profile_dir.parent();
    let build_cmd = if profile == "release" {
        "cargo build --release -p terraform-provider-imagenest"
    } else {
        "cargo build -p terraform-provider-imagenest"
    };
    if root.join("provider/Cargo.toml").is_file()
        && matches!(profile, "release" | "debug")
        && let Some(target_dir) = target_dir
    {
        if !candidate.is_file() {
            println!(
                "{}",
                ui.dim(&format!(
                    "Building the Terraform provider once ({build_cmd}); this takes a few minutes…"
                ))
            );
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "terraform-provider-imagenest"])
            .current_dir(root)
            .env("CARGO_TARGET_DIR", target_dir)
            .stdin(Stdio::null());
        if profile == "release" {
            cmd.arg("--release");
        }
        match cmd.status() {
            Ok(s) if s.success() => {}
            Ok(_) => bail!("building the Terraform provider failed (`{build_cmd}` says why)"),
            // No cargo here: fall back to a provider that is already built.
            Err(_) => {}
        }
    }
    anyhow::ensure!(
        candidate.is_file(),
        "the Terraform provider is not built: run `{build_cmd}` in the repository \
         (or pass --provider FILE)"
    );
    Ok(candidate)
}

/// A new, empty working directory under the system's temp dir.
pub fn work_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    for n in 0..1000u32 {
        let dir = base.join(format!("imagenest-quickstart-{}-{n}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", dir.display()));
            }
        }
    }
    bail!(
        "cannot find a free working directory name in {}",
        base.display()
    )
}

/// The last line of `log` that contains `needle`, trimmed (or `needle` itself).
pub fn last_line_with(log: &str, needle: &str) -> String {
    log.lines()
        .rev()
        .find(|l| l.contains(needle))
        .map(|l| l.trim().to_string())
        .unwrap_or_else(|| needle.to_string())
}

/// `imagenest serve` as a child of this process, in `<work>/registry`.
pub struct Registry {
    child: Option<std::process::Child>,
    pub endpoint: String,
    pub admin_token: String,
    pub data_dir: PathBuf,
    log: PathBuf,
    pid: u32,
}

impl Registry {
    pub async fn start(work: &Path, sim_speed: f64, detached: bool) -> anyhow::Result<Registry> {
        let data_dir = work.join("registry");
        let log = work.join("registry.log");
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let exe = std::env::current_exe().context("cannot find the running imagenest binary")?;
        let mut cmd = std::process::Command::new(exe);
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data_dir)
            .arg("--sim-speed")
            .arg(sim_speed.to_string())
            .env_remove("IMAGENEST_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file);
        if detached {
            // Its own process group: a Ctrl-C in this terminal later does not stop it.
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let mut child = cmd.spawn().context("cannot start imagenest serve")?;
        let pid = child.id();
        let endpoint_file = data_dir.join("endpoint");
        let deadline = Instant::now() + Duration::from_secs(60);
        let endpoint = loop {
            if let Ok(text) = std::fs::read_to_string(&endpoint_file)
                && !text.trim().is_empty()
            {
                break text.trim().to_string();
            }
            if let Some(status) = child.try_wait()? {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                bail!("imagenest serve exited ({status}) before listening:\n{text}");
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                bail!(
                    "imagenest serve did not start within 60 s (log: {})",
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let token_path = data_dir.join("admin-token");
        let admin_token = std::fs::read_to_string(&token_path)
            .with_context(|| format!("cannot read {}", token_path.display()))?
            .trim()
            .to_string();
        Ok(Registry {
            child: Some(child),
            endpoint,
            admin_token,
            data_dir,
            log,
            pid,
        })
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Leaves the registry running after this process exits.
    pub fn detach(&mut self) {
        self.child = None;
    }

    /// Stops the registry and waits for it.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A copy of `examples/quickstart` in `<work>/terraform`, run with a CLI config whose
/// `dev_overrides` point at the provider binary (no `terraform init`).
pub struct Terraform {
    pub dir: PathBuf,
    pub cli_config: PathBuf,
    pub source_image: String,
    env: Vec<(&'static str, String)>,
}

impl Terraform {
    pub fn prepare(
        work: &Path,
        example: &Path,
        provider: &Path,
        endpoint: &str,
        token: &str,
        source_image: &str,
    ) -> anyhow::Result<Terraform> {
        let dir = work.join("terraform");
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(example)
            .with_context(|| format!("cannot read {}", example.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tf") {
                let name = path.file_name().context("file name")?;
                std::fs::copy(&path, dir.join(name))
                    .with_context(|| format!("cannot copy {}", path.display()))?;
            }
        }
        let provider = provider
            .canonicalize()
            .with_context(|| format!("cannot find {}", provider.display()))?;
        // dev_overrides finds the provider by its file name: link a renamed binary under it.
        let provider = if provider.file_name().is_some_and(|n| n == PROVIDER_BIN) {
            provider
        } else {
            let linked = work.join("provider").join(PROVIDER_BIN);
            std::fs::create_dir_all(work.join("provider"))?;
            std::os::unix::fs::symlink(&provider, &linked)
                .with_context(|| format!("cannot link {}", linked.display()))?;
            linked
        };
        let provider_dir = provider.parent().context("provider directory")?;
        let cli_config = work.join("terraform.tfrc");
        std::fs::write(&cli_config, cli_config_text(provider_dir))
            .with_context(|| format!("cannot write {}", cli_config.display()))?;
        // Terraform's and the provider's temporary files (the plugin socket) stay inside the
        // working directory too, so removing it cleans up after an interrupted run.
        let tmp = work.join("tmp");
        std::fs::create_dir_all(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        let env = vec![
            ("TMPDIR", tmp.display().to_string()),
            ("TF_CLI_CONFIG_FILE", cli_config.display().to_string()),
            ("TF_IN_AUTOMATION", "1".to_string()),
            ("TF_INPUT", "0".to_string()),
            ("CHECKPOINT_DISABLE", "1".to_string()),
            ("IMAGENEST_ENDPOINT", endpoint.to_string()),
            ("IMAGENEST_TOKEN", token.to_string()),
            ("TF_VAR_source_image_id", source_image.to_string()),
        ];
        Ok(Terraform {
            dir,
            cli_config,
            source_image: source_image.to_string(),
            env,
        })
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("terraform");
        cmd.args(args)
            .arg("-no-color")
            .current_dir(&self.dir)
            .env_remove("TF_LOG")
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts `terraform ARGS` with its output going to `<work>/terraform-<name>.log`.
    pub fn spawn(&self, args: &[&str], name: &str) -> anyhow::Result<tokio::process::Child> {
        let log = std::fs::File::create(self.log_path(name))?;
        let mut cmd = self.command(args);
        cmd.arg("-input=false")
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        cmd.spawn()
            .with_context(|| format!("cannot start terraform {}", args.join(" ")))
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.dir.with_file_name(format!("terraform-{name}.log"))
    }

    /// The output of the run started as `name`.
    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.log_path(name)).unwrap_or_default()
    }

    /// `terraform output -json`.
    pub async fn output_json(&self) -> anyhow::Result<serde_json::Value> {
        let mut cmd = self.command(&["output", "-json"]);
        let out = cmd.output().await.context("cannot run terraform output")?;
        anyhow::ensure!(
            out.status.success(),
            "terraform output failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).context("terraform output -json is not JSON")
    }
}

/// A Terraform CLI configuration that takes `imagenest/imagenest` from `provider_dir`.
pub fn cli_config_text(provider_dir: &Path) -> String {
    let dir = provider_dir
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    format!(
        "provider_installation {{\n  dev_overrides {{\n    \"{PROVIDER_SOURCE}\" = \"{dir}\"\n  }}\n  direct {{}}\n}}\n"
    )
}

/// Styling of the quickstart's output: bold step titles and coloured diffs on a terminal
/// (not when `NO_COLOR` is set or stdout is piped).
pub struct Ui {
    color: bool,
}

impl Ui {
    pub fn detect() -> Ui {
        Ui {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
    pub fn dim(&self, t: &str) -> String {
        self.paint("2", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }

    pub fn title(&self, t: &str) {
        println!("{}", self.bold(t));
    }

    /// Prints a numbered step and returns when it started.
    pub fn step(&self, n: u32, what: &str) -> Instant {
        println!("\n{} {}", self.bold(&format!("[{n}/6]")), self.bold(what));
        Instant::now()
    }

    /// Prints the outcome of the step started at `t`.
    pub fn done(&self, t: Instant, what: &str) {
        println!(
            "  {} {what} {}",
            self.green("✓"),
            self.dim(&format!("({:.1} s)", t.elapsed().as_secs_f64()))
        );
    }

    /// A unified-diff line, red or green by its sign.
    pub fn diff_line(&self, line: &str) -> String {
        if line.starts_with("+++") || line.starts_with("---") {
            self.bold(line)
        } else if line.starts_with('+') {
            self.green(line)
        } else if line.starts_with('-') {
            self.red(line)
        } else if line.starts_with("@@") {
            self.paint("36", line)
        } else {
            line.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_config_escapes_the_provider_path() {
        let text = cli_config_text(Path::new("/tmp/a \"b\"/target"));
        assert!(
            text.contains(r#""imagenest/imagenest" = "/tmp/a \"b\"/target""#),
            "{text}"
        );
    }

    #[test]
    fn last_line_with_finds_terraform_summaries() {
        let log = "x\nApply complete! Resources: 4 added, 0 changed, 0 destroyed.\n\nOutputs:\n";
        assert_eq!(
            last_line_with(log, "Apply complete!"),
            "Apply complete! Resources: 4 added, 0 changed, 0 destroyed."
        );
        assert_eq!(last_line_with("", "Destroy complete!"), "Destroy complete!");
    }
}
