//! `imagenest sim-cloud`: run and seed the local ECS stand-in (being built in the distribution issue).

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve the sim cloud's ECS API.
    Serve,
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Serve => anyhow::bail!("imagenest sim-cloud is not built yet"),
    }
}
