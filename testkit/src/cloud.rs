//! A registry with its distribution engine running against an in-process sim cloud, paced for
//! tests (short polls, short backoff).

use std::{sync::Arc, time::Duration};

use imagenest_cloud::AliCloud;
use imagenest_registry::{
    RegistryConfig,
    engine::{self, EngineConfig, EngineHandle},
    store::Backend,
};
use imagenest_simcloud::{CopySpeed, CreateImage, Faults, SimCloud, SimConfig};

use crate::registry::TestRegistry;

/// Engine pacing for tests: everything in tens of milliseconds.
pub fn fast_engine() -> EngineConfig {
    EngineConfig {
        poll_interval: Duration::from_millis(20),
        idle_interval: Duration::from_millis(100),
        lease_ttl: Duration::from_secs(3),
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        copy_poll_interval: Duration::from_millis(20),
        max_attempts: 10,
        max_copy_failures: 10,
        ..EngineConfig::default()
    }
}

/// A registry, a sim cloud and an engine between them.
pub struct CloudRegistry {
    pub reg: TestRegistry,
    pub sim: SimCloud,
    pub engine: Option<EngineHandle>,
    _sim_dir: tempfile::TempDir,
}

impl CloudRegistry {
    /// Starts everything; the sim copies at `speed` with `faults`.
    pub async fn start(backend: Backend, speed: CopySpeed, faults: Faults) -> CloudRegistry {
        CloudRegistry::start_with(backend, speed, faults, fast_engine()).await
    }

    pub async fn start_with(
        backend: Backend,
        speed: CopySpeed,
        faults: Faults,
        engine_config: EngineConfig,
    ) -> CloudRegistry {
        let sim_dir = tempfile::tempdir().expect("temp dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let sim = SimCloud::start(
            SimConfig {
                data_dir: sim_dir.path().to_path_buf(),
                speed,
                faults: Some(faults),
                seed: Some(7),
            },
            listener,
        )
        .await
        .expect("start sim cloud");
        let config = RegistryConfig {
            default_cloud_account: Arc::new(|name: &str| imagenest_simcloud::account_id_for(name)),
            ..RegistryConfig::default()
        };
        let reg = TestRegistry::start_with(backend, config).await;
        let driver: Arc<AliCloud> = Arc::new(
            sim.driver(imagenest_simcloud::DELIVERY_ACCOUNT)
                .expect("delivery driver"),
        );
        let engine = engine::spawn(reg.state.clone(), driver, engine_config);
        CloudRegistry {
            reg,
            sim,
            engine: Some(engine),
            _sim_dir: sim_dir,
        }
    }

    /// Seeds a vendor image in the sim, shared with the delivery account; returns its ID.
    pub fn vendor_image(&self, account: &str, region: &str, name: &str, size_gib: u64) -> String {
        self.sim
            .create_image(&CreateImage {
                account: account.into(),
                region: region.into(),
                name: name.into(),
                size_gib,
                share_with: vec![imagenest_simcloud::DELIVERY_ACCOUNT.to_string()],
            })
            .expect("create vendor image")
            .image_id
    }
}
