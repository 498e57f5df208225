//! Provider documentation in the Terraform registry layout (`docs/index.md`,
//! `docs/resources/<name>.md`, `docs/data-sources/<name>.md`), rendered from the JSON of
//! `terraform providers schema -json` and the files under `examples/`.
//!
//! The `provider-docs` binary writes it (see [`REGENERATE`]); `tests/docs.rs` fails when the
//! committed pages differ from what it would write. Decision: docs/decisions/0008-provider-docs.md.

mod render;
mod schema;
mod terraform;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use schema::{Attribute, Block, BlockType, NestedType, ProviderSchemas, Schema, SchemaJson};
pub use terraform::schema_json;

/// The provider's address as `terraform providers schema -json` names it.
pub const PROVIDER_SOURCE: &str = "registry.terraform.io/imagenest/imagenest";

/// The command that rewrites the committed docs (quoted in every page and every failure).
pub const REGENERATE: &str = "cargo run -p terraform-provider-imagenest --bin provider-docs";

/// The directories under `docs/` whose pages are all generated.
const PAGE_DIRS: [&str; 2] = ["resources", "data-sources"];

#[derive(Debug, thiserror::Error)]
pub enum DocsError {
    #[error(
        "`terraform` is not on PATH: the provider docs are rendered from `terraform providers \
         schema -json`; install Terraform 1.5 or newer (https://developer.hashicorp.com/terraform/install)"
    )]
    TerraformMissing,
    #[error("cannot run terraform: {0}")]
    TerraformSpawn(std::io::Error),
    #[error("`terraform providers schema -json` failed ({status}):\n{output}")]
    Terraform {
        status: std::process::ExitStatus,
        output: String,
    },
    #[error("`terraform providers schema -json` printed JSON this generator cannot read: {0}")]
    SchemaJson(#[from] serde_json::Error),
    #[error("`terraform providers schema -json` has no provider {PROVIDER_SOURCE} (it has {0:?})")]
    NoProvider(Vec<String>),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DocsError + '_ {
    move |source| DocsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One generated page: a path relative to `docs/` (always with `/`) and its markdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub path: String,
    pub text: String,
}

/// How a docs directory differs from the generated pages.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// The page is generated but the file does not exist.
    Missing(String),
    /// The file exists with other bytes.
    Stale(String),
    /// A page under `resources/` or `data-sources/` that documents nothing the provider has.
    Extra(String),
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing(p) => write!(f, "missing {p}"),
            Difference::Stale(p) => write!(f, "stale   {p}"),
            Difference::Extra(p) => write!(f, "extra   {p} (documents nothing the provider has)"),
        }
    }
}

/// Every page, from the JSON of `terraform providers schema -json` and the examples in
/// `examples_dir` (`provider/provider.tf`, `resources/<type>/resource.tf` and `import.sh`,
/// `data-sources/<type>/data-source.tf`; a missing file leaves its section out).
pub fn pages(schema_json: &[u8], examples_dir: &Path) -> Result<Vec<Page>, DocsError> {
    let all: SchemaJson = serde_json::from_slice(schema_json)?;
    let Some(p) = all.provider_schemas.get(PROVIDER_SOURCE) else {
        return Err(DocsError::NoProvider(
            all.provider_schemas.keys().cloned().collect(),
        ));
    };
    let provider_name = PROVIDER_SOURCE
        .rsplit('/')
        .next()
        .unwrap_or(PROVIDER_SOURCE);
    let example = |rel: &str| read_optional(&examples_dir.join(rel));

    let mut out = vec![Page {
        path: "index.md".into(),
        text: render::page(
            &render::Title::provider(provider_name),
            &p.provider.block,
            example("provider/provider.tf")?.as_deref(),
            None,
        ),
    }];
    for (ty, s) in &p.resource_schemas {
        out.push(Page {
            path: format!("resources/{}.md", short_name(ty, provider_name)),
            text: render::page(
                &render::Title::resource(ty, provider_name),
                &s.block,
                example(&format!("resources/{ty}/resource.tf"))?.as_deref(),
                example(&format!("resources/{ty}/import.sh"))?.as_deref(),
            ),
        });
    }
    for (ty, s) in &p.data_source_schemas {
        out.push(Page {
            path: format!("data-sources/{}.md", short_name(ty, provider_name)),
            text: render::page(
                &render::Title::data_source(ty, provider_name),
                &s.block,
                example(&format!("data-sources/{ty}/data-source.tf"))?.as_deref(),
                None,
            ),
        });
    }
    Ok(out)
}

/// `imagenest_package` → `package`, the registry's file name for a type.
fn short_name<'a>(ty: &'a str, provider_name: &str) -> &'a str {
    ty.strip_prefix(provider_name)
        .and_then(|rest| rest.strip_prefix('_'))
        .unwrap_or(ty)
}

fn read_optional(path: &Path) -> Result<Option<String>, DocsError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// How `docs_dir` differs from `pages`, byte for byte, sorted by kind then path.
pub fn compare(pages: &[Page], docs_dir: &Path) -> Result<Vec<Difference>, DocsError> {
    let mut out = Vec::new();
    for page in pages {
        let path = docs_dir.join(&page.path);
        match std::fs::read(&path) {
            Ok(bytes) if bytes == page.text.as_bytes() => {}
            Ok(_) => out.push(Difference::Stale(page.path.clone())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                out.push(Difference::Missing(page.path.clone()))
            }
            Err(e) => return Err(io_error(&path)(e)),
        }
    }
    let generated: BTreeSet<&str> = pages.iter().map(|p| p.path.as_str()).collect();
    for existing in generated_dir_files(docs_dir)? {
        if !generated.contains(existing.as_str()) {
            out.push(Difference::Extra(existing));
        }
    }
    out.sort();
    Ok(out)
}

/// Brings `docs_dir` up to date: writes the pages that differ and deletes extra pages under
/// `resources/` and `data-sources/`. Returns what it changed.
pub fn write(pages: &[Page], docs_dir: &Path) -> Result<Vec<Difference>, DocsError> {
    let changes = compare(pages, docs_dir)?;
    for change in &changes {
        match change {
            Difference::Missing(rel) | Difference::Stale(rel) => {
                let path = docs_dir.join(rel);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
                }
                // Invariant: `changes` only names paths taken from `pages`.
                let page = pages.iter().find(|p| &p.path == rel).expect("page");
                std::fs::write(&path, &page.text).map_err(io_error(&path))?;
            }
            Difference::Extra(rel) => {
                let path = docs_dir.join(rel);
                std::fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
    }
    Ok(changes)
}

/// The `.md` files under `docs_dir/resources` and `docs_dir/data-sources`, as `dir/file.md`.
fn generated_dir_files(docs_dir: &Path) -> Result<Vec<String>, DocsError> {
    let mut out = Vec::new();
    for dir in PAGE_DIRS {
        let path = docs_dir.join(dir);
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error(&path)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io_error(&path))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                out.push(format!("{dir}/{name}"));
            }
        }
    }
    Ok(out)
}
