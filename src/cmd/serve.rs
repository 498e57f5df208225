//! `imagenest serve`: run the registry (SQLite in the data dir by default, or PostgreSQL).

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use anyhow::Context;
use imagenest_registry::{AppState, RegistryConfig, TlsFiles, auth, store::NewAccountToken, store::Store};

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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::init_tracing();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: Args) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let store = match &args.database_url {
        Some(url) => Store::open(url).await.context("cannot open the PostgreSQL database given by --database-url")?,
        None => {
            let path = args.data_dir.join("imagenest.db");
            Store::open_sqlite(&path).await.with_context(|| format!("cannot open the SQLite database {}", path.display()))?
        }
    };
    bootstrap_admin(&store, &args.data_dir).await?;
    let listener = tokio::net::TcpListener::bind(args.listen).await.with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let tls = args.tls_cert.zip(args.tls_key).map(|(cert, key)| TlsFiles { cert, key });
    let scheme = if tls.is_some() { "https" } else { "http" };
    let endpoint = format!("{scheme}://{addr}");
    write_private(&args.data_dir.join("endpoint"), &endpoint, 0o644)?;
    tracing::info!(%endpoint, data_dir = %args.data_dir.display(), "registry listening");
    let state = AppState::new(store.clone(), RegistryConfig::default());
    imagenest_registry::serve(listener, tls, state, shutdown_signal()).await?;
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
