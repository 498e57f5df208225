//! `imagenest check`: report every image site of templates and whether it can be resolved
//! (DESIGN §4). Exit 0 when every site is a literal, 1 when one is not, 2 on usage, I/O or
//! parse errors.

use std::path::PathBuf;
use std::process::ExitCode;

use imagenest_preprocessor::{ImageSite, Outcome, ScanOptions, SiteValue};

use super::EXIT_USAGE;
use super::resolve::common::{self, FileReport, ReportFormat, SiteReport};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    report: ReportFormat,
    /// Another resource type whose image property boots an instance (repeatable).
    #[arg(long = "resource-type", value_name = "TYPE")]
    resource_types: Vec<String>,
    /// Template format instead of detecting it: ros-yaml, ros-json, tf, tf-json.
    #[arg(long)]
    format: Option<String>,
    /// Template files or directories (`-` for stdin).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (opts, format) = super::resolve::scan_setup(&args.resource_types, args.format.as_deref())?;
    let inputs = common::collect_inputs(&args.paths)?;
    Ok(check(inputs, format, &opts, args.report))
}

fn check(
    inputs: Vec<common::Input>,
    format: Option<imagenest_preprocessor::Format>,
    opts: &ScanOptions,
    report: ReportFormat,
) -> ExitCode {
    let (scanned, failed) = common::scan_all(inputs, format, opts);
    let mut findings = 0usize;
    let mut literals = 0usize;
    let mut deploy_time = 0usize;
    // A literal that `resolve` could not write in place is a finding too.
    let stuck_outcome = Outcome::Failed {
        message: "cannot be rewritten in place (the value spans lines of the scalar that holds \
                  the embedded file, or has no bytes of its own); write the embedded file as a \
                  literal block scalar (`|`) or the value on one line"
            .to_string(),
    };
    let stuck_at = |site: &ImageSite| site.value.literal().is_some() && !site.rewritable();
    for s in &scanned {
        for site in &s.sites {
            match site.value {
                SiteValue::Literal { .. } if stuck_at(site) => findings += 1,
                SiteValue::Literal { .. } => literals += 1,
                ref v if v.is_problem() => findings += 1,
                SiteValue::NonLiteral(_) => deploy_time += 1,
            }
        }
    }
    match report {
        ReportFormat::Text => {
            for (input, msg) in &failed {
                let _ = input;
                eprintln!("error: {msg}");
            }
            for s in &scanned {
                for site in &s.sites {
                    let stuck = stuck_at(site);
                    let error = site.value.is_problem() || stuck;
                    let outcome = stuck.then_some(&stuck_outcome);
                    println!("{}", common::site_line(&s.input.name, site, outcome, error));
                }
            }
            println!(
                "{} image sites in {} files: {literals} literal, {findings} not literal{}{}",
                literals + findings + deploy_time,
                scanned.len(),
                if deploy_time > 0 {
                    format!(
                        ", {deploy_time} resolved at deploy time by the registry's ROS endpoint"
                    )
                } else {
                    String::new()
                },
                if failed.is_empty() {
                    String::new()
                } else {
                    format!(", {} files failed", failed.len())
                }
            );
        }
        ReportFormat::Json => {
            let mut files: Vec<FileReport<'_>> = Vec::new();
            for (input, msg) in &failed {
                files.push(FileReport {
                    file: &input.name,
                    format: None,
                    error: Some(msg),
                    sites: Vec::new(),
                });
            }
            for s in &scanned {
                let sites = s
                    .sites
                    .iter()
                    .map(|site| SiteReport {
                        file: &s.input.name,
                        site,
                        outcome: stuck_at(site).then_some(&stuck_outcome),
                        error: site.value.is_problem() || stuck_at(site),
                    })
                    .collect();
                files.push(FileReport {
                    file: &s.input.name,
                    format: Some(s.format),
                    error: None,
                    sites,
                });
            }
            let doc = serde_json::json!({
                "files": files,
                "summary": {"sites": literals + findings, "literal": literals, "not_literal": findings, "unreadable_files": failed.len()},
            });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
    }
    if !failed.is_empty() {
        ExitCode::from(EXIT_USAGE)
    } else if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
