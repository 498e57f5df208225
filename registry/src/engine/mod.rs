//! The distribution engine: copies each published version's image through the delivery account
//! into every target region, keeps the copies' sharing in line with the permission rules, and
//! deletes copies of removed regions and deleted versions.
//!
//! All state lives in the store: a region copy row is the job. The engine claims rows under a
//! lease, records every step before and after it talks to the cloud, and uses the cloud's
//! idempotency token, so a registry killed at any moment resumes with no duplicate copy and no
//! lost region, and several registries on one PostgreSQL never work the same row at once.

mod backoff;
mod job;
pub mod sharing;
mod slots;

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::{Duration, Instant},
};

use imagenest_cloud::Driver;
use tokio::{
    sync::watch,
    task::{JoinHandle, JoinSet},
};

pub use sharing::CloudAccountFn;

use crate::{state::AppState, store::Backend};

/// How the engine paces itself. The defaults suit a real cloud; tests shorten them.
#[derive(Clone)]
pub struct EngineConfig {
    /// Unique per process: it owns the leases it takes.
    pub owner: String,
    /// How often to look for new work while busy.
    pub poll_interval: Duration,
    /// How often to look for new work while idle (API writes wake the engine at once).
    pub idle_interval: Duration,
    /// How long a claimed row stays ours without renewal; a dead registry's rows go to others after it.
    pub lease_ttl: Duration,
    /// Most rows claimed at once.
    pub claim_batch: i64,
    /// Most rows worked on at once (including those waiting for a region slot).
    pub max_in_flight: usize,
    /// Concurrent copies per region (Alibaba ECS allows 5).
    pub copies_per_region: usize,
    /// Failed cloud calls (throttling, transient errors) before a region is marked failed.
    pub max_attempts: i64,
    /// Copies that ended failed in the cloud before a region is marked failed.
    pub max_copy_failures: i64,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// How often a running copy's progress is read.
    pub copy_poll_interval: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            owner: format!("{}-{}", std::process::id(), crate::store::random_key(8)),
            poll_interval: Duration::from_millis(100),
            idle_interval: Duration::from_secs(1),
            lease_ttl: Duration::from_secs(15),
            claim_batch: 1000,
            max_in_flight: 4000,
            copies_per_region: imagenest_cloud::MAX_CONCURRENT_COPIES_PER_REGION,
            max_attempts: 6,
            max_copy_failures: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            copy_poll_interval: Duration::from_secs(1),
        }
    }
}

/// What the engine's tasks share.
pub(crate) struct Shared<D> {
    pub state: AppState,
    pub driver: Arc<D>,
    pub config: EngineConfig,
    regions: Mutex<HashMap<String, slots::Slots>>,
    in_flight: Mutex<HashSet<(String, String)>>,
    lease_clock: AtomicI64,
}

impl<D> Shared<D> {
    /// One of the region's copy slots; larger images get theirs first.
    pub async fn permit(&self, region: &str, priority: i64) -> slots::Slot {
        let slots = {
            let mut regions = self.regions.lock().unwrap_or_else(|e| e.into_inner());
            regions
                .entry(region.to_string())
                .or_insert_with(|| slots::Slots::new(self.config.copies_per_region))
                .clone()
        };
        slots.acquire(priority).await
    }

    /// A lease expiry stamp: now + TTL, strictly increasing, so each claim can find its rows.
    fn lease_stamp(&self) -> i64 {
        let want = now_ms() + self.config.lease_ttl.as_millis() as i64;
        let mut cur = self.lease_clock.load(Ordering::Acquire);
        loop {
            let next = want.max(cur + 1);
            match self
                .lease_clock
                .compare_exchange(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return next,
                Err(actual) => cur = actual,
            }
        }
    }

    pub fn owner(&self) -> &str {
        &self.config.owner
    }
}

/// Unix time in milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A running engine; dropping it (or `shutdown`) stops it. Work in progress is safe to abandon:
/// the next start (or another registry) picks it up from the store.
pub struct EngineHandle {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl EngineHandle {
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Starts the engine for the registry `state`, acting in the cloud through `driver`.
pub fn spawn<D: Driver + 'static>(
    state: AppState,
    driver: Arc<D>,
    config: EngineConfig,
) -> EngineHandle {
    let (stop, stop_rx) = watch::channel(false);
    let shared = Arc::new(Shared {
        state,
        driver,
        config,
        regions: Mutex::new(HashMap::new()),
        in_flight: Mutex::new(HashSet::new()),
        lease_clock: AtomicI64::new(0),
    });
    let task = tokio::spawn(run(shared, stop_rx));
    EngineHandle {
        stop,
        task: Some(task),
    }
}

async fn run<D: Driver + 'static>(sh: Arc<Shared<D>>, mut stop: watch::Receiver<bool>) {
    let store = sh.state.store.clone();
    if store.backend() == Backend::Sqlite {
        // One process owns a SQLite file: leases left by a previous run are void.
        if let Err(e) = store.release_all_leases().await {
            tracing::error!(error = %e, "cannot release old leases");
        }
    }
    tracing::info!(owner = %sh.config.owner, "distribution engine started");
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut last_renew = Instant::now();
    let wakeup = sh.state.engine_wakeup.clone();
    loop {
        if *stop.borrow() {
            break;
        }
        if last_renew.elapsed() >= sh.config.lease_ttl / 3 {
            if let Err(e) = store.renew_leases(&sh.config.owner, sh.lease_stamp()).await {
                tracing::warn!(error = %e, "cannot renew leases");
            }
            last_renew = Instant::now();
        }
        let room = sh.config.max_in_flight.saturating_sub(tasks.len()) as i64;
        let mut claimed = 0;
        if room > 0 {
            match store
                .claim_copies(
                    &sh.config.owner,
                    now_ms(),
                    sh.lease_stamp(),
                    room.min(sh.config.claim_batch),
                )
                .await
            {
                Ok(jobs) => {
                    let mut busy = Vec::new();
                    for job in jobs {
                        let key = (job.version_id.clone(), job.region.clone());
                        if sh
                            .in_flight
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(key.clone())
                        {
                            claimed += 1;
                            let sh = sh.clone();
                            tasks.spawn(async move {
                                job::handle(&sh, job).await;
                                sh.in_flight
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .remove(&key);
                            });
                        } else {
                            busy.push(key);
                        }
                    }
                    // Rows whose earlier task released them a moment ago but has not ended yet
                    // (or whose lease ran out while it worked): no task works this claim, and
                    // renewals would keep it ours forever. Give it back; a later claim works it.
                    if !busy.is_empty()
                        && let Err(e) = store.release_copies(&sh.config.owner, &busy).await
                    {
                        tracing::warn!(error = %e, "cannot give back region copies still in flight");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot claim region copies"),
            }
            match store
                .claim_cleanup(&sh.config.owner, now_ms(), sh.lease_stamp(), 100)
                .await
            {
                Ok(items) => {
                    for item in items {
                        claimed += 1;
                        let sh = sh.clone();
                        tasks.spawn(async move { job::cleanup(&sh, item).await });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot claim cleanup items"),
            }
        }
        let wait = if claimed > 0 || !tasks.is_empty() {
            sh.config.poll_interval
        } else {
            sh.config.idle_interval
        };
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = wakeup.notified() => break,
                _ = tokio::time::sleep_until(deadline) => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    tracing::info!("distribution engine stopped");
}
