//! How a sim cloud runs: where its state lives, how fast copies go, which faults it injects.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// How fast copies run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum CopySpeed {
    /// Copies are `Available` as soon as a slot of their region is free.
    Instant,
    /// GiB copied per second (a 20 GiB image at 2.0 takes 10 s).
    GibPerSec(f64),
}

impl CopySpeed {
    /// How long a copy of `size_gib` runs, in milliseconds.
    pub fn duration_ms(self, size_gib: u64) -> u64 {
        match self {
            CopySpeed::Instant => 0,
            CopySpeed::GibPerSec(speed) if speed > 0.0 => {
                ((size_gib as f64 / speed) * 1000.0).round() as u64
            }
            CopySpeed::GibPerSec(_) => 0,
        }
    }
}

/// Injected faults; all off by default. Changeable at run time (`PUT /_sim/faults`) and kept
/// in the sim's state, so they survive its restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Share of new copies (0.0–1.0) that end `CreateFailed`, drawn when the copy is requested.
    pub failure_rate: f64,
    /// Share of ECS API calls (0.0–1.0) answered `Throttling` without doing anything.
    pub throttle_rate: f64,
    /// Regions whose calls (by `RegionId` or `DestinationRegionId`) answer `ServiceUnavailable`.
    pub down_regions: BTreeSet<String>,
    /// Added to every ECS API call before it is handled.
    pub latency_ms: u64,
    /// ECS actions that fail on every call with an error code, e.g.
    /// `{"ModifyImageSharePermission": "Throttling"}`. The code sets the HTTP status as ECS
    /// does (`ServiceUnavailable` 503, `InternalError` 500, `*NotFound` 404, `Forbidden*` 403,
    /// others 400), so the driver classes it as the real cloud's error.
    pub action_errors: BTreeMap<String, String>,
}

/// Everything [`crate::SimCloud::start`] needs.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The data directory: state goes to `<data_dir>/sim-cloud/`, the endpoint and credentials
    /// to `<data_dir>/sim-cloud.json`.
    pub data_dir: PathBuf,
    pub speed: CopySpeed,
    /// Faults to start with, replacing (and saving over) the ones kept in the state; `None`
    /// keeps the saved ones (none on a new state).
    pub faults: Option<Faults>,
    /// Seeds the random draws (failures, throttling, IDs) for reproducible runs.
    pub seed: Option<u64>,
}

impl SimConfig {
    /// Instant copies, the saved faults (none on a new state).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        SimConfig {
            data_dir: data_dir.into(),
            speed: CopySpeed::Instant,
            faults: None,
            seed: None,
        }
    }

    /// The state directory, `<data_dir>/sim-cloud`.
    pub fn state_dir(&self) -> PathBuf {
        self.data_dir.join("sim-cloud")
    }

    /// The info file, `<data_dir>/sim-cloud.json`.
    pub fn info_path(&self) -> PathBuf {
        self.data_dir.join("sim-cloud.json")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_time_is_proportional_to_size() {
        assert_eq!(CopySpeed::GibPerSec(2.0).duration_ms(20), 10_000);
        assert_eq!(CopySpeed::GibPerSec(1.0).duration_ms(1), 1_000);
        assert_eq!(CopySpeed::Instant.duration_ms(500), 0);
    }
}
