//! provider-docs: regenerates the provider docs (`docs/index.md`, `docs/resources/*.md`,
//! `docs/data-sources/*.md`) from `terraform providers schema -json` and `examples/`.
//!
//! ```text
//! cargo run -p terraform-provider-imagenest --bin provider-docs              # rewrite docs/
//! cargo run -p terraform-provider-imagenest --bin provider-docs -- --check   # only compare
//! ```
//!
//! Terraform reaches the provider through `dev_overrides` (no `init`, no network), and the
//! provider it starts is this very binary: started by Terraform (magic cookie set) it serves
//! the same `ImagenestProvider` as `terraform-provider-imagenest`, so `cargo run` never
//! documents a stale provider build. The docs test checks the real provider binary.

use imagenest_provider::docs::{self, Difference};
use imagenest_provider::plugin;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "usage: provider-docs [--check] [--out DOCS_DIR]

Renders the provider docs from `terraform providers schema -json` (run against this binary
through dev_overrides; needs `terraform` on PATH, no network) and the files under examples/.

  --check         compare only: list stale, missing and extra pages and exit 1 if any
  --out DOCS_DIR  the docs directory (default: the repository's docs/)";

fn main() -> ExitCode {
    if std::env::var_os(plugin::MAGIC_COOKIE_KEY).is_some() {
        return serve_as_provider();
    }
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("provider-docs: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("provider-docs: {e}");
            ExitCode::from(1)
        }
    }
}

struct Args {
    check: bool,
    out: PathBuf,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
        let mut parsed = Args {
            check: false,
            out: repo().join("docs"),
        };
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--check" => parsed.check = true,
                "--out" => parsed.out = args.next().ok_or("--out needs a directory")?.into(),
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(parsed)
    }
}

/// The repository this binary was built from (docs and examples are read from there).
fn repo() -> &'static Path {
    let provider_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    provider_crate.parent().unwrap_or(provider_crate)
}

fn run(args: &Args) -> Result<ExitCode, docs::DocsError> {
    let examples = repo().join("examples");
    if !examples.is_dir() {
        return Err(docs::DocsError::Io {
            path: examples,
            source: std::io::ErrorKind::NotFound.into(),
        });
    }
    let me = std::env::current_exe().map_err(|source| docs::DocsError::Io {
        path: "the running provider-docs binary".into(),
        source,
    })?;
    let json = docs::schema_json(&me)?;
    let pages = docs::pages(&json, &examples)?;
    let out = args.out.display();
    if args.check {
        let differences = docs::compare(&pages, &args.out)?;
        if differences.is_empty() {
            println!("{out}: {} pages, all current", pages.len());
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("{out} differs from the provider's schema:");
        for d in &differences {
            eprintln!("  {d}");
        }
        eprintln!("regenerate with: {}", docs::REGENERATE);
        return Ok(ExitCode::from(1));
    }
    let changes = docs::write(&pages, &args.out)?;
    for change in &changes {
        let verb = match change {
            Difference::Missing(p) => format!("created {p}"),
            Difference::Stale(p) => format!("updated {p}"),
            Difference::Extra(p) => format!("removed {p}"),
        };
        println!("{verb}");
    }
    println!("{out}: {} pages, {} changed", pages.len(), changes.len());
    Ok(ExitCode::SUCCESS)
}

/// Terraform started this binary as the provider (see the module docs).
fn serve_as_provider() -> ExitCode {
    if let Err(e) = plugin::check_environment() {
        eprintln!("{e}");
        return ExitCode::from(1);
    }
    plugin::serve_blocking("provider-docs")
}
