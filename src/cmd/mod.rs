//! Subcommands of `imagenest`: each lives in its own file with its `Args` and `run`.

mod check;
mod resolve;
mod sim_cloud;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for usage, I/O and parse errors (findings use 1, success 0).
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "imagenest", version, about = "Distribute VM images to every region and resolve template image IDs per region")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rewrite literal image IDs in ROS and Terraform templates to the image of one region.
    Resolve(resolve::Args),
    /// Report every image site of templates and whether it can be resolved.
    Check(check::Args),
    /// Run or seed the local stand-in for Alibaba Cloud ECS.
    #[command(subcommand)]
    SimCloud(sim_cloud::Command),
}

/// Runs the parsed command and turns its outcome into the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command {
        Command::Resolve(args) => resolve::run(args),
        Command::Check(args) => check::run(args),
        Command::SimCloud(cmd) => sim_cloud::run(cmd),
    };
    match outcome {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
