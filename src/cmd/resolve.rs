//! `imagenest resolve`: see DESIGN §4 (being built in the preprocessor issue).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Template files or directories (`-` for stdin).
    paths: Vec<std::path::PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args.paths;
    anyhow::bail!("imagenest resolve is not built yet")
}
