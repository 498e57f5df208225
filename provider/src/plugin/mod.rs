//! The go-plugin side of the provider process: environment check, unix socket,
//! automatic mTLS, handshake line on stdout, helper services, shutdown.

mod conn;
pub mod tls;

use crate::framework::{ProviderDef, Stop};
use crate::proto::plugin as ctl;
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::server::ProviderService;
use base64::Engine;
use conn::Conn;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

/// The cookie Terraform sets so a plugin knows it was started by Terraform.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
/// go-plugin's core protocol version and the Terraform plugin protocol we speak.
const CORE_PROTOCOL: u32 = 1;
const APP_PROTOCOL: u32 = 6;
/// How long a shutdown may wait for open connections before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error(
        "this binary is a Terraform plugin: it is started by `terraform`, not by hand.\n\
         Use it through a terraform configuration with `provider \"imagenest\" {{}}` \
         (see the provider documentation)."
    )]
    NotStartedByTerraform,
    #[error(
        "terraform offers plugin protocol versions {0:?}, but this provider speaks only 6 (Terraform 1.0 or newer)"
    )]
    ProtocolVersion(String),
    #[error("cannot listen on unix socket {path}: {source}")]
    Listen {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("writing the handshake to stdout: {0}")]
    Stdout(std::io::Error),
    #[error("gRPC server: {0}")]
    Serve(#[from] tonic::transport::Error),
}

/// Checks that Terraform started this process (magic cookie, protocol version 6).
pub fn check_environment() -> Result<(), PluginError> {
    if std::env::var(MAGIC_COOKIE_KEY).ok().as_deref() != Some(MAGIC_COOKIE_VALUE) {
        return Err(PluginError::NotStartedByTerraform);
    }
    if let Ok(versions) = std::env::var("PLUGIN_PROTOCOL_VERSIONS")
        && !versions
            .split(',')
            .any(|v| v.trim() == APP_PROTOCOL.to_string())
    {
        return Err(PluginError::ProtocolVersion(versions));
    }
    Ok(())
}

/// A socket path that removes itself.
struct SocketPath(PathBuf);

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn socket_path() -> PathBuf {
    let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!(
        "tf-imagenest-{}-{nanos:x}.sock",
        std::process::id()
    ))
}

/// Serves the imagenest provider on a runtime of its own until Terraform shuts it down: the body
/// of every binary that Terraform starts as this provider. `program` names it in errors.
pub fn serve_blocking(program: &str) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{program}: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(crate::provider::ImagenestProvider)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

/// Serves the provider until Terraform calls GRPCController/Shutdown.
///
/// Prints exactly one line on stdout, the go-plugin handshake, and nothing else.
pub async fn serve<P: ProviderDef>(def: P) -> Result<(), PluginError> {
    let parent = std::os::unix::process::parent_id();
    ignore_sigint();
    let tls = match std::env::var("PLUGIN_CLIENT_CERT") {
        Ok(pem) if !pem.trim().is_empty() => Some(tls::server_tls(&pem)?),
        _ => None,
    };
    let path = socket_path();
    let listener = UnixListener::bind(&path).map_err(|source| PluginError::Listen {
        path: path.clone(),
        source,
    })?;
    let _cleanup = SocketPath(path.clone());

    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let incoming = accept_loop(
        listener,
        tls.as_ref()
            .map(|t| tokio_rustls::TlsAcceptor::from(t.config.clone())),
    );

    let stop = Stop::default();
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let provider = ProviderServer::new(ProviderService::new(def, stop.clone()))
        .max_decoding_message_size(256 << 20)
        .max_encoding_message_size(256 << 20);
    let controller = ctl::grpc_controller_server::GrpcControllerServer::new(Controller {
        shutdown: shutdown_tx,
        stop,
    });

    write_handshake(&path, tls.as_ref().map(|t| t.cert_der.as_slice()))?;

    let mut signal = shutdown_rx.clone();
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(controller)
        .add_service(provider)
        .serve_with_incoming_shutdown(incoming, async move {
            let _ = signal.wait_for(|v| *v).await;
        });
    let mut grace = shutdown_rx;
    tokio::select! {
        r = server => r?,
        _ = async { let _ = grace.wait_for(|v| *v).await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
            tracing::debug!("connections still open after shutdown; exiting anyway");
        }
        _ = parent_gone(parent) => {
            tracing::debug!("terraform is gone without a shutdown call; exiting");
        }
    }
    Ok(())
}

/// Resolves when the process that started the provider has ended. Terraform stops its
/// providers when it ends, but when it is killed itself (SIGKILL, a cancelled CI job) nobody
/// does: the provider then exits within a second and removes its socket.
///
/// `parent` is read before the handshake is written: read later, a Terraform killed right after
/// the handshake would already have been replaced by the process that adopted the provider.
async fn parent_gone(parent: u32) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if std::os::unix::process::parent_id() != parent {
            return;
        }
    }
}

fn write_handshake(path: &Path, cert_der: Option<&[u8]>) -> Result<(), PluginError> {
    let mut line = format!(
        "{CORE_PROTOCOL}|{APP_PROTOCOL}|unix|{}|grpc",
        path.display()
    );
    if let Some(der) = cert_der {
        line.push('|');
        line.push_str(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(der));
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .map_err(PluginError::Stdout)
}

fn accept_loop(
    listener: UnixListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> ReceiverStream<std::io::Result<Conn>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let sock = match listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let tx = tx.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let conn = match tls {
                    None => Conn::Plain(sock),
                    Some(acceptor) => match acceptor.accept(sock).await {
                        Ok(s) => Conn::Tls(Box::new(s)),
                        Err(e) => {
                            tracing::warn!(error = %e, "TLS handshake with a plugin client failed");
                            return;
                        }
                    },
                };
                let _ = tx.send(Ok(conn)).await;
            });
        }
    });
    ReceiverStream::new(rx)
}

/// Terraform forwards Ctrl-C as StopProvider; the process itself must survive SIGINT.
fn ignore_sigint() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) {
        Ok(mut sig) => {
            tokio::spawn(async move {
                while sig.recv().await.is_some() {
                    tracing::debug!("SIGINT ignored; waiting for StopProvider");
                }
            });
        }
        Err(e) => tracing::warn!(error = %e, "cannot install the SIGINT handler"),
    }
}

/// go-plugin's controller: Shutdown ends the process.
struct Controller {
    shutdown: watch::Sender<bool>,
    stop: Stop,
}

#[tonic::async_trait]
impl ctl::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _: tonic::Request<ctl::Empty>,
    ) -> Result<tonic::Response<ctl::Empty>, tonic::Status> {
        tracing::debug!("GRPCController/Shutdown");
        self.stop.trigger();
        let _ = self.shutdown.send(true);
        Ok(tonic::Response::new(ctl::Empty {}))
    }
}
