//! Errors of the sim cloud library: its state directory, its files and its admin calls.

use std::path::PathBuf;

/// A failure to start, persist or reach the sim cloud.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is in use by another running sim cloud", dir.display())]
    Locked { dir: PathBuf },
    #[error("{}:{line}: damaged sim cloud state: {detail}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    /// The sim refused a request; code and message as its ECS API would answer.
    #[error("{code}: {message}")]
    Refused { code: String, message: String },
    #[error("sim cloud at {endpoint}: {detail}")]
    Remote { endpoint: String, detail: String },
    #[error("sim cloud was shut down")]
    Closed,
}
