//! `--tls-cert/--tls-key`: the registry serves HTTPS with the given certificate, and a missing
//! or broken file is a clear start-up error naming it.

use imagenest_registry::{AppState, RegistryConfig, ServeError, TlsFiles};
use imagenest_testkit::registry::open_store;

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();

    let store = open_store(imagenest_registry::store::Backend::Sqlite, dir.path()).await;
    let state = AppState::new(store, RegistryConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(imagenest_registry::serve(
        listener,
        Some(TlsFiles {
            cert: cert_path.clone(),
            key: key_path.clone(),
        }),
        state,
        async {
            let _ = rx.await;
        },
    ));

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .resolve("localhost", addr)
        .build()
        .unwrap();
    let res = client
        .get(format!("https://localhost:{}/healthz", addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Plain HTTP on the TLS port gets nowhere.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", addr.port()))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // A client that does not trust the certificate is refused.
    let untrusting = reqwest::Client::builder()
        .resolve("localhost", addr)
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("https://localhost:{}/healthz", addr.port()))
            .send()
            .await
            .is_err()
    );
    let _ = tx.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn unreadable_tls_files_fail_start_up_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(imagenest_registry::store::Backend::Sqlite, dir.path()).await;
    let state = AppState::new(store, RegistryConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let missing = dir.path().join("no-such-cert.pem");
    let err = imagenest_registry::serve(
        listener,
        Some(TlsFiles {
            cert: missing.clone(),
            key: missing.clone(),
        }),
        state,
        async {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ServeError::TlsFile { path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such-cert.pem"), "{err}");
}
