//! `imagenest completions bash|zsh|fish`: print a shell completion script for `imagenest`.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

#[derive(Debug, clap::Args)]
#[command(after_help = "Install, for example:\n  \
    bash: imagenest completions bash > ~/.local/share/bash-completion/completions/imagenest\n  \
    zsh:  imagenest completions zsh > \"${fpath[1]}/_imagenest\"\n  \
    fish: imagenest completions fish > ~/.config/fish/completions/imagenest.fish")]
pub struct Args {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: CompletionShell,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut cmd = super::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "imagenest", &mut script);
    match std::io::stdout().write_all(&script) {
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write the completion script"))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
