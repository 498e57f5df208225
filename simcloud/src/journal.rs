//! The sim cloud's state on disk: an append-only JSON-lines journal of timestamped events,
//! compacted into a snapshot line when the sim opens it, guarded by an exclusive file lock.
//!
//! Layout under the state directory (`<data-dir>/sim-cloud/`): `journal.jsonl` and `lock`.
//! Each event is written with one `write` call before the caller is answered, so a killed
//! sim loses nothing it acknowledged (no fsync per event: a power cut may lose the tail).
//! A torn last line (the process died mid-write) is dropped on open.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::state::{Event, State};

/// Events appended since the last compaction before the journal is compacted again.
const COMPACT_AFTER: usize = 200_000;

// Lines live only while being read or written, so the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Snapshot { snapshot: Box<State> },
    Event { t: u64, e: Event },
}

/// An open journal holding the directory's lock.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    file: File,
    appended: usize,
    _lock: File,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SimError + '_ {
    move |source| SimError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl Journal {
    /// Locks `dir` (creating it), replays its journal into a state, compacts it, and opens it
    /// for appending. Fails with [`SimError::Locked`] when another sim holds the directory.
    pub fn open(dir: &Path) -> Result<(Journal, State), SimError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(SimError::Locked {
                    dir: dir.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&lock_path)(e)),
        }
        let state = replay(&dir.join("journal.jsonl"))?;
        let file = write_snapshot(dir, &state)?;
        Ok((
            Journal {
                dir: dir.to_path_buf(),
                file,
                appended: 0,
                _lock: lock,
            },
            state,
        ))
    }

    /// Appends one event (one `write` call).
    pub fn append(&mut self, t: u64, event: &Event) -> Result<(), SimError> {
        let mut line = serde_json::to_vec(&Line::Event {
            t,
            e: event.clone(),
        })
        .map_err(|e| SimError::Corrupt {
            path: self.path(),
            line: 0,
            detail: e.to_string(),
        })?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(io_err(&self.dir))?;
        self.appended += 1;
        Ok(())
    }

    /// True when enough was appended that [`Journal::compact`] is worth it.
    pub fn wants_compaction(&self) -> bool {
        self.appended >= COMPACT_AFTER
    }

    /// Rewrites the journal as one snapshot line.
    pub fn compact(&mut self, state: &State) -> Result<(), SimError> {
        self.file = write_snapshot(&self.dir, state)?;
        self.appended = 0;
        Ok(())
    }

    fn path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }
}

/// Writes `state` as the whole journal of `dir` (temporary file, fsync, rename) and returns
/// the journal opened for appending.
fn write_snapshot(dir: &Path, state: &State) -> Result<File, SimError> {
    let tmp = dir.join("journal.jsonl.tmp");
    let mut out = create_private(&tmp).map_err(io_err(&tmp))?;
    let mut line = serde_json::to_vec(&Line::Snapshot {
        snapshot: Box::new(state.clone()),
    })
    .map_err(|e| SimError::Corrupt {
        path: tmp.clone(),
        line: 0,
        detail: e.to_string(),
    })?;
    line.push(b'\n');
    out.write_all(&line).map_err(io_err(&tmp))?;
    out.sync_all().map_err(io_err(&tmp))?;
    let path = dir.join("journal.jsonl");
    std::fs::rename(&tmp, &path).map_err(io_err(&path))?;
    OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(io_err(&path))
}

/// Creates (truncates) a file only its owner can read: the journal holds access key secrets.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)
}

/// Reads a journal into a state; a missing file is an empty state.
fn replay(path: &Path) -> Result<State, SimError> {
    let mut state = State::default();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(state),
        Err(e) => return Err(io_err(path)(e)),
    };
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(io_err(path))?;
    let count = lines.len();
    for (n, text) in lines.into_iter().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(&text) {
            Ok(Line::Snapshot { snapshot }) => {
                state = *snapshot;
                state.reindex();
            }
            Ok(Line::Event { t, e }) => state.exec(t, e),
            // Only the last line can be torn by a crash mid-write; anything else is damage.
            Err(_) if n + 1 == count => {
                tracing::warn!(path = %path.display(), line = n + 1, "dropping torn last journal line");
            }
            Err(e) => {
                return Err(SimError::Corrupt {
                    path: path.to_path_buf(),
                    line: n + 1,
                    detail: e.to_string(),
                });
            }
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Account;

    fn account(name: &str) -> Event {
        Event::Account {
            account: Account {
                name: name.into(),
                account_id: crate::model::account_id_for(name),
                access_key_id: format!("LTAI{name}"),
                access_key_secret: "s".into(),
            },
        }
    }

    #[test]
    fn torn_last_line_is_dropped_and_damage_elsewhere_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut j, mut state) = Journal::open(dir.path()).unwrap();
            for (t, name) in [(1, "a"), (2, "b")] {
                j.append(t, &account(name)).unwrap();
                state.exec(t, account(name));
            }
            assert!(matches!(
                Journal::open(dir.path()),
                Err(SimError::Locked { .. })
            ));
        }
        let path = dir.path().join("journal.jsonl");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"t":3,"e":{"ev":"acc"#).unwrap();
        drop(f);
        let (j, state) = Journal::open(dir.path()).unwrap();
        assert_eq!(state.accounts.len(), 2);
        assert!(state.account_by_key("LTAIb").is_some());
        drop(j);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1, "compacted into one snapshot line");
        std::fs::write(&path, format!("garbage\n{text}")).unwrap();
        let err = Journal::open(dir.path()).unwrap_err();
        assert!(matches!(err, SimError::Corrupt { line: 1, .. }), "{err}");
    }
}
