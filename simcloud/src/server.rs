//! [`SimCloud`]: a running sim cloud in this process, and the handle that stops it.

use std::sync::Arc;

use imagenest_cloud::{AliCloud, AliCloudConfig, Credentials};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{Faults, SimConfig};
use crate::error::SimError;
use crate::http::{self, Shared};
use crate::info::SimInfo;
use crate::model::Account;
use crate::sim::{CreateImage, DELIVERY_ACCOUNT, ImageFilter, ImageView, Sim};

/// Makes accounts in a running sim cloud; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct SimAccounts(Arc<Shared>);

impl SimAccounts {
    /// The account of that name, created (and listed in `sim-cloud.json`) if it is new.
    pub fn ensure(&self, name: &str) -> Result<Account, SimError> {
        let mut sim = self.0.lock();
        let account = sim.ensure_account(name)?;
        self.0.refresh_info(&sim)?;
        Ok(account)
    }
}

/// A sim cloud serving on a listener. Dropping the handle (or [`SimCloud::shutdown`]) stops it
/// and releases its data directory at once, so another sim can open it.
#[derive(Debug)]
pub struct SimCloud {
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimCloud {
    /// Opens the state under `config.data_dir`, writes `sim-cloud.json` and serves on
    /// `listener` (bind it to `127.0.0.1:0` for a free port). Fails with
    /// [`SimError::Locked`] when another sim runs on the same data directory.
    pub async fn start(config: SimConfig, listener: TcpListener) -> Result<SimCloud, SimError> {
        let addr = listener.local_addr().map_err(|source| SimError::Io {
            path: "listener".into(),
            source,
        })?;
        let endpoint = format!("http://{addr}");
        let sim = Sim::open(&config)?;
        let shared = Arc::new(Shared::new(sim, endpoint.clone(), config.info_path()));
        {
            let sim = shared.lock();
            shared.refresh_info(&sim)?;
        }
        let (stop, stopped) = oneshot::channel::<()>();
        let router = http::app(shared.clone());
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "sim cloud server failed");
            }
        });
        tracing::info!(%endpoint, data_dir = %config.data_dir.display(), "sim cloud started");
        Ok(SimCloud {
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// Base URL of the ECS API (and the admin API under `/_sim/`).
    pub fn endpoint(&self) -> &str {
        &self.shared.endpoint
    }

    /// What `sim-cloud.json` holds.
    pub fn info(&self) -> SimInfo {
        let sim = self.shared.lock();
        self.shared.info(&sim)
    }

    /// The account of that name, created on demand.
    pub fn account(&self, name: &str) -> Result<Account, SimError> {
        let mut sim = self.shared.lock();
        let account = sim.ensure_account(name)?;
        self.shared.refresh_info(&sim)?;
        Ok(account)
    }

    /// A handle that makes accounts in this sim (for the registry's account hook).
    pub fn accounts(&self) -> SimAccounts {
        SimAccounts(self.shared.clone())
    }

    /// The delivery account.
    pub fn delivery(&self) -> Result<Account, SimError> {
        self.account(DELIVERY_ACCOUNT)
    }

    /// An `alicloud` driver signed in as `account` (created on demand) and pointed at this sim.
    pub fn driver(&self, account: &str) -> Result<AliCloud, SimError> {
        let a = self.account(account)?;
        let config = AliCloudConfig::new(Credentials::new(a.access_key_id, a.access_key_secret))
            .with_endpoint(self.endpoint());
        AliCloud::new(config).map_err(|e| SimError::Remote {
            endpoint: self.endpoint().to_string(),
            detail: e.to_string(),
        })
    }

    /// Seeds an `Available` image (see [`CreateImage`]).
    pub fn create_image(&self, req: &CreateImage) -> Result<ImageView, SimError> {
        let mut sim = self.shared.lock();
        let view = sim.create_image(req)?;
        self.shared.refresh_info(&sim)?;
        Ok(view)
    }

    /// Images matching `filter`, as of now.
    pub fn images(&self, filter: &ImageFilter) -> Vec<ImageView> {
        let mut sim = self.shared.lock();
        sim.tick();
        sim.list(filter)
    }

    /// One image, as of now.
    pub fn image(&self, image_id: &str) -> Option<ImageView> {
        let mut sim = self.shared.lock();
        sim.tick();
        sim.view(image_id)
    }

    /// Copies (running, waiting) in a region, as of now.
    pub fn queue_lengths(&self, region: &str) -> (usize, usize) {
        let mut sim = self.shared.lock();
        sim.tick();
        sim.state.queue_lengths(region)
    }

    /// The injected faults in force.
    pub fn faults(&self) -> Faults {
        self.shared.lock().faults().clone()
    }

    /// Changes the injected faults (rates must be within 0–1, regions and actions known) and
    /// saves them with the state, so a restarted sim keeps them.
    pub fn set_faults(&self, faults: Faults) -> Result<(), SimError> {
        self.shared.lock().set_faults(faults)?;
        Ok(())
    }

    /// Per region, the most copies ever in progress at once (running and waiting) in this
    /// sim's state; a client respecting the region limit keeps every value at or under 5.
    pub fn peak_copies_in_progress(&self) -> std::collections::BTreeMap<String, usize> {
        let mut sim = self.shared.lock();
        sim.tick();
        sim.state.peak_in_progress.clone()
    }

    /// Stops serving, releases the data directory and waits for the server to end.
    pub async fn shutdown(mut self) {
        self.stop_now();
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(std::time::Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }

    fn stop_now(&mut self) {
        self.shared.lock().close();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for SimCloud {
    fn drop(&mut self) {
        self.stop_now();
    }
}
