//! Read-only views of a registry: `imagenest package|version|service list|show`.

use std::process::ExitCode;

use super::connect::{Output, RegistryArgs, runtime};
use super::table::Table;

#[derive(Debug, clap::Subcommand)]
pub enum PackageCommand {
    /// List the packages you can see.
    List {
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Show one package (by ID, name or owner/name).
    Show {
        /// Package ID (pkg-…), name, or owner/name.
        package: String,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum VersionCommand {
    /// List the versions of a package.
    List {
        /// Package ID (pkg-…), name, or owner/name.
        package: String,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Show one version by ID.
    Show {
        /// Version ID (ver-…).
        version: String,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// List the services you can see.
    List {
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Show one service (by ID, name or owner/name).
    Show {
        /// Service ID (svc-…), name, or owner/name.
        service: String,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
}

pub fn package(cmd: PackageCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        match cmd {
            PackageCommand::List { registry, output } => {
                let items = registry.client()?.all_packages().await?;
                output.emit(&items, |items| {
                    let mut t = Table::new(&["ID", "NAME", "OWNER", "VISIBILITY", "REV"]);
                    for p in items {
                        t.row([
                            p.id.clone(),
                            p.name.clone(),
                            p.owner.clone(),
                            lowercase_debug(&p.visibility),
                            p.revision.to_string(),
                        ]);
                    }
                    print!("{}", t.render());
                    Ok(())
                })?;
            }
            PackageCommand::Show {
                package,
                registry,
                output,
            } => {
                let p = registry.client()?.package(&package).await?;
                output.emit(&p, |p| {
                    let mut fields = vec![
                        ("id", p.id.clone()),
                        ("name", p.name.clone()),
                        ("owner", p.owner.clone()),
                        ("description", p.description.clone()),
                        ("resource group", p.resource_group.clone()),
                        ("visibility", lowercase_debug(&p.visibility)),
                    ];
                    fields.extend(p.tags.iter().map(|(k, v)| ("tag", format!("{k}={v}"))));
                    fields.push(("revision", p.revision.to_string()));
                    fields.push(("created", p.created_at.clone()));
                    print_fields(&fields);
                    Ok(())
                })?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn version(cmd: VersionCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        match cmd {
            VersionCommand::List {
                package,
                registry,
                output,
            } => {
                let items = registry.client()?.all_versions(&package).await?;
                output.emit(&items, |items| {
                    let mut t = Table::new(&["ID", "NAME", "STATUS", "PUBLISHED"]);
                    for v in items {
                        t.row([
                            v.id.clone(),
                            v.name.clone(),
                            v.status.as_str().to_string(),
                            v.published_at.clone().unwrap_or_default(),
                        ]);
                    }
                    print!("{}", t.render());
                    Ok(())
                })?;
            }
            VersionCommand::Show {
                version,
                registry,
                output,
            } => {
                let v = registry.client()?.version(&version).await?;
                output.emit(&v, |v| {
                    print_fields(&[
                        ("id", v.id.clone()),
                        ("package", v.package_id.clone()),
                        ("name", v.name.clone()),
                        ("status", v.status.as_str().to_string()),
                        ("description", v.description.clone()),
                        ("image", serde_json::to_string(&v.image)?),
                        ("revision", v.revision.to_string()),
                    ]);
                    Ok(())
                })?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn service(cmd: ServiceCommand) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        match cmd {
            ServiceCommand::List { registry, output } => {
                let items = registry.client()?.all_services().await?;
                output.emit(&items, |items| {
                    let mut t = Table::new(&["ID", "NAME", "OWNER", "VISIBILITY", "ASSOCIATIONS"]);
                    for s in items {
                        t.row([
                            s.id.clone(),
                            s.name.clone(),
                            s.owner.clone(),
                            s.visibility.as_str().to_string(),
                            s.image_associations.len().to_string(),
                        ]);
                    }
                    print!("{}", t.render());
                    Ok(())
                })?;
            }
            ServiceCommand::Show {
                service,
                registry,
                output,
            } => {
                let s = registry.client()?.service(&service).await?;
                output.emit(&s, |s| {
                    let mut fields = vec![
                        ("id", s.id.clone()),
                        ("name", s.name.clone()),
                        ("owner", s.owner.clone()),
                        ("visibility", s.visibility.as_str().to_string()),
                        (
                            "whitelist",
                            s.whitelist.iter().cloned().collect::<Vec<_>>().join(", "),
                        ),
                    ];
                    fields.extend(s.image_associations.iter().map(|(literal, a)| {
                        (
                            "associates",
                            format!("{literal} -> {} @ {}", a.package_id, a.version),
                        )
                    }));
                    fields.push(("revision", s.revision.to_string()));
                    print_fields(&fields);
                    Ok(())
                })?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `name: value` lines with the values in one column.
fn print_fields(fields: &[(&str, String)]) {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0) + 1;
    for (name, value) in fields {
        println!("{:<width$} {value}", format!("{name}:"));
    }
}

/// A unit enum's name in lower case (`Public` → `public`).
fn lowercase_debug(value: &impl std::fmt::Debug) -> String {
    format!("{value:?}").to_lowercase()
}
