//! `imagenest serve`: run the registry (SQLite in the data dir by default, or PostgreSQL).

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context;
use imagenest_cloud::{AliCloud, Driver};
use imagenest_registry::{
    AppState, RegistryConfig, TlsFiles, auth,
    engine::{self, EngineConfig},
    store::{NewAccountToken, Store},
};
use imagenest_simcloud::{CopySpeed, SimCloud, SimConfig};

/// Which cloud the registry copies images in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Cloud {
    /// An embedded sim cloud with its state in the data dir (for demos and tests).
    Sim,
    /// Alibaba Cloud ECS, with ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET of the delivery account.
    Alicloud,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the `endpoint` file in the data dir says which).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Directory for the SQLite database, the admin token and the endpoint file.
    #[arg(long, default_value = ".imagenest")]
    data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…) to use instead of SQLite; replicas may share it.
    #[arg(long, env = "IMAGENEST_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// PEM certificate chain to serve HTTPS (with --tls-key).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The cloud to copy images in.
    #[arg(long, value_enum, default_value = "sim")]
    cloud: Cloud,
    /// ECS API endpoint override (`--cloud alicloud`), e.g. a sim cloud started with `imagenest sim-cloud serve`.
    #[arg(long)]
    cloud_endpoint: Option<String>,
    /// Copy speed of the embedded sim cloud in GiB/s (0 copies instantly).
    #[arg(long, default_value_t = 2.0)]
    sim_speed: f64,
    /// HTTP method used to upload asynchronous ROS custom resource answers to ROS's ResponseURL
    /// (ROS does not document it).
    #[arg(long, default_value = "POST", value_parser = ["POST", "PUT"])]
    ros_response_method: String,
    /// How long a token check or a resolution may be answered from this replica's cache, in
    /// milliseconds (0 turns the cache off). Other replicas see a change within this time.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    cache_ttl_ms: u64,
    /// How long this registry's claim on a distribution job lasts without renewal; another
    /// replica takes over a dead one's jobs after it.
    #[arg(long, default_value_t = 15, hide = true)]
    engine_lease_seconds: u64,
    /// How often the engine looks for work and polls copies, in milliseconds.
    #[arg(long, hide = true)]
    engine_poll_ms: Option<u64>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::init_tracing();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let store = match &args.database_url {
        Some(url) => Store::open(url)
            .await
            .context("cannot open the PostgreSQL database given by --database-url")?,
        None => {
            let path = args.data_dir.join("imagenest.db");
            Store::open_sqlite(&path)
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?
        }
    };
    bootstrap_admin(&store, &args.data_dir).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let tls = args
        .tls_cert
        .clone()
        .zip(args.tls_key.clone())
        .map(|(cert, key)| TlsFiles { cert, key });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let endpoint = format!("{scheme}://{addr}");

    let mut config = RegistryConfig {
        cache_ttl: Duration::from_millis(args.cache_ttl_ms),
        ..RegistryConfig::default()
    };
    config.ros_delivery.method = if args.ros_response_method == "PUT" {
        imagenest_registry::HttpMethod::PUT
    } else {
        imagenest_registry::HttpMethod::POST
    };
    let mut sim = None;
    let driver = match args.cloud {
        Cloud::Sim => {
            let speed = if args.sim_speed <= 0.0 { CopySpeed::Instant } else { CopySpeed::GibPerSec(args.sim_speed) };
            let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("cannot listen for the embedded sim cloud")?;
            let started = SimCloud::start(SimConfig { data_dir: args.data_dir.clone(), speed, faults: Default::default(), seed: None }, sim_listener)
                .await
                .with_context(|| format!("cannot start the embedded sim cloud in {}", args.data_dir.display()))?;
            tracing::info!(endpoint = %started.endpoint(), "embedded sim cloud running; credentials in sim-cloud.json");
            let driver = started.driver(imagenest_simcloud::DELIVERY_ACCOUNT).context("cannot sign in to the sim cloud as the delivery account")?;
            config.default_cloud_account = Arc::new(|name: &str| imagenest_simcloud::account_id_for(name));
            // A sim account for every registry account (same name), now and when one is added.
            let accounts = started.accounts();
            for name in store.account_names().await? {
                accounts.ensure(&name).with_context(|| format!("cannot create the sim cloud account `{name}`"))?;
            }
            config.on_account = Some(Arc::new(move |name: &str| {
                if let Err(e) = accounts.ensure(name) {
                    tracing::warn!(account = name, error = %e, "cannot create the sim cloud account");
                }
            }));
            sim = Some(started);
            driver
        }
        Cloud::Alicloud => AliCloud::from_env(args.cloud_endpoint.clone())
            .context("cannot configure the Alibaba Cloud driver: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET of the delivery account")?,
    };
    let regions = driver.list_regions().await.context("cannot list the cloud's regions (is the endpoint reachable and are the credentials right?)")?;
    config.regions = regions
        .into_iter()
        .map(|r| imagenest_core::api::RegionInfo {
            id: r.id,
            name: r.name,
        })
        .collect();
    config.regions.sort_by(|a, b| a.id.cmp(&b.id));

    let state = AppState::new(store.clone(), config);
    let mut engine_config = EngineConfig {
        lease_ttl: Duration::from_secs(args.engine_lease_seconds.max(1)),
        ..EngineConfig::default()
    };
    if let Some(ms) = args.engine_poll_ms {
        engine_config.poll_interval = Duration::from_millis(ms);
        engine_config.copy_poll_interval = Duration::from_millis(ms);
        engine_config.idle_interval = Duration::from_millis(ms.max(100));
        engine_config.backoff_base = Duration::from_millis(ms.max(10));
    }
    let engine = engine::spawn(state.clone(), Arc::new(driver), engine_config);

    write_private(&args.data_dir.join("endpoint"), &endpoint, 0o644)?;
    tracing::info!(%endpoint, data_dir = %args.data_dir.display(), "registry listening");
    imagenest_registry::serve(listener, tls, state, shutdown_signal()).await?;
    engine.shutdown().await;
    if let Some(sim) = sim {
        sim.shutdown().await;
    }
    store.close().await;
    tracing::info!("registry stopped");
    Ok(())
}

/// On the very first start (no accounts yet), creates the `admin` account and writes its token
/// to `<data-dir>/admin-token` (mode 0600).
async fn bootstrap_admin(store: &Store, data_dir: &std::path::Path) -> anyhow::Result<()> {
    if store.has_accounts().await? {
        return Ok(());
    }
    let secret = auth::new_secret();
    let path = data_dir.join("admin-token");
    store
        .create_token(NewAccountToken {
            account: "admin".into(),
            role: imagenest_core::Role::Admin,
            kind: Default::default(),
            cloud_account_id: None,
            description: "created by the first start of imagenest serve".into(),
            secret_hash: auth::hash_secret(&secret),
        })
        .await?;
    write_private(&path, &secret, 0o600)?;
    tracing::info!(path = %path.display(), "wrote the first admin token");
    Ok(())
}

/// Writes a file atomically (temporary file, then rename) with the given mode.
fn write_private(path: &std::path::Path, content: &str, mode: u32) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(content.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
