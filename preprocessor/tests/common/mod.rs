//! Helpers shared by the preprocessor's integration tests: fixtures, image maps, site lines.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use imagenest_core::image_map::ImageMap;
use imagenest_preprocessor::{
    Format, ImageSite, Lookup, Outcome, ResourceTypes, ScanOptions, SiteValue, detect_format,
};

pub mod oracle;

/// The region every golden fixture resolves for.
pub const REGION: &str = "cn-hangzhou";

/// One golden fixture directory.
pub struct Fixture {
    pub name: String,
    pub dir: PathBuf,
    /// `input.yaml`, `input.tf.json`, …
    pub input: PathBuf,
    /// The part after `input` (`.yaml`, `.tf.json`).
    pub ext: String,
    pub text: String,
    pub format: Format,
    pub opts: ScanOptions,
    pub map: ImageMap,
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixtures() -> Vec<Fixture> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| {
            let input = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .find(|p| {
                    p.file_name()
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .starts_with("input.")
                })
                .unwrap_or_else(|| panic!("{} has no input.* file", dir.display()));
            let ext = input.file_name().unwrap().to_str().unwrap()["input".len()..].to_string();
            let text = std::fs::read_to_string(&input).unwrap();
            let format = detect_format(Some(&input), &text);
            let extra = std::fs::read_to_string(dir.join("resource-types.txt"))
                .map(|t| {
                    t.lines()
                        .map(str::to_string)
                        .filter(|l| !l.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            let opts = ScanOptions {
                resource_types: ResourceTypes::with_extra(extra).unwrap(),
                ..ScanOptions::default()
            };
            let map: ImageMap =
                serde_json::from_str(&std::fs::read_to_string(dir.join("map.json")).unwrap())
                    .unwrap();
            Fixture {
                name: dir.file_name().unwrap().to_str().unwrap().to_string(),
                dir,
                input,
                ext,
                text,
                format,
                opts,
                map,
            }
        })
        .collect()
}

/// Looks `literal` up in `map` for `region` the way the CLI does.
pub fn lookup(map: &ImageMap, literal: &str, region: &str) -> Lookup {
    match map.images.get(literal) {
        None => Lookup::NotAssociated,
        Some(e) => match e.regions.get(region) {
            Some(i) => Lookup::Image(i.clone()),
            None => Lookup::Unavailable(format!(
                "associated with `{}` but not distributed to {region}",
                e.package
            )),
        },
    }
}

/// A stable one-line description of a site and its outcome, for golden files.
pub fn site_line(site: &ImageSite, outcome: &Outcome) -> String {
    let mut s = format!(
        "{}:{} {} ({}) {}",
        site.position.line, site.position.column, site.resource, site.resource_type, site.property
    );
    if let Some(e) = &site.embedded_in {
        s.push_str(&format!(" in {e}"));
    }
    match &site.value {
        SiteValue::Literal { literal } => s.push_str(&format!(": literal {literal:?}")),
        SiteValue::NonLiteral(n) => {
            s.push_str(&format!(
                ": {} {:?}: {}",
                n.kind.as_str(),
                n.expression,
                n.reason
            ));
            if let Some(h) = &n.hint {
                s.push_str(&format!(" [hint: {h}]"));
            }
        }
    }
    match outcome {
        Outcome::Replaced { image } => s.push_str(&format!(" -> {image}")),
        Outcome::Unassociated => s.push_str(" (no association)"),
        Outcome::Failed { message } => s.push_str(&format!(" (failed: {message})")),
        Outcome::NonLiteral => {}
    }
    s
}

/// The shared corpus, or `None` (after a loud message) when it is absent and that is allowed.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus");
    if dir.join("OCCURRENCES.tsv").is_file() {
        return Some(dir);
    }
    let msg = format!(
        "\n\n*** THE SHARED CORPUS IS MISSING: {} ***\n*** corpus tests did not run; set IMAGENEST_ALLOW_NO_CORPUS=1 to accept that ***\n\n",
        dir.display()
    );
    if std::env::var("IMAGENEST_ALLOW_NO_CORPUS").as_deref() == Ok("1") {
        eprintln!("{msg}");
        None
    } else {
        panic!("{msg}");
    }
}

/// Every corpus template: (relative name, text).
pub fn corpus_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for sub in ["ros", "tf"] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        for p in names {
            let text = std::fs::read_to_string(&p).unwrap();
            out.push((
                format!("{sub}/{}", p.file_name().unwrap().to_str().unwrap()),
                text,
            ));
        }
    }
    out
}
