//! The `imagenest` command: one binary for the registry, the sim cloud, the preprocessor and
//! read-only views of a registry. `main` only parses arguments and hands over to `cmd`.

mod cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cmd::Cli::parse();
    cmd::run(cli)
}
