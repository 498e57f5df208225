//! `imagenest distribution show|retry`: a version's distribution, with live per-region progress
//! bars (`--watch`) until it settles.

use std::{collections::BTreeMap, process::ExitCode, time::Duration};

use imagenest_client::Client;
use imagenest_core::distribution::{Distribution, DistributionStatus, RegionCopy, RegionStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::connect::{Output, RegistryArgs, print_json, runtime};
use super::table::Table;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show a version's distribution; `--watch` draws a progress bar per region until it settles.
    Show {
        /// Version ID.
        version: String,
        /// Follow the copies until every region is available or failed.
        #[arg(long)]
        watch: bool,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Copy the failed regions of a version again.
    Retry {
        /// Version ID.
        version: String,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        match cmd {
            Command::Show {
                version,
                watch,
                registry,
                output,
            } => {
                let client = registry.client()?;
                let d = if watch {
                    watch_until_settled(&client, &version, output == Output::Text).await?
                } else {
                    client.distribution(&version).await?
                };
                print(&d, output)?;
                Ok(exit_code(&d))
            }
            Command::Retry {
                version,
                registry,
                output,
            } => {
                let d = registry.client()?.retry_distribution(&version).await?;
                print(&d, output)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// 0 when every region is available (or still copying without `--watch`), 1 when any failed.
fn exit_code(d: &Distribution) -> ExitCode {
    match d.status {
        DistributionStatus::Available | DistributionStatus::Distributing => ExitCode::SUCCESS,
        DistributionStatus::PartiallyAvailable | DistributionStatus::Failed => ExitCode::from(1),
    }
}

fn print(d: &Distribution, output: Output) -> anyhow::Result<()> {
    match output {
        Output::Json => print_json(d),
        Output::Text => {
            println!(
                "distribution of {}: {}",
                d.version_id,
                status_word(d.status)
            );
            let mut t = Table::new(&["REGION", "STATUS", "%", "IMAGE", "ERROR"]);
            for r in &d.regions {
                t.row([
                    r.region.clone(),
                    r.status.as_str().to_string(),
                    r.progress.to_string(),
                    r.image_id.clone().unwrap_or_else(|| "-".into()),
                    r.error.clone().unwrap_or_default(),
                ]);
            }
            print!("{}", t.render());
            Ok(())
        }
    }
}

fn status_word(s: DistributionStatus) -> &'static str {
    match s {
        DistributionStatus::Distributing => "distributing",
        DistributionStatus::Available => "available",
        DistributionStatus::PartiallyAvailable => "partially available",
        DistributionStatus::Failed => "failed",
    }
}

/// Polls the distribution, drawing one bar per region (on a terminal), until it settles.
pub async fn watch_until_settled(
    client: &Client,
    version: &str,
    draw: bool,
) -> anyhow::Result<Distribution> {
    let bars = MultiProgress::with_draw_target(if draw {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:>16} [{bar:30.cyan/blue}] {pos:>3}% {msg}")
        .expect("static template is valid")
        .progress_chars("=> ");
    let mut by_region: BTreeMap<String, ProgressBar> = BTreeMap::new();
    loop {
        let d = client.distribution(version).await?;
        for r in &d.regions {
            let bar = by_region.entry(r.region.clone()).or_insert_with(|| {
                let b = bars.add(ProgressBar::new(100));
                b.set_style(style.clone());
                b.set_prefix(r.region.clone());
                b
            });
            update_bar(bar, r);
        }
        if d.status != DistributionStatus::Distributing {
            for bar in by_region.values() {
                bar.abandon();
            }
            return Ok(d);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn update_bar(bar: &ProgressBar, r: &RegionCopy) {
    bar.set_position(u64::from(r.progress));
    let msg = match r.status {
        RegionStatus::Available => format!("available {}", r.image_id.as_deref().unwrap_or("")),
        RegionStatus::Failed => {
            format!("failed: {}", r.error.as_deref().unwrap_or("unknown error"))
        }
        other => other.as_str().to_string(),
    };
    bar.set_message(msg);
}
