//! Read-only views of a registry: `imagenest package|version|service list|show`.

use std::process::ExitCode;

use super::connect::{Output, RegistryArgs, print_json, runtime};

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
        package: String,
        #[command(flatten)]
        registry: RegistryArgs,
        /// Print as text or as JSON (for scripts).
        #[arg(long, value_enum, default_value_t)]
        output: Output,
    },
    /// Show one version by ID.
    Show {
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
                match output {
                    Output::Json => print_json(&items)?,
                    Output::Text => {
                        println!(
                            "{:<24} {:<32} {:<16} {:<8} REV",
                            "ID", "NAME", "OWNER", "VISIBILITY"
                        );
                        for p in items {
                            println!(
                                "{:<24} {:<32} {:<16} {:<8} {}",
                                p.id,
                                p.name,
                                p.owner,
                                format!("{:?}", p.visibility).to_lowercase(),
                                p.revision
                            );
                        }
                    }
                }
            }
            PackageCommand::Show {
                package,
                registry,
                output,
            } => {
                let p = registry.client()?.package(&package).await?;
                match output {
                    Output::Json => print_json(&p)?,
                    Output::Text => {
                        println!("id:             {}", p.id);
                        println!("name:           {}", p.name);
                        println!("owner:          {}", p.owner);
                        println!("description:    {}", p.description);
                        println!("resource group: {}", p.resource_group);
                        println!(
                            "visibility:     {}",
                            format!("{:?}", p.visibility).to_lowercase()
                        );
                        for (k, v) in &p.tags {
                            println!("tag:            {k}={v}");
                        }
                        println!("revision:       {}", p.revision);
                        println!("created:        {}", p.created_at);
                    }
                }
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
                match output {
                    Output::Json => print_json(&items)?,
                    Output::Text => {
                        println!("{:<24} {:<24} {:<10} PUBLISHED", "ID", "NAME", "STATUS");
                        for v in items {
                            println!(
                                "{:<24} {:<24} {:<10} {}",
                                v.id,
                                v.name,
                                v.status.as_str(),
                                v.published_at.unwrap_or_default()
                            );
                        }
                    }
                }
            }
            VersionCommand::Show {
                version,
                registry,
                output,
            } => {
                let v = registry.client()?.version(&version).await?;
                match output {
                    Output::Json => print_json(&v)?,
                    Output::Text => {
                        println!("id:          {}", v.id);
                        println!("package:     {}", v.package_id);
                        println!("name:        {}", v.name);
                        println!("status:      {}", v.status.as_str());
                        println!("description: {}", v.description);
                        println!("image:       {}", serde_json::to_string(&v.image)?);
                        println!("revision:    {}", v.revision);
                    }
                }
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
                match output {
                    Output::Json => print_json(&items)?,
                    Output::Text => {
                        println!(
                            "{:<24} {:<32} {:<16} {:<8} ASSOCIATIONS",
                            "ID", "NAME", "OWNER", "VISIBILITY"
                        );
                        for s in items {
                            println!(
                                "{:<24} {:<32} {:<16} {:<8} {}",
                                s.id,
                                s.name,
                                s.owner,
                                s.visibility.as_str(),
                                s.image_associations.len()
                            );
                        }
                    }
                }
            }
            ServiceCommand::Show {
                service,
                registry,
                output,
            } => {
                let s = registry.client()?.service(&service).await?;
                match output {
                    Output::Json => print_json(&s)?,
                    Output::Text => {
                        println!("id:         {}", s.id);
                        println!("name:       {}", s.name);
                        println!("owner:      {}", s.owner);
                        println!("visibility: {}", s.visibility.as_str());
                        println!(
                            "whitelist:  {}",
                            s.whitelist.iter().cloned().collect::<Vec<_>>().join(", ")
                        );
                        for (literal, a) in &s.image_associations {
                            println!("associates: {literal} -> {} @ {}", a.package_id, a.version);
                        }
                        println!("revision:   {}", s.revision);
                    }
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
