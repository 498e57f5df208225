//! Serving the router on a TCP listener, in plain HTTP or TLS, until a shutdown signal;
//! in-flight requests finish before `serve` returns.

use std::{future::Future, io, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio::{net::TcpListener, sync::mpsc};
use tokio_rustls::{TlsAcceptor, rustls, server::TlsStream};

use crate::{api::router, state::AppState};

/// PEM files of the server certificate chain and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read TLS file {path}: {message}")]
    TlsFile { path: PathBuf, message: String },
    #[error("invalid TLS configuration: {0}")]
    Tls(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Serves the registry API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsFiles>,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router(state);
    match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await?
        }
        Some(files) => {
            let acceptor = TlsAcceptor::from(Arc::new(tls_config(&files)?));
            let tls_listener = TlsListener::spawn(listener, acceptor)?;
            axum::serve(tls_listener, app)
                .with_graceful_shutdown(shutdown)
                .await?
        }
    }
    Ok(())
}

fn tls_config(files: &TlsFiles) -> Result<rustls::ServerConfig, ServeError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|it| it.collect())
        .map_err(|e| ServeError::TlsFile {
            path: files.cert.clone(),
            message: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(ServeError::TlsFile {
            path: files.cert.clone(),
            message: "no certificate in the file".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| ServeError::TlsFile {
        path: files.key.clone(),
        message: e.to_string(),
    })?;
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
        .map_err(|e| ServeError::Tls(e.to_string()))
}

/// Accepts TCP connections and completes TLS handshakes in their own tasks, so a slow client
/// never holds up others.
struct TlsListener {
    rx: mpsc::Receiver<(TlsStream<tokio::net::TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    fn spawn(listener: TcpListener, acceptor: TlsAcceptor) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (tcp, addr) = match listener.accept().await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let (acceptor, conn_tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    {
                        Ok(Ok(stream)) => {
                            let _ = conn_tx.send((stream, addr)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        Ok(TlsListener { rx, local })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(conn) => conn,
            // The accept task ended: no more connections will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
