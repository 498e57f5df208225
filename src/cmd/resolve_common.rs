//! What `imagenest resolve` and `imagenest check` share: finding inputs, reading and scanning
//! them, and reporting image sites as text or JSON.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use imagenest_preprocessor::{Format, ImageSite, Outcome, ScanOptions, SiteValue, TemplateText};
use serde::Serialize;

/// `--report` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

/// One input template.
#[derive(Debug)]
pub struct Input {
    /// Shown in messages (`-` for stdin).
    pub name: String,
    /// The file, `None` for stdin.
    pub path: Option<PathBuf>,
    /// Path relative to the directory argument it was found under (the file name otherwise).
    pub rel: PathBuf,
    /// Whether it was found by walking a directory.
    pub from_dir: bool,
}

/// Expands arguments: files as given, directories walked (sorted) for template files.
pub fn collect_inputs(paths: &[PathBuf]) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input {
                name: "-".into(),
                path: None,
                rel: PathBuf::from("stdin"),
                from_dir: false,
            });
            continue;
        }
        let meta = std::fs::metadata(p).with_context(|| format!("cannot read {}", p.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, &mut found).with_context(|| format!("cannot walk {}", p.display()))?;
            found.sort();
            for f in found {
                let rel = f.strip_prefix(p).unwrap_or(&f).to_path_buf();
                out.push(Input {
                    name: f.display().to_string(),
                    path: Some(f),
                    rel,
                    from_dir: true,
                });
            }
        } else {
            let rel = PathBuf::from(p.file_name().unwrap_or(p.as_os_str()));
            out.push(Input {
                name: p.display().to_string(),
                path: Some(p.clone()),
                rel,
                from_dir: false,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let hidden = name.to_str().is_some_and(|n| n.starts_with('.'));
        let ty = entry.file_type()?;
        if ty.is_dir() {
            if !hidden {
                walk(&path, out)?;
            }
        } else if !hidden && imagenest_preprocessor::is_template_path(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads an input whole (stdin for `-`), refusing more than `max` bytes without reading them all.
pub fn read_input(input: &Input, max: usize) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    let limit = max as u64 + 1;
    match &input.path {
        None => {
            std::io::stdin()
                .lock()
                .take(limit)
                .read_to_end(&mut buf)
                .context("cannot read standard input")?;
        }
        Some(p) => {
            let f =
                std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
            if let Ok(m) = f.metadata() {
                buf.reserve(m.len().min(limit) as usize);
            }
            f.take(limit)
                .read_to_end(&mut buf)
                .with_context(|| format!("cannot read {}", p.display()))?;
        }
    }
    if buf.len() > max {
        anyhow::bail!(
            "{}: input is larger than the limit of {max} bytes; refusing it",
            input.name
        );
    }
    Ok(buf)
}

/// A scanned input.
pub struct Scanned {
    pub input: Input,
    pub text: TemplateText,
    pub format: Format,
    pub sites: Vec<ImageSite>,
}

impl Scanned {
    /// The template text.
    pub fn text(&self) -> &str {
        self.text.as_str()
    }
}

/// Reads and scans one input; the error message names the file and position.
pub fn scan_input(
    input: Input,
    format: Option<Format>,
    opts: &ScanOptions,
) -> Result<Scanned, (Input, String)> {
    let loaded = match &input.path {
        // Files are mapped when large (no copy); stdin is read.
        Some(p) => TemplateText::load(p, opts.max_size).map_err(|e| e.to_string()),
        None => read_input(&input, opts.max_size)
            .map_err(|e| format!("{e:#}"))
            .and_then(|b| {
                imagenest_preprocessor::text_from_bytes(b, &input.name, opts.max_size)
                    .map_err(|e| e.to_string())
            })
            .map(TemplateText::from_string),
    };
    let text = match loaded {
        Ok(t) => t,
        Err(e) => return Err((input, e)),
    };
    let format = format.unwrap_or_else(|| {
        imagenest_preprocessor::detect_format(input.path.as_deref(), text.as_str())
    });
    match imagenest_preprocessor::scan(text.as_str(), format, opts) {
        Ok(sites) => Ok(Scanned {
            input,
            text,
            format,
            sites,
        }),
        Err(e) => {
            let msg = format!("{}:{e}", input.name);
            Err((input, msg))
        }
    }
}

/// One site as reported.
#[derive(Serialize)]
pub struct SiteReport<'a> {
    pub file: &'a str,
    #[serde(flatten)]
    pub site: &'a ImageSite,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'a Outcome>,
    /// Whether this site makes the run fail.
    pub error: bool,
}

/// A file in a JSON report.
#[derive(Serialize)]
pub struct FileReport<'a> {
    pub file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'a str>,
    pub sites: Vec<SiteReport<'a>>,
}

/// The text line for one site.
pub fn site_line(file: &str, site: &ImageSite, outcome: Option<&Outcome>, error: bool) -> String {
    let mut what = format!(
        "{} ({}) {}",
        site.resource, site.resource_type, site.property
    );
    if let Some(e) = &site.embedded_in {
        what = format!("{what} in {e}");
    }
    let status = match (&site.value, outcome) {
        (SiteValue::Literal { literal }, Some(Outcome::Replaced { image })) => {
            format!("literal `{literal}` -> `{image}`")
        }
        (SiteValue::Literal { literal }, Some(Outcome::Unassociated)) => {
            format!("literal `{literal}` has no association; left as is")
        }
        (SiteValue::Literal { literal }, Some(Outcome::Failed { message })) => {
            format!("literal `{literal}`: {message}")
        }
        (SiteValue::Literal { literal }, _) => format!("literal `{literal}`"),
        (SiteValue::NonLiteral(n), _) => {
            let mut s = format!("{} `{}`: {}", n.kind.as_str(), n.expression, n.reason);
            if let Some(h) = &n.hint {
                s.push_str("; ");
                s.push_str(h);
            }
            s
        }
    };
    let level = if error { "error: " } else { "" };
    format!(
        "{file}:{}:{}: {level}{what}: {status}",
        site.position.line, site.position.column
    )
}

/// Scans every input. Terraform files that share a directory are one module: variables and
/// locals defined in one file give the hints for `var.`/`local.` sites in the others.
pub fn scan_all(
    inputs: Vec<Input>,
    format: Option<Format>,
    opts: &ScanOptions,
) -> (Vec<Scanned>, Vec<(Input, String)>) {
    use std::collections::HashMap;
    let mut modules: HashMap<PathBuf, Vec<&Path>> = HashMap::new();
    for i in &inputs {
        if let Some(p) = i
            .path
            .as_deref()
            .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        {
            modules
                .entry(p.parent().unwrap_or(Path::new("")).to_path_buf())
                .or_default()
                .push(p);
        }
    }
    let mut defaults: HashMap<PathBuf, ScanOptions> = HashMap::new();
    for (dir, files) in modules.into_iter().filter(|(_, f)| f.len() > 1) {
        let mut d = imagenest_preprocessor::TerraformDefaults::default();
        for f in files {
            if let Ok(text) = std::fs::read_to_string(f) {
                d.add_file(&text);
            }
        }
        defaults.insert(
            dir,
            ScanOptions {
                terraform_defaults: d,
                ..opts.clone()
            },
        );
    }
    let mut scanned = Vec::new();
    let mut failed = Vec::new();
    for input in inputs {
        let dir = input
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let o = dir.and_then(|d| defaults.get(&d)).unwrap_or(opts);
        match scan_input(input, format, o) {
            Ok(s) => scanned.push(s),
            Err(e) => failed.push(e),
        }
    }
    (scanned, failed)
}
