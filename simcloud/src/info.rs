//! `<data-dir>/sim-cloud.json`: where a running sim cloud listens and the keys of its
//! accounts, for `imagenest serve` and the CLI. Written atomically, mode 0600 (it holds secrets).

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::SimError;
use crate::model::Account;

/// The contents of `sim-cloud.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimInfo {
    /// Base URL of the ECS API and of the admin API (`/_sim/…`), `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Name of the delivery account (`delivery`).
    pub delivery_account: String,
    /// Every account, the delivery account included.
    pub accounts: Vec<Account>,
}

impl SimInfo {
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    pub fn delivery(&self) -> Option<&Account> {
        self.account(&self.delivery_account)
    }

    /// Reads the file.
    pub fn read(path: &Path) -> Result<SimInfo, SimError> {
        let text = std::fs::read_to_string(path).map_err(|source| SimError::Io {
            path: path.into(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| SimError::Corrupt {
            path: path.into(),
            line: e.line(),
            detail: e.to_string(),
        })
    }

    /// Writes the file through a temporary file and a rename.
    pub fn write(&self, path: &Path) -> Result<(), SimError> {
        let io = |source| SimError::Io {
            path: path.into(),
            source,
        };
        let tmp = path.with_extension("json.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut file = opts.open(&tmp).map_err(io)?;
        let mut text = serde_json::to_vec_pretty(self).map_err(|e| SimError::Corrupt {
            path: path.into(),
            line: 0,
            detail: e.to_string(),
        })?;
        text.push(b'\n');
        file.write_all(&text).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}
