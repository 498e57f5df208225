//! The provider binary speaks go-plugin like Terraform expects: cookie check, handshake
//! line, mTLS that accepts only the client certificate it was given, Shutdown, SIGINT.

use imagenest_provider::proto::plugin::Empty;
use imagenest_provider::proto::plugin::grpc_controller_client::GrpcControllerClient;
use imagenest_provider::proto::tfplugin6::get_provider_schema;
use imagenest_provider::proto::tfplugin6::provider_client::ProviderClient;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_terraform-provider-imagenest");
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A client certificate like Terraform's: self-signed ECDSA P-521 / SHA-512, CA:TRUE.
fn terraform_like_cert() -> (String, Vec<u8>, Vec<u8>) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), cert.der().to_vec(), key.serialize_der())
}

struct Plugin {
    child: Child,
    socket: String,
    server_cert: Vec<u8>,
}

impl Drop for Plugin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(client_pem: &str, dir: &std::path::Path) -> Plugin {
    let mut child = Command::new(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .env("PLUGIN_UNIX_SOCKET_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let parts: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(parts.len(), 6, "handshake line: {line:?}");
    assert_eq!(&parts[..3], &["1", "6", "unix"]);
    assert_eq!(parts[4], "grpc");
    use base64::Engine;
    let server_cert = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(parts[5])
        .unwrap();
    Plugin {
        child,
        socket: parts[3].to_string(),
        server_cert,
    }
}

#[derive(Debug)]
struct ExactServerCert(Vec<u8>, rustls::crypto::WebPkiSupportedAlgorithms);

impl ServerCertVerifier for ExactServerCert {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(
            end_entity.as_ref(),
            self.0.as_slice(),
            "server presented another certificate"
        );
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.1)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.1)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.1.supported_schemes()
    }
}

async fn channel(
    p: &Plugin,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    // aws-lc: the client signs with its P-521 key, which ring cannot.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(ExactServerCert(
        p.server_cert.clone(),
        provider.signature_verification_algorithms,
    ));
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_client_auth_cert(
            vec![CertificateDer::from(cert_der)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der)),
        )
        .unwrap();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(cfg));
    let socket = p.socket.clone();
    tonic::transport::Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, socket) = (connector.clone(), socket.clone());
            async move {
                let s = tokio::net::UnixStream::connect(socket).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), s)
                    .await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(tls))
            }
        }))
        .await
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

#[test]
fn refuses_to_run_by_hand() {
    let out = Command::new(BIN)
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may go to stdout");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Terraform plugin") && err.contains("terraform"),
        "{err}"
    );
}

#[test]
fn refuses_protocol_5_only() {
    let out = Command::new(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("protocol"));
}

#[tokio::test]
async fn serves_schema_over_mtls_and_shuts_down() {
    let dir = tempfile::tempdir().unwrap();
    let (pem, der, key) = terraform_like_cert();
    // How fast the handshake comes is measured by `cargo bench --bench terraform`, not here.
    let mut p = start(&pem, dir.path());

    let ch = channel(&p, der, key)
        .await
        .expect("mTLS connection with the right client certificate");
    let mut client = ProviderClient::new(ch.clone());
    let schema = client
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    let provider = schema.provider.unwrap().block.unwrap();
    let names: Vec<&str> = provider
        .attributes
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert!(names.contains(&"endpoint") && names.contains(&"token"));
    assert!(
        provider
            .attributes
            .iter()
            .all(|a| !a.description.is_empty())
    );
    assert!(
        schema
            .server_capabilities
            .unwrap()
            .get_provider_schema_optional
    );

    // Ctrl-C reaches the whole process group; the provider must survive it.
    let pid = p.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let again = client
        .get_provider_schema(get_provider_schema::Request {})
        .await;
    assert!(again.is_ok(), "provider died on SIGINT");

    GrpcControllerClient::new(ch)
        .shutdown(Empty {})
        .await
        .unwrap();
    let status =
        wait_exit(&mut p.child, Duration::from_secs(5)).expect("provider exits after Shutdown");
    assert!(status.success());
    let mut rest = String::new();
    p.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut rest)
        .unwrap();
    assert!(rest.is_empty(), "stdout after the handshake: {rest:?}");
    assert!(
        !std::path::Path::new(&p.socket).exists(),
        "socket file left behind"
    );
}

#[tokio::test]
async fn rejects_any_other_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (pem, _, _) = terraform_like_cert();
    let (_, other_der, other_key) = terraform_like_cert();
    let p = start(&pem, dir.path());
    let result = match channel(&p, other_der, other_key).await {
        Err(_) => Err(()),
        Ok(ch) => ProviderClient::new(ch)
            .get_provider_schema(get_provider_schema::Request {})
            .await
            .map(|_| ())
            .map_err(|_| ()),
    };
    assert!(result.is_err(), "a foreign client certificate was accepted");
}

/// Terraform killed outright (SIGKILL) cannot stop its providers: the provider notices that its
/// parent is gone, exits on its own and removes its socket.
#[test]
fn exits_and_removes_its_socket_when_terraform_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    // `sh` stands in for terraform: it starts the provider, prints its pid, then becomes `sleep`.
    let mut parent = Command::new("sh")
        .arg("-c")
        .arg("\"$0\" & echo \"pid $!\"; exec sleep 600")
        .arg(BIN)
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(parent.stdout.take().unwrap());
    let (mut pid, mut socket) = (None, None);
    while pid.is_none() || socket.is_none() {
        let mut line = String::new();
        assert!(out.read_line(&mut line).unwrap() > 0, "no handshake");
        if let Some(p) = line.trim().strip_prefix("pid ") {
            pid = Some(p.parse::<u32>().unwrap());
        } else {
            socket = line.split('|').nth(3).map(std::path::PathBuf::from);
        }
    }
    let (pid, socket) = (pid.unwrap(), socket.unwrap());
    // Should the provider outlive the test after all, it must not outlive the test run.
    struct KillOnDrop(u32);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .args(["-9", &self.0.to_string()])
                .stderr(Stdio::null())
                .status();
        }
    }
    let _guard = KillOnDrop(pid);
    assert!(socket.exists(), "{}", socket.display());
    parent.kill().unwrap();
    parent.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while imagenest_testkit::process::is_running(pid) || socket.exists() {
        assert!(
            Instant::now() < deadline,
            "the provider (pid {pid}) outlived terraform, or left {}",
            socket.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
