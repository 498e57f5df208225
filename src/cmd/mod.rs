//! Subcommands of `imagenest`: each lives in its own file with its `Args` and `run`.

mod check;
mod completions;
mod connect;
mod distribution;
mod quickstart;
mod resolve;
mod serve;
mod sim_cloud;
mod table;
mod token;
mod views;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for usage, I/O and parse errors (findings use 1, success 0).
pub const EXIT_USAGE: u8 = 2;

/// Exit code when the registry cannot be reached (connection refused, TLS, timeout).
pub const EXIT_UNREACHABLE: u8 = 3;

/// Exit code when the registry refuses the caller (HTTP 401 or 403: token missing, wrong or revoked).
pub const EXIT_DENIED: u8 = 4;

/// Exit code when the registry has no such object, or none the caller may see (HTTP 404).
pub const EXIT_NOT_FOUND: u8 = 5;

/// Exit code for any other error the registry answers (conflict, precondition, invalid, internal).
pub const EXIT_REJECTED: u8 = 6;

/// Exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, Parser)]
#[command(
    name = "imagenest",
    version,
    about = "Distribute VM images to every region and resolve template image IDs per region",
    after_help = "New here? `imagenest quickstart` runs the whole story on this machine."
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the registry: the JSON API, the store and the distribution engine.
    Serve(serve::Args),
    /// Create, list and revoke bearer tokens.
    #[command(subcommand)]
    Token(token::Command),
    /// Read packages of a registry.
    #[command(subcommand)]
    Package(views::PackageCommand),
    /// Read versions of a registry's packages.
    #[command(subcommand)]
    Version(views::VersionCommand),
    /// Read services of a registry.
    #[command(subcommand)]
    Service(views::ServiceCommand),
    /// Follow and retry distributions of versions to regions.
    #[command(subcommand)]
    Distribution(distribution::Command),
    /// Rewrite literal image IDs in ROS and Terraform templates to the image of one region.
    Resolve(resolve::Args),
    /// Report every image site of templates and whether it can be resolved.
    Check(check::Args),
    /// Run or seed the local stand-in for Alibaba Cloud ECS.
    #[command(subcommand)]
    SimCloud(sim_cloud::Command),
    /// Run the whole story on this machine: registry, sim cloud, terraform apply, resolve, destroy.
    Quickstart(quickstart::Args),
    /// Print a shell completion script (bash, zsh or fish).
    Completions(completions::Args),
}

/// Runs the parsed command and turns its outcome into the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Token(cmd) => token::run(cmd),
        Command::Package(cmd) => views::package(cmd),
        Command::Version(cmd) => views::version(cmd),
        Command::Service(cmd) => views::service(cmd),
        Command::Distribution(cmd) => distribution::run(cmd),
        Command::Resolve(args) => resolve::run(args),
        Command::Check(args) => check::run(args),
        Command::SimCloud(cmd) => sim_cloud::run(cmd),
        Command::Quickstart(args) => quickstart::run(args),
        Command::Completions(args) => completions::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code_of(&err))
        }
    }
}

/// The exit code of a failed command: a registry error keeps its class (README, "Exit codes"),
/// everything else is a usage, input or I/O error.
fn exit_code_of(err: &anyhow::Error) -> u8 {
    use imagenest_client::ClientError;
    let client = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<ClientError>());
    match client {
        Some(ClientError::Transport { .. }) => EXIT_UNREACHABLE,
        Some(ClientError::Api {
            status: 401 | 403, ..
        }) => EXIT_DENIED,
        Some(ClientError::Api { status: 404, .. }) => EXIT_NOT_FOUND,
        Some(ClientError::Api { .. }) | Some(ClientError::Decode { .. }) => EXIT_REJECTED,
        Some(ClientError::InvalidEndpoint(_)) | None => EXIT_USAGE,
    }
}

/// Logs to stderr; `RUST_LOG` chooses what (default `info`). Only long-running commands call it.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
