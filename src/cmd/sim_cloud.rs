//! `imagenest sim-cloud`: run the local ECS stand-in, and seed or list its images.
//!
//! `image create` and `image list` work whether or not a sim runs on the data directory: with
//! one running they go through its admin API (endpoint from `<data-dir>/sim-cloud.json`),
//! otherwise they open its state directly (see `imagenest_simcloud::control`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use imagenest_simcloud::{
    CopySpeed, CreateImage, Faults, ImageFilter, ImageView, SimCloud, SimConfig,
};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the sim cloud's ECS API (and its admin API under /_sim/) until interrupted.
    Serve(ServeArgs),
    /// Seed or inspect the sim cloud's images.
    #[command(subcommand)]
    Image(ImageCommand),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Data directory: state in DIR/sim-cloud/, endpoint and keys in DIR/sim-cloud.json.
    #[arg(long, default_value = ".imagenest")]
    data_dir: PathBuf,
    /// Address to listen on (loopback; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8790")]
    listen: SocketAddr,
    /// Copy speed in GiB per second (a 20 GiB image at 1.0 takes 20 s).
    #[arg(long, default_value_t = 1.0, conflicts_with = "instant")]
    speed_gib_per_s: f64,
    /// Copies finish as soon as their region has a free slot.
    #[arg(long)]
    instant: bool,
    /// Share of copies (0-1) that end CreateFailed. Fault settings are kept in the state:
    /// a fault flag replaces the saved value, faults without a flag keep theirs (none at first).
    #[arg(long)]
    failure_rate: Option<f64>,
    /// Share of API calls (0-1) answered Throttling.
    #[arg(long)]
    throttle_rate: Option<f64>,
    /// A region whose API calls answer ServiceUnavailable (repeatable; replaces the saved list).
    #[arg(long = "down-region")]
    down_regions: Vec<String>,
    /// Milliseconds added to every API call.
    #[arg(long)]
    latency_ms: Option<u64>,
    /// Seed of the random draws, for reproducible fault runs.
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImageCommand {
    /// Create an Available image owned by an account and print its ID.
    Create(CreateArgs),
    /// List images (vendor images and copies; marketplace images with --marketplace).
    List(ListArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Data directory of the sim cloud (a running one is used through its admin API).
    #[arg(long, default_value = ".imagenest")]
    data_dir: PathBuf,
    /// Owner account name (created on demand).
    #[arg(long)]
    account: String,
    /// Region ID of the image, e.g. cn-hangzhou.
    #[arg(long)]
    region: String,
    /// Image name, 2-128 characters.
    #[arg(long)]
    name: String,
    /// Image size in GiB (copy time is proportional to it).
    #[arg(long, default_value_t = 20)]
    size_gib: u64,
    /// Do not share the image with the delivery account.
    #[arg(long)]
    no_share: bool,
    /// Also share with this account (repeatable).
    #[arg(long = "share-with")]
    share_with: Vec<String>,
    /// Print as text or as JSON (for scripts).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Data directory of the sim cloud (a running one is used through its admin API).
    #[arg(long, default_value = ".imagenest")]
    data_dir: PathBuf,
    /// Only images owned by this account name.
    #[arg(long)]
    account: Option<String>,
    /// Only images in this region.
    #[arg(long)]
    region: Option<String>,
    /// Include marketplace images.
    #[arg(long)]
    marketplace: bool,
    /// Print as text or as JSON (for scripts).
    #[arg(long, value_enum, default_value_t = Output::Text)]
    output: Output,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        match cmd {
            Command::Serve(args) => serve(args).await,
            Command::Image(ImageCommand::Create(args)) => create(args).await,
            Command::Image(ImageCommand::List(args)) => list(args).await,
        }
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let speed = if args.instant {
        CopySpeed::Instant
    } else {
        CopySpeed::GibPerSec(args.speed_gib_per_s)
    };
    anyhow::ensure!(
        args.instant || args.speed_gib_per_s > 0.0,
        "--speed-gib-per-s must be above 0 (or use --instant)"
    );
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let config = SimConfig {
        data_dir: args.data_dir.clone(),
        speed,
        faults: None,
        seed: args.seed,
    };
    let sim = SimCloud::start(config.clone(), listener)
        .await
        .with_context(|| format!("cannot start the sim cloud in {}", args.data_dir.display()))?;
    // The saved faults, with the given flags over them.
    let mut faults: Faults = sim.faults();
    faults.failure_rate = args.failure_rate.unwrap_or(faults.failure_rate);
    faults.throttle_rate = args.throttle_rate.unwrap_or(faults.throttle_rate);
    if !args.down_regions.is_empty() {
        faults.down_regions = args.down_regions.into_iter().collect();
    }
    faults.latency_ms = args.latency_ms.unwrap_or(faults.latency_ms);
    sim.set_faults(faults).context("invalid fault flags")?;
    println!("sim cloud listening on {}", sim.endpoint());
    println!(
        "endpoint and account keys in {}",
        config.info_path().display()
    );
    shutdown_signal().await;
    sim.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<ExitCode> {
    let mut share_with = args.share_with;
    if !args.no_share {
        share_with.insert(0, imagenest_simcloud::DELIVERY_ACCOUNT.to_string());
    }
    let req = CreateImage {
        account: args.account,
        region: args.region,
        name: args.name,
        size_gib: args.size_gib,
        share_with,
    };
    let view = imagenest_simcloud::control::create_image(&args.data_dir, &req)
        .await
        .with_context(|| {
            format!(
                "cannot create the image in the sim cloud of {}",
                args.data_dir.display()
            )
        })?;
    match args.output {
        Output::Text => println!("{}", view.image_id),
        Output::Json => println!("{}", serde_json::to_string_pretty(&view)?),
    }
    Ok(ExitCode::SUCCESS)
}

async fn list(args: ListArgs) -> anyhow::Result<ExitCode> {
    let filter = ImageFilter {
        owner: args.account,
        region: args.region,
        marketplace: args.marketplace,
    };
    let images = imagenest_simcloud::control::list_images(&args.data_dir, &filter)
        .await
        .with_context(|| {
            format!(
                "cannot list the images of the sim cloud of {}",
                args.data_dir.display()
            )
        })?;
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&images)?),
        Output::Text => print_table(&images),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(images: &[ImageView]) {
    println!(
        "{:<24} {:<16} {:<12} {:<12} {:>5} {:>4}  NAME",
        "IMAGE", "REGION", "OWNER", "STATUS", "GIB", "PCT"
    );
    for i in images {
        println!(
            "{:<24} {:<16} {:<12} {:<12} {:>5} {:>3}%  {}",
            i.image_id, i.region, i.owner, i.status, i.size_gib, i.progress, i.name
        );
    }
}
