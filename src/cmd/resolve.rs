//! `imagenest resolve`: rewrite literal image IDs of ROS and Terraform templates to the image of
//! one region (DESIGN §4). Every input is read and scanned before anything is written; outputs
//! are written to a temporary file and renamed, so a failing run leaves no partial file.

#[path = "resolve_common.rs"]
pub(super) mod common;
#[path = "resolve_output.rs"]
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use imagenest_core::image_map::ImageMap;
use imagenest_preprocessor::{Format, Lookup, Outcome, Resolution, ResourceTypes, ScanOptions};

use super::EXIT_USAGE;
use common::{FileReport, ReportFormat, SiteReport};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Region whose images to write (e.g. cn-hangzhou).
    #[arg(long)]
    region: String,
    /// Image map file (exported by the registry or the provider).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["registry", "service"])]
    map: Option<PathBuf>,
    /// Registry URL to ask for the service's image map.
    #[arg(long, value_name = "URL", requires = "service")]
    registry: Option<String>,
    /// Service whose associations to use (with --registry).
    #[arg(long, value_name = "NAME", requires = "registry")]
    service: Option<String>,
    /// Bearer token for the registry (the caller's own: its permissions decide what resolves).
    #[arg(long, env = "IMAGENEST_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Write the result here: a file for one input, else a directory mirroring the inputs.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        conflicts_with = "in_place"
    )]
    output: Option<PathBuf>,
    /// Rewrite the inputs themselves (temporary file + rename; nothing is written if any input fails).
    #[arg(long)]
    in_place: bool,
    /// Print a unified diff of the changes (alone: instead of the templates).
    #[arg(long)]
    diff: bool,
    /// Print a report of every site (to stdout when templates go to files, else to stderr).
    #[arg(long, value_enum)]
    report: Option<ReportFormat>,
    /// Make literals without an association errors; nothing is written when any site is unresolved.
    #[arg(long)]
    strict: bool,
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

/// Scan options and forced format from the shared flags.
pub(super) fn scan_setup(
    resource_types: &[String],
    format: Option<&str>,
) -> anyhow::Result<(ScanOptions, Option<Format>)> {
    let types = ResourceTypes::with_extra(resource_types.to_vec()).map_err(|t| {
        anyhow::anyhow!(
            "`{t}` acts on an image instead of booting one; its image IDs are never rewritten"
        )
    })?;
    let format = match format {
        None => None,
        Some(f) => Some(Format::from_name(f).with_context(|| {
            format!("unknown format `{f}`: use ros-yaml, ros-json, tf or tf-json")
        })?),
    };
    Ok((
        ScanOptions {
            resource_types: types,
            ..ScanOptions::default()
        },
        format,
    ))
}

/// Where literals are looked up: an image map, from a file or fetched from the registry.
enum Source {
    /// From `--map FILE`.
    Map(ImageMap),
    /// From the registry: holds only the regions the caller's token may resolve.
    Registry(ImageMap),
}

impl Source {
    fn lookup(&self, literal: &str, region: &str) -> Lookup {
        let (Source::Map(map) | Source::Registry(map)) = self;
        match map.images.get(literal) {
            None => Lookup::NotAssociated,
            Some(entry) => match entry.regions.get(region) {
                Some(image) => Lookup::Image(image.clone()),
                None if matches!(self, Source::Registry(_)) => Lookup::Unavailable(format!(
                    "associated with package `{}` version `{}`, which is not distributed to {region} \
                     or may not be used there with this token",
                    entry.package, entry.version
                )),
                None => Lookup::Unavailable(format!(
                    "associated with package `{}` version `{}`, which is not distributed to {region}",
                    entry.package, entry.version
                )),
            },
        }
    }
}

fn load_source(args: &Args) -> anyhow::Result<Source> {
    if let Some(path) = &args.map {
        let text = std::fs::read(path)
            .with_context(|| format!("cannot read the image map {}", path.display()))?;
        let map: ImageMap = serde_json::from_slice(&text).with_context(|| {
            format!(
                "{} is not an image map ({{\"service\": …, \"images\": {{…}}}})",
                path.display()
            )
        })?;
        return Ok(Source::Map(map));
    }
    if let (Some(url), Some(service)) = (&args.registry, &args.service) {
        let client = imagenest_client::Client::new(url, args.token.as_deref())?;
        let rt = super::connect::runtime()?;
        // The client error stays in the chain: it decides the exit code (README, "Exit codes").
        let map = rt.block_on(client.image_map(service)).map_err(|e| {
            let what = match e.status() {
                Some(401) => format!(
                    "the registry at {url} refused the token (pass --token or set IMAGENEST_TOKEN)"
                ),
                Some(403) => {
                    format!("this token may not read the image map of service `{service}`")
                }
                Some(404) => format!(
                    "service `{service}` does not exist at {url}, or this token cannot see it"
                ),
                _ => format!("cannot get the image map of service `{service}` from {url}"),
            };
            anyhow::Error::new(e).context(what)
        })?;
        return Ok(Source::Registry(map));
    }
    anyhow::bail!("say where image IDs come from: --map FILE, or --registry URL --service NAME")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (opts, format) = scan_setup(&args.resource_types, args.format.as_deref())?;
    let source = load_source(&args)?;
    let inputs = common::collect_inputs(&args.paths)?;
    if inputs.is_empty() {
        anyhow::bail!("no template files found in the given paths");
    }
    let to_stdout = args.output.is_none() && !args.in_place && !args.diff;
    if to_stdout && inputs.len() > 1 {
        anyhow::bail!(
            "{} templates given: use -o DIR or --in-place to write more than one",
            inputs.len()
        );
    }
    if args.in_place && inputs.iter().any(|i| i.path.is_none()) {
        anyhow::bail!("--in-place cannot rewrite standard input; use -o OUT");
    }

    // Phase 1: read and scan everything; any failure stops the run before a byte is written.
    let (scanned, failures) = common::scan_all(inputs, format, &opts);
    for (_, msg) in &failures {
        eprintln!("error: {msg}");
    }
    if !failures.is_empty() {
        eprintln!("error: nothing was written");
        return Ok(ExitCode::from(EXIT_USAGE));
    }

    // Phase 2: resolve.
    let resolutions: Vec<Resolution> = scanned
        .iter()
        .map(|s| {
            imagenest_preprocessor::resolve(s.text(), &s.sites, |lit| {
                source.lookup(lit, &args.region)
            })
        })
        .collect();
    let is_error = |site: &imagenest_preprocessor::ImageSite, o: &Outcome| match o {
        Outcome::NonLiteral => site.value.is_problem(),
        Outcome::Failed { .. } => true,
        Outcome::Unassociated => args.strict,
        Outcome::Replaced { .. } => site.value.literal().is_none(),
    };
    let mut findings = 0usize;
    let mut replaced = 0usize;
    let mut messages = String::new();
    for (s, r) in scanned.iter().zip(&resolutions) {
        for (site, o) in s.sites.iter().zip(&r.outcomes) {
            if matches!(o, Outcome::Replaced { .. }) {
                replaced += 1;
            }
            if is_error(site, o) {
                findings += 1;
                messages.push_str(&common::site_line(&s.input.name, site, Some(o), true));
                messages.push('\n');
            }
        }
    }
    {
        use std::io::Write;
        let _ = std::io::stderr().lock().write_all(messages.as_bytes());
    }

    // The report goes to stdout unless the template does.
    if let Some(fmt) = args.report {
        let mut text = String::new();
        match fmt {
            ReportFormat::Text => {
                for (s, r) in scanned.iter().zip(&resolutions) {
                    for (site, o) in s.sites.iter().zip(&r.outcomes) {
                        text.push_str(&common::site_line(
                            &s.input.name,
                            site,
                            Some(o),
                            is_error(site, o),
                        ));
                        text.push('\n');
                    }
                }
                let total: usize = scanned.iter().map(|s| s.sites.len()).sum();
                text.push_str(&format!(
                    "{total} image sites in {} files: {replaced} replaced, {findings} errors\n",
                    scanned.len()
                ));
            }
            ReportFormat::Json => {
                let files: Vec<FileReport<'_>> = scanned
                    .iter()
                    .zip(&resolutions)
                    .map(|(s, r)| FileReport {
                        file: &s.input.name,
                        format: Some(s.format),
                        error: None,
                        sites: s
                            .sites
                            .iter()
                            .zip(&r.outcomes)
                            .map(|(site, o)| SiteReport {
                                file: &s.input.name,
                                site,
                                outcome: Some(o),
                                error: is_error(site, o),
                            })
                            .collect(),
                    })
                    .collect();
                let doc = serde_json::json!({"region": args.region, "files": files,
                    "summary": {"replaced": replaced, "errors": findings}});
                text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                text.push('\n');
            }
        }
        if to_stdout {
            eprint!("{text}")
        } else {
            print!("{text}")
        }
    }

    if args.strict && findings > 0 {
        eprintln!("error: {findings} image sites are not resolved (--strict); nothing was written");
        return Ok(ExitCode::from(1));
    }

    // Phase 3: write.
    if args.diff {
        for (s, r) in scanned.iter().zip(&resolutions) {
            output::print_diff(&s.input.name, s.text(), r);
        }
    }
    if let Err(e) = output::write_all(
        &scanned,
        &resolutions,
        args.output.as_deref(),
        args.in_place,
        to_stdout,
    ) {
        eprintln!("error: {e:#}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    Ok(if findings > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
