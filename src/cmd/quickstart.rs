//! `imagenest quickstart`: the whole story on one machine — a registry with its embedded sim
//! cloud in a temporary directory, the real `terraform apply` of `examples/quickstart/` with a
//! progress bar per region, the region → image table, `imagenest resolve` diffs of the example
//! templates for three regions, then `terraform destroy` and cleanup (`--keep` leaves it running).
//!
//! It builds nothing but the Terraform provider: when it runs from the repository it brings
//! `terraform-provider-imagenest` up to date with cargo, next to this binary (same target dir and
//! profile), so `cargo run --release -- quickstart` works on a fresh clone.

#[path = "quickstart_env.rs"]
mod env;

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use imagenest_client::Client;
use imagenest_core::{Role, api::NewToken};
use imagenest_simcloud::CreateImage;

use env::{Registry, Terraform, Ui};

/// Names the quickstart creates (they match `examples/quickstart/main.tf`).
const VENDOR: &str = "acme";
const CUSTOMER: &str = "globex";
const PACKAGE: &str = "acme_base";
const VERSION: &str = "v1_0";
const SERVICE: &str = "acme_app";
const SOURCE_REGION: &str = "cn-hangzhou";
const IMAGE_SIZE_GIB: u64 = 20;
/// Regions whose resolved templates are shown.
const RESOLVE_REGIONS: [&str; 3] = ["cn-shanghai", "ap-southeast-1", "eu-central-1"];
/// Templates resolved for them, relative to the repository root.
const TEMPLATES: [&str; 2] = [
    "examples/templates/app.ros.yaml",
    "examples/templates/app.tf",
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Leave the registry, its data and the Terraform state in place and print how to reach them.
    #[arg(long)]
    keep: bool,
    /// Copy speed of the embedded sim cloud in GiB/s (the source image is 20 GiB; it is copied
    /// into the delivery account first, then into every region).
    #[arg(long, default_value_t = 5.0, value_name = "GIB_PER_S")]
    sim_speed: f64,
    /// Repository root holding examples/quickstart and examples/templates
    /// [default: the current directory if it has them, else the source tree of this binary].
    #[arg(long, value_name = "DIR")]
    repo: Option<PathBuf>,
    /// The provider binary to use [default: terraform-provider-imagenest next to this binary,
    /// built with cargo first when the repository is at hand].
    #[arg(
        long,
        value_name = "FILE",
        env = "IMAGENEST_PROVIDER_BIN",
        hide_env_values = true
    )]
    provider: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ui = Ui::detect();
    let started = Instant::now();
    if let Err(missing) = env::check_prerequisites() {
        eprintln!("{}", ui.red(&format!("error: {missing}")));
        return Ok(ExitCode::from(super::EXIT_USAGE));
    }
    let root = env::repo_root(args.repo.as_deref())?;
    let provider = env::provider_binary(&ui, args.provider.as_deref(), &root)?;
    anyhow::ensure!(args.sim_speed > 0.0, "--sim-speed must be above 0 GiB/s");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let work = env::work_dir()?;
    // Ctrl-C drops the story: its terraform runs and the registry are killed with it (kill on
    // drop), and nothing outside the working directory exists, so removing it is a full cleanup.
    let outcome = rt.block_on(async {
        tokio::select! {
            outcome = story(&ui, &args, &work, root, provider, started) => Some(outcome),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(outcome) = outcome else {
        // The provider may still be removing its socket in there: one retry covers that race.
        let removed = std::fs::remove_dir_all(&work).or_else(|_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            std::fs::remove_dir_all(&work)
        });
        match removed {
            Ok(()) => eprintln!(
                "\n{}",
                ui.dim(&format!("interrupted: removed {}", work.display()))
            ),
            Err(err) => eprintln!("\ninterrupted: cannot remove {}: {err}", work.display()),
        }
        return Ok(ExitCode::from(super::EXIT_INTERRUPTED));
    };
    if let Err(err) = outcome {
        eprintln!(
            "{}",
            ui.dim(&format!(
                "(logs and state are left in {} for a look; remove it when done)",
                work.display()
            ))
        );
        return Err(err);
    }
    Ok(ExitCode::SUCCESS)
}

async fn story(
    ui: &Ui,
    args: &Args,
    work: &std::path::Path,
    root: PathBuf,
    provider: PathBuf,
    started: Instant,
) -> anyhow::Result<()> {
    ui.title("imagenest quickstart");
    println!(
        "  A vendor ({VENDOR}) publishes a 20 GiB image to five regions with Terraform, and a\n  \
         template that names the image `centos_7` is resolved for three of them.\n  \
         Working in {}",
        work.display()
    );

    // 1. Registry.
    let t = ui.step(
        1,
        "start the registry (imagenest serve) with its embedded sim cloud",
    );
    let mut registry = Registry::start(work, args.sim_speed, args.keep).await?;
    ui.done(t, &format!("listening on {}", registry.endpoint));

    // 2. Seed: accounts, tokens and the vendor's source image.
    let t = ui.step(
        2,
        "seed a vendor account, a customer account and a source image",
    );
    let admin = Client::new(&registry.endpoint, Some(&registry.admin_token))?;
    let vendor_token = create_token(&admin, VENDOR, Role::Vendor).await?;
    let customer_token = create_token(&admin, CUSTOMER, Role::Customer).await?;
    let image = imagenest_simcloud::control::create_image(
        &registry.data_dir,
        &CreateImage {
            account: VENDOR.into(),
            region: SOURCE_REGION.into(),
            name: "acme-centos7-base".into(),
            size_gib: IMAGE_SIZE_GIB,
            share_with: vec![imagenest_simcloud::DELIVERY_ACCOUNT.into()],
        },
    )
    .await
    .context("cannot create the source image in the sim cloud")?;
    ui.done(
        t,
        &format!(
            "vendor `{VENDOR}`, customer `{CUSTOMER}`, source image {} in {SOURCE_REGION}",
            image.image_id
        ),
    );

    // 3. terraform apply, with a bar per region while the copies run.
    let tf = Terraform::prepare(
        work,
        &root.join("examples/quickstart"),
        &provider,
        &registry.endpoint,
        &vendor_token,
        &image.image_id,
    )?;
    let t = ui.step(
        3,
        "terraform apply examples/quickstart: package → version → distribution → service",
    );
    let vendor = Client::new(&registry.endpoint, Some(&vendor_token))?;
    let apply = tf.spawn(&["apply", "-auto-approve"], "apply")?;
    let applied = watch_apply(apply, &vendor).await;
    let log = tf.log("apply");
    match applied {
        Ok(true) => {}
        Ok(false) => bail!(
            "terraform apply failed:\n{}\n(the registry's log is {})",
            log,
            registry.log_path().display()
        ),
        Err(err) => return Err(err.context(format!("terraform apply: {log}"))),
    }
    ui.done(t, &env::last_line_with(&log, "Apply complete!"));

    // 4. The region → image table from Terraform's outputs.
    ui.step(4, "region → image table (terraform output region_images)");
    let outputs = tf.output_json().await?;
    let images = outputs["region_images"]["value"]
        .as_object()
        .context("terraform output has no region_images map")?;
    println!("    {:<16} {}", ui.bold("REGION"), ui.bold("IMAGE"));
    for (region, id) in images {
        println!("    {:<16} {}", region, id.as_str().unwrap_or("?"));
    }
    println!(
        "    service `{SERVICE}` (public) associates the literal `centos_7` with {PACKAGE}/latest"
    );

    // 5. Resolve the example templates for three regions, as customer globex.
    let t = ui.step(
        5,
        &format!("imagenest resolve the example templates, as customer `{CUSTOMER}`"),
    );
    for region in RESOLVE_REGIONS {
        let diff = resolve_diff(&root, &registry.endpoint, &customer_token, region).await?;
        println!(
            "\n  {} {}",
            ui.bold(&format!("── {region}")),
            ui.dim(&format!(
                "imagenest resolve --region {region} --registry {} --service {SERVICE} --diff {}",
                registry.endpoint,
                TEMPLATES.join(" ")
            ))
        );
        for line in diff.lines() {
            println!("    {}", ui.diff_line(line));
        }
    }
    ui.done(
        t,
        "each region gets its own image; every other byte is untouched",
    );

    if args.keep {
        registry.detach();
        print_keep(ui, &registry, &tf, &vendor_token, work);
        println!(
            "\n{}",
            ui.green(&format!("Done in {:.1?}.", started.elapsed()))
        );
        return Ok(());
    }

    // 6. Clean up.
    let t = ui.step(
        6,
        "terraform destroy, stop the registry, remove the working directory",
    );
    let destroy = tf.spawn(&["destroy", "-auto-approve"], "destroy")?;
    let status = destroy
        .wait_with_output()
        .await
        .context("cannot wait for terraform destroy")?
        .status;
    let log = tf.log("destroy");
    if !status.success() {
        bail!(
            "terraform destroy failed (everything is left in {}):\n{log}",
            work.display()
        );
    }
    registry.stop().await;
    std::fs::remove_dir_all(work).with_context(|| format!("cannot remove {}", work.display()))?;
    ui.done(t, &env::last_line_with(&log, "Destroy complete!"));
    println!(
        "\n{} Next: `imagenest quickstart --keep` to explore, docs/ for guides.",
        ui.green(&format!("Done in {:.1?}.", started.elapsed()))
    );
    Ok(())
}

async fn create_token(admin: &Client, account: &str, role: Role) -> anyhow::Result<String> {
    let created = admin
        .create_token(&NewToken {
            account: account.into(),
            role,
            kind: Default::default(),
            cloud_account_id: None,
            description: "imagenest quickstart".into(),
        })
        .await
        .with_context(|| format!("cannot create a token for account {account}"))?;
    Ok(created.token)
}

/// Waits for `terraform apply`, drawing the distribution's bars as soon as it exists.
/// `Ok(false)` when terraform failed.
async fn watch_apply(mut apply: tokio::process::Child, vendor: &Client) -> anyhow::Result<bool> {
    let watch = async {
        loop {
            if let Some(id) = distribution_id(vendor).await {
                return super::distribution::watch_until_settled(vendor, &id, true).await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        status = apply.wait() => Ok(status.context("cannot wait for terraform apply")?.success()),
        watched = watch => {
            watched.context("cannot follow the distribution")?;
            let status = apply.wait().await.context("cannot wait for terraform apply")?;
            Ok(status.success())
        }
    }
}

/// The quickstart version's ID once its distribution exists.
async fn distribution_id(vendor: &Client) -> Option<String> {
    let versions = vendor.all_versions(PACKAGE).await.ok()?;
    let version = versions.into_iter().find(|v| v.name == VERSION)?;
    vendor.distribution(&version.id).await.ok()?;
    Some(version.id)
}

/// `imagenest resolve --diff` of the example templates for `region`, run as this binary.
async fn resolve_diff(
    root: &std::path::Path,
    endpoint: &str,
    token: &str,
    region: &str,
) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the running imagenest binary")?;
    let out = tokio::process::Command::new(exe)
        .args(["resolve", "--region", region, "--registry", endpoint])
        .args(["--service", SERVICE, "--diff"])
        .args(TEMPLATES)
        .env("IMAGENEST_TOKEN", token)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .await
        .context("cannot run imagenest resolve")?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    // 0: everything resolved; 1: findings (the ROS template's `Ref` image is reported, as meant).
    if !matches!(out.status.code(), Some(0 | 1)) || stdout.trim().is_empty() {
        bail!(
            "imagenest resolve --region {region} failed:\n{}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(stdout)
}

fn print_keep(
    ui: &Ui,
    registry: &Registry,
    tf: &Terraform,
    vendor_token: &str,
    work: &std::path::Path,
) {
    println!("\n{}", ui.bold("Everything is still running (--keep):"));
    println!(
        "  registry     {}   (log: {})",
        registry.endpoint,
        registry.log_path().display()
    );
    println!("  data dir     {}", registry.data_dir.display());
    println!("  admin token  {}/admin-token", registry.data_dir.display());
    let env = format!(
        "IMAGENEST_ENDPOINT={} IMAGENEST_TOKEN={vendor_token} TF_CLI_CONFIG_FILE={} TF_VAR_source_image_id={}",
        registry.endpoint,
        tf.cli_config.display(),
        tf.source_image
    );
    println!("\n  Talk to it as the vendor `{VENDOR}` (export once per shell):");
    println!("    export {env}");
    println!("    imagenest package list");
    println!("    imagenest service show {SERVICE}");
    println!("\n  Change the Terraform configuration and apply again:");
    println!("    cd {} && terraform plan", tf.dir.display());
    println!("\n  Stop and clean up:");
    println!(
        "    (cd {} && env {env} terraform destroy -auto-approve); kill {}; rm -rf {}",
        tf.dir.display(),
        registry.pid(),
        work.display()
    );
}
