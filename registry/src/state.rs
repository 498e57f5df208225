//! `AppState`: what every handler shares — the store, the configuration, caches and metrics.

use std::{ops::Deref, sync::Arc, time::Duration};

use imagenest_core::{
    Principal, api::RegionInfo, api::TokenKind, regions::ALIBABA_REGIONS, resolve::PackageFacts,
};

use crate::{
    auth,
    cache::{Cache, Generation},
    error::ApiError,
    metrics::Metrics,
    store::Store,
};

/// Settings of a registry instance.
#[derive(Clone)]
pub struct RegistryConfig {
    /// The regions the cloud offers (what `all` expands to).
    pub regions: Vec<RegionInfo>,
    /// How long a cached token check or resolution may be served (0 turns caching off).
    pub cache_ttl: Duration,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// How async ROS custom resource answers are uploaded to ROS's `ResponseURL`.
    pub ros_delivery: crate::api::ros::RosDelivery,
    /// The cloud account ID of a registry account that has none stored (the sim cloud derives
    /// one from the name; with a real cloud the name is taken as the ID).
    pub default_cloud_account: crate::engine::CloudAccountFn,
    /// Called with an account's name after a token for it is created (so an embedded sim cloud
    /// can make the account of the same name).
    pub on_account: Option<AccountHook>,
}

/// See [`RegistryConfig::on_account`].
pub type AccountHook = Arc<dyn Fn(&str) + Send + Sync>;

impl std::fmt::Debug for RegistryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryConfig")
            .field("regions", &self.regions.len())
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            regions: ALIBABA_REGIONS
                .iter()
                .map(|r| RegionInfo {
                    id: r.id.to_string(),
                    name: r.name.to_string(),
                })
                .collect(),
            cache_ttl: Duration::from_secs(1),
            body_limit: 1024 * 1024,
            ros_delivery: Default::default(),
            on_account: None,
            default_cloud_account: Arc::new(|name: &str| name.to_string()),
        }
    }
}

/// Key of a cached resolution: who asked, for what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResolveKey {
    pub caller: Principal,
    pub package: String,
    pub version: String,
    pub region: String,
}

/// The packages a resolve's package key may name, each with its resolution facts (which hold
/// its access).
pub type PackageReads = Arc<Vec<(imagenest_core::package::Package, PackageFacts)>>;

/// A cached answer: the status and the serialised body.
pub type CachedAnswer = (u16, bytes::Bytes);

pub struct Inner {
    pub store: Store,
    pub config: RegistryConfig,
    pub generation: Generation,
    pub metrics: Metrics,
    tokens: Cache<String, Option<(Principal, TokenKind)>>,
    pub resolutions: Cache<ResolveKey, CachedAnswer>,
    /// What the store says of the packages a resolve names, whoever asks: a miss in
    /// `resolutions` (a new caller, region or version) then costs no store read.
    pub package_facts: Cache<String, PackageReads>,
    /// Wakes the distribution engine after a write that may have created work.
    pub engine_wakeup: Arc<tokio::sync::Notify>,
}

/// Shared state of the registry; cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, config: RegistryConfig) -> Self {
        let ttl = config.cache_ttl;
        AppState(Arc::new(Inner {
            store,
            config,
            generation: Generation::default(),
            metrics: Metrics::default(),
            tokens: Cache::new(ttl),
            resolutions: Cache::new(ttl),
            package_facts: Cache::new(ttl),
            engine_wakeup: Arc::new(tokio::sync::Notify::new()),
        }))
    }

    /// Region IDs the cloud offers.
    pub fn region_ids(&self) -> Vec<String> {
        self.config.regions.iter().map(|r| r.id.clone()).collect()
    }

    /// Forgets every cached read; called after each write.
    pub fn invalidate(&self) {
        self.generation.bump();
    }

    /// Tells the engine there may be new work (region changes, retries, sharing changes).
    pub fn wake_engine(&self) {
        self.engine_wakeup.notify_one();
    }

    /// The principal and token kind of a token secret, if it is valid.
    pub async fn authenticate(
        &self,
        secret: &str,
    ) -> Result<Option<(Principal, TokenKind)>, ApiError> {
        let hash = auth::hash_secret(secret);
        let generation = self.generation.current();
        if let Some(hit) = self.tokens.get(&hash, generation) {
            return Ok(hit);
        }
        let found = self
            .store
            .token_owner(&hash)
            .await?
            .filter(|owner| auth::hashes_match(&owner.secret_hash, &hash))
            .map(|owner| (owner.principal, owner.kind));
        self.tokens.put(hash, generation, found.clone());
        Ok(found)
    }
}
