//! The sim cloud behind its HTTP faces: state, journal, random draws and settings under one
//! lock, with the library-level operations (accounts, seeding, listing). The ECS actions live
//! in `ecs.rs`.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::config::{CopySpeed, Faults, SimConfig};
use crate::error::SimError;
use crate::journal::Journal;
use crate::marketplace;
use crate::model::{self, Account, Image, Status};
use crate::state::{Event, State};

/// Name of the registry's delivery account, which always exists.
pub const DELIVERY_ACCOUNT: &str = "delivery";

/// How long a signature nonce is remembered (and how far a request's date may be off).
pub const NONCE_WINDOW_MS: u64 = 15 * 60 * 1000;

/// The most nonces remembered at once, so a long high-rate run cannot grow memory without
/// bound; past it the oldest are forgotten early.
const MAX_NONCES: usize = 1_000_000;

/// An error as the ECS API answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }
}

impl From<ApiError> for SimError {
    fn from(e: ApiError) -> Self {
        SimError::Refused {
            code: e.code,
            message: e.message,
        }
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// An image as the admin API and the library list it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageView {
    pub image_id: String,
    pub region: String,
    /// Owner's account name (`marketplace` for marketplace images).
    pub owner: String,
    pub owner_account_id: String,
    pub name: String,
    pub size_gib: u64,
    /// `Waiting`, `Creating`, `Available` or `CreateFailed`.
    pub status: String,
    pub progress: u8,
    /// Account IDs the image is shared with.
    pub shared_with: Vec<String>,
    pub public: bool,
    /// The image this one was copied from.
    pub source_image_id: Option<String>,
    pub product_code: Option<String>,
}

/// Which images to list; empty fields match everything.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageFilter {
    /// Owner's account name.
    pub owner: Option<String>,
    pub region: Option<String>,
    /// Include marketplace images (left out by default).
    pub marketplace: bool,
}

/// A vendor image to seed (what `imagenest sim-cloud image create` asks for).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreateImage {
    /// Owner's account name; created on demand.
    pub account: String,
    pub region: String,
    pub name: String,
    pub size_gib: u64,
    /// Account names to share the image with (created on demand), usually `["delivery"]`.
    #[serde(default)]
    pub share_with: Vec<String>,
}

#[derive(Debug, Default)]
struct NonceCache {
    order: VecDeque<(u64, String)>,
    seen: HashSet<String>,
}

/// The whole sim cloud (behind one mutex in the server).
#[derive(Debug)]
pub struct Sim {
    pub state: State,
    journal: Option<Journal>,
    pub rng: StdRng,
    pub speed: CopySpeed,
    nonces: NonceCache,
}

impl Sim {
    /// Opens (or creates) the state under `config.state_dir()`, making sure the delivery
    /// account and the marketplace products exist.
    pub fn open(config: &SimConfig) -> Result<Sim, SimError> {
        let (journal, state) = Journal::open(&config.state_dir())?;
        let rng = match config.seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_os_rng(),
        };
        let mut sim = Sim {
            state,
            journal: Some(journal),
            rng,
            speed: config.speed,
            nonces: NonceCache::default(),
        };
        if let Some(faults) = &config.faults {
            sim.set_faults(faults.clone())?;
        }
        sim.ensure_account(DELIVERY_ACCOUNT)?;
        for image in marketplace::seeded_images() {
            if !sim.state.images.contains_key(&image.id) {
                sim.commit(Event::Image { image })?;
            }
        }
        Ok(sim)
    }

    /// Releases the journal and its directory lock; later changes fail.
    pub fn close(&mut self) {
        self.journal = None;
    }

    pub fn is_closed(&self) -> bool {
        self.journal.is_none()
    }

    /// Journals an event, then applies it at the current time.
    pub fn commit(&mut self, event: Event) -> Result<(), ApiError> {
        let t = now_ms().max(self.state.now_ms);
        let journal = self.journal.as_mut().ok_or_else(|| {
            ApiError::new(503, "ServiceUnavailable", "The sim cloud is shutting down.")
        })?;
        journal
            .append(t, &event)
            .map_err(|e| ApiError::internal(format!("cannot write the sim journal: {e}")))?;
        self.state.exec(t, event);
        if journal.wants_compaction()
            && let Err(e) = journal.compact(&self.state)
        {
            tracing::warn!(error = %e, "sim journal compaction failed");
        }
        Ok(())
    }

    /// The injected faults in force.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Checks and saves new fault settings (a no-op when they are the ones in force).
    pub fn set_faults(&mut self, faults: Faults) -> Result<(), ApiError> {
        check_faults(&faults)?;
        if faults != self.state.faults {
            tracing::info!(?faults, "sim faults changed");
            self.commit(Event::Faults { faults })?;
        }
        Ok(())
    }

    /// Moves copies along to now.
    pub fn tick(&mut self) {
        self.state.advance(now_ms());
    }

    /// Remembers a signature nonce; false when it was seen within the window.
    pub fn fresh_nonce(&mut self, nonce: &str) -> bool {
        let now = now_ms();
        while let Some((t, _)) = self.nonces.order.front() {
            if now.saturating_sub(*t) <= NONCE_WINDOW_MS && self.nonces.order.len() < MAX_NONCES {
                break;
            }
            if let Some((_, old)) = self.nonces.order.pop_front() {
                self.nonces.seen.remove(&old);
            }
        }
        if !self.nonces.seen.insert(nonce.to_string()) {
            return false;
        }
        self.nonces.order.push_back((now, nonce.to_string()));
        true
    }

    /// The account of that name, created with fresh keys when missing.
    pub fn ensure_account(&mut self, name: &str) -> Result<Account, ApiError> {
        if let Some(a) = self.state.accounts.get(name) {
            return Ok(a.clone());
        }
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            && name != model::MARKETPLACE_OWNER;
        if !valid {
            return Err(ApiError::invalid(
                "InvalidParameter.AccountName",
                format!("account name {name:?} must be 1-64 letters, digits, '_', '-' or '.'"),
            ));
        }
        let account = Account {
            name: name.to_string(),
            account_id: model::account_id_for(name),
            access_key_id: format!("LTAI{}", model::random_alnum(&mut self.rng, 20)),
            access_key_secret: model::random_alnum(&mut self.rng, 30),
        };
        self.commit(Event::Account {
            account: account.clone(),
        })?;
        Ok(account)
    }

    /// Seeds an `Available` image owned by `req.account`, shared as asked.
    pub fn create_image(&mut self, req: &CreateImage) -> Result<ImageView, ApiError> {
        check_region(&req.region)?;
        check_image_name(&req.name)?;
        if !(1..=65_536).contains(&req.size_gib) {
            return Err(ApiError::invalid(
                "InvalidParameter.Size",
                "size must be 1-65536 GiB",
            ));
        }
        let owner = self.ensure_account(&req.account)?;
        let mut share = BTreeSet::new();
        for name in &req.share_with {
            if *name != req.account {
                share.insert(self.ensure_account(name)?.account_id);
            }
        }
        let id = model::new_image_id(&mut self.rng);
        let image = Image {
            id: id.clone(),
            region: req.region.clone(),
            owner: owner.account_id,
            name: req.name.clone(),
            description: String::new(),
            size_gib: req.size_gib,
            status: Status::Available,
            created_ms: now_ms(),
            copy: None,
            shared_with: share,
            public: false,
            product_code: None,
            version: None,
        };
        self.commit(Event::Image { image })?;
        self.view(&id)
            .ok_or_else(|| ApiError::internal("seeded image vanished"))
    }

    /// One image for the admin API.
    pub fn view(&self, id: &str) -> Option<ImageView> {
        let img = self.state.images.get(id)?;
        let owner = if img.is_marketplace() {
            model::MARKETPLACE_OWNER.to_string()
        } else {
            self.state
                .account_name_by_id(&img.owner)
                .unwrap_or(&img.owner)
                .to_string()
        };
        Some(ImageView {
            image_id: img.id.clone(),
            region: img.region.clone(),
            owner,
            owner_account_id: img.owner.clone(),
            name: img.name.clone(),
            size_gib: img.size_gib,
            status: img.status.as_str().to_string(),
            progress: img.progress(self.state.now_ms),
            shared_with: img.shared_with.iter().cloned().collect(),
            public: img.public,
            source_image_id: img.copy.as_ref().map(|c| c.source_image_id.clone()),
            product_code: img.product_code.clone(),
        })
    }

    /// Images matching a filter, by region then ID.
    pub fn list(&self, filter: &ImageFilter) -> Vec<ImageView> {
        let owner_id = filter.owner.as_deref().map(model::account_id_for);
        let mut out: Vec<ImageView> = self
            .state
            .images
            .values()
            .filter(|img| filter.marketplace || !img.is_marketplace())
            .filter(|img| filter.region.as_ref().is_none_or(|r| *r == img.region))
            .filter(|img| owner_id.as_ref().is_none_or(|o| *o == img.owner))
            .filter_map(|img| self.view(&img.id))
            .collect();
        out.sort_by(|a, b| (&a.region, &a.image_id).cmp(&(&b.region, &b.image_id)));
        out
    }

    /// Draws true with probability `rate`.
    pub fn draw(&mut self, rate: f64) -> bool {
        rate > 0.0 && self.rng.random::<f64>() < rate
    }
}

/// The ECS actions the sim answers (and whose calls [`Faults::action_errors`] can fail).
pub const ACTIONS: &[&str] = &[
    "CopyImage",
    "DescribeImages",
    "ModifyImageSharePermission",
    "DescribeImageSharePermission",
    "DeleteImage",
    "CancelCopyImage",
    "DescribeRegions",
];

/// Rates within 0–1, known regions, known actions with a non-empty error code.
pub fn check_faults(f: &Faults) -> Result<(), ApiError> {
    for (name, rate) in [
        ("failure_rate", f.failure_rate),
        ("throttle_rate", f.throttle_rate),
    ] {
        if !(0.0..=1.0).contains(&rate) {
            return Err(ApiError::invalid(
                "InvalidParameter",
                format!("{name} must be between 0 and 1"),
            ));
        }
    }
    for r in &f.down_regions {
        check_region(r)?;
    }
    for (action, code) in &f.action_errors {
        if !ACTIONS.contains(&action.as_str()) {
            return Err(ApiError::invalid(
                "InvalidParameter",
                format!(
                    "action_errors: unknown action {action:?}; known: {}",
                    ACTIONS.join(", ")
                ),
            ));
        }
        if code.trim().is_empty() {
            return Err(ApiError::invalid(
                "InvalidParameter",
                format!("action_errors: the error code for {action} is empty"),
            ));
        }
    }
    Ok(())
}

/// The error an injected `code` answers with, with the HTTP status ECS gives that code.
pub fn injected_error(action: &str, code: &str) -> ApiError {
    let status = if code.starts_with("ServiceUnavailable") {
        503
    } else if code.starts_with("InternalError") {
        500
    } else if code.contains("NotFound") {
        404
    } else if code.starts_with("Forbidden") {
        403
    } else {
        400
    };
    ApiError::new(
        status,
        code,
        format!("{action} failed with an injected {code} error."),
    )
}

/// Fails unless `region` is one of the sim's regions.
pub fn check_region(region: &str) -> Result<(), ApiError> {
    if imagenest_core::regions::find(region).is_none() {
        return Err(ApiError::new(
            404,
            "InvalidRegionId.NotFound",
            format!("The specified RegionId {region:?} does not exist."),
        ));
    }
    Ok(())
}

/// Image names are 2-128 characters.
pub fn check_image_name(name: &str) -> Result<(), ApiError> {
    let n = name.chars().count();
    if !(2..=128).contains(&n) || name.starts_with("http://") || name.starts_with("https://") {
        return Err(ApiError::invalid(
            "InvalidImageName.Malformed",
            "The image name must be 2-128 characters and must not start with http:// or https://.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults() -> Faults {
        Faults {
            throttle_rate: 0.5,
            down_regions: ["eu-west-1".to_string()].into(),
            action_errors: [(
                "ModifyImageSharePermission".to_string(),
                "Throttling".to_string(),
            )]
            .into(),
            ..Faults::default()
        }
    }

    #[test]
    fn faults_survive_a_restart_and_start_settings_override_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = SimConfig::new(dir.path());
        config.faults = Some(faults());
        let mut sim = Sim::open(&config).unwrap();
        assert_eq!(*sim.faults(), faults());
        sim.close();

        // No start settings: the saved faults apply (from the compacted snapshot, too).
        for _ in 0..2 {
            let mut sim = Sim::open(&SimConfig::new(dir.path())).unwrap();
            assert_eq!(*sim.faults(), faults());
            sim.close();
        }

        // Changed at run time: saved as an event.
        let mut sim = Sim::open(&SimConfig::new(dir.path())).unwrap();
        let latency = Faults {
            latency_ms: 5,
            ..Faults::default()
        };
        sim.set_faults(latency.clone()).unwrap();
        sim.close();
        let mut sim = Sim::open(&SimConfig::new(dir.path())).unwrap();
        assert_eq!(*sim.faults(), latency);
        sim.close();

        // Start settings replace the saved ones.
        config.faults = Some(Faults::default());
        let mut sim = Sim::open(&config).unwrap();
        assert_eq!(*sim.faults(), Faults::default());
        sim.close();
        let sim = Sim::open(&SimConfig::new(dir.path())).unwrap();
        assert_eq!(*sim.faults(), Faults::default());
    }

    #[test]
    fn bad_fault_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut sim = Sim::open(&SimConfig::new(dir.path())).unwrap();
        for bad in [
            Faults {
                failure_rate: 1.5,
                ..Faults::default()
            },
            Faults {
                down_regions: ["mars-1".to_string()].into(),
                ..Faults::default()
            },
            Faults {
                action_errors: [("RunInstances".to_string(), "Throttling".to_string())].into(),
                ..Faults::default()
            },
            Faults {
                action_errors: [("CopyImage".to_string(), " ".to_string())].into(),
                ..Faults::default()
            },
        ] {
            assert!(sim.set_faults(bad.clone()).is_err(), "{bad:?}");
        }
        assert_eq!(*sim.faults(), Faults::default());
    }

    #[test]
    fn injected_errors_carry_the_status_ecs_gives_the_code() {
        for (code, status) in [
            ("Throttling", 400),
            ("ServiceUnavailable", 503),
            ("InternalError", 500),
            ("InvalidImageId.NotFound", 404),
            ("Forbidden.RAM", 403),
            ("QuotaExceed.ShareImageUser", 400),
        ] {
            let e = injected_error("ModifyImageSharePermission", code);
            assert_eq!((e.status, e.code.as_str()), (status, code));
        }
    }
}
