//! Writing resolved templates: stdout, `-o` file or directory, or in place; each file goes to a
//! temporary file beside its target and is renamed over it only when all are written.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use imagenest_preprocessor::Resolution;

use super::common::Scanned;

/// Writes every resolved template. With several targets all temporary files are written
/// first and renamed last, so an I/O error leaves the targets as they were.
pub fn write_all(
    scanned: &[Scanned],
    res: &[Resolution],
    output: Option<&Path>,
    in_place: bool,
    to_stdout: bool,
) -> anyhow::Result<()> {
    if to_stdout {
        let stdout = std::io::stdout();
        let mut w = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
        for (s, r) in scanned.iter().zip(res) {
            r.write_to(s.text(), &mut w)
                .context("cannot write to standard output")?;
        }
        w.flush().context("cannot write to standard output")?;
        return Ok(());
    }
    let mut targets: Vec<(PathBuf, usize)> = Vec::new();
    if in_place {
        for (i, s) in scanned.iter().enumerate() {
            // In place rewrites only files that change, and never touches the others.
            if let Some(p) = &s.input.path {
                if res[i].changes(s.text()) {
                    targets.push((p.clone(), i));
                }
            }
        }
    } else if let Some(out) = output {
        let as_dir = scanned.len() > 1 || scanned.iter().any(|s| s.input.from_dir) || out.is_dir();
        for (i, s) in scanned.iter().enumerate() {
            let t = if as_dir {
                out.join(&s.input.rel)
            } else {
                out.to_path_buf()
            };
            targets.push((t, i));
        }
    } else {
        return Ok(());
    }
    let mut temps: Vec<(PathBuf, PathBuf)> = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        for (target, i) in &targets {
            if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let tmp = temp_path(target);
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .with_context(|| format!("cannot create {}", tmp.display()))?;
            temps.push((tmp.clone(), target.clone()));
            if let Some(p) = &scanned[*i].input.path {
                if let Ok(meta) = std::fs::metadata(p) {
                    let _ = f.set_permissions(meta.permissions());
                }
            }
            // `write_to` batches vectored writes itself: no buffer in between.
            let mut f = f;
            res[*i]
                .write_to(scanned[*i].text(), &mut f)
                .with_context(|| format!("cannot write {}", tmp.display()))?;
            if in_place {
                // Rewriting the inputs themselves: make the new content durable before the rename.
                f.sync_all()
                    .with_context(|| format!("cannot write {}", tmp.display()))?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &temps {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e.context("nothing was written"));
    }
    for (tmp, target) in &temps {
        std::fs::rename(tmp, target)
            .with_context(|| format!("cannot replace {}", target.display()))?;
    }
    Ok(())
}

fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("template");
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    target.with_file_name(format!(".{name}.imagenest-{}-{n}.tmp", std::process::id()))
}

/// Prints a unified diff (no context lines) of the edits of one template.
pub fn print_diff(name: &str, text: &str, res: &Resolution) {
    if !res.changes(text) {
        return;
    }
    let mut out = String::new();
    out.push_str(&format!("--- a/{name}\n+++ b/{name}\n"));
    let b = text.as_bytes();
    let line_start = |i: usize| memrchr_nl(&b[..i]);
    let line_end = |i: usize| {
        b[i..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |n| i + n + 1)
    };
    let mut k = 0;
    let mut line_no = 1usize;
    let mut scanned_to = 0usize;
    let mut shift: isize = 0;
    while k < res.edits.len() {
        let ls = line_start(res.edits[k].span.start);
        let mut le = line_end(res.edits[k].span.end.max(res.edits[k].span.start));
        let mut j = k + 1;
        while j < res.edits.len() && res.edits[j].span.start < le {
            le = line_end(res.edits[j].span.end);
            j += 1;
        }
        line_no += b[scanned_to..ls].iter().filter(|&&c| c == b'\n').count();
        scanned_to = ls;
        let old = &text[ls..le];
        let mut new = String::new();
        let mut at = ls;
        for e in &res.edits[k..j] {
            new.push_str(&text[at..e.span.start]);
            new.push_str(&e.text);
            at = e.span.end;
        }
        new.push_str(&text[at..le]);
        let old_lines: Vec<&str> = old.lines().collect();
        let new_lines: Vec<&str> = new.lines().collect();
        let new_no = (line_no as isize + shift) as usize;
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            line_no,
            old_lines.len(),
            new_no,
            new_lines.len()
        ));
        for l in &old_lines {
            out.push_str(&format!("-{l}\n"));
        }
        for l in &new_lines {
            out.push_str(&format!("+{l}\n"));
        }
        shift += new_lines.len() as isize - old_lines.len() as isize;
        k = j;
    }
    print!("{out}");
}

fn memrchr_nl(b: &[u8]) -> usize {
    b.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1)
}
