//! Automatic mTLS as go-plugin does it: a fresh self-signed server certificate per
//! start, and a client verifier that accepts exactly the certificate Terraform passed
//! in `PLUGIN_CLIENT_CERT`.
//!
//! Terraform's client certificate is a self-signed ECDSA P-521 CA certificate, which
//! webpki refuses as an end-entity certificate; so instead of a CA root we compare the
//! DER bytes and check the handshake signatures with rustls' own functions, using
//! aws-lc-rs' algorithms (ring has no P-521). Everything else (key exchange, signing,
//! randomness) uses ring: aws-lc seeds its random generator with jitter entropy, which
//! cost about 20 ms of every provider start.

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, Error, ServerConfig,
    SignatureScheme,
};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("PLUGIN_CLIENT_CERT holds no PEM certificate: {0}")]
    ClientCert(String),
    #[error("cannot make the server certificate: {0}")]
    ServerCert(#[from] rcgen::Error),
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The server's TLS configuration and its certificate (DER) for the handshake line.
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    pub cert_der: Vec<u8>,
}

/// Builds the mTLS server configuration that trusts only `client_cert_pem`.
pub fn server_tls(client_cert_pem: &str) -> Result<ServerTls, TlsError> {
    let client_der = CertificateDer::from_pem_slice(client_cert_pem.as_bytes())
        .map_err(|e| TlsError::ClientCert(e.to_string()))?
        .into_owned();
    let provider = crypto_provider();
    // Verification only: no randomness is drawn from aws-lc.
    let verify_algs = verify_algorithms();

    let key = RingKey::generate()?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "imagenest");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    params.extended_key_usages = vec![
        rcgen::ExtendedKeyUsagePurpose::ServerAuth,
        rcgen::ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let cert = params.self_signed(&key)?;
    let cert_der = cert.der().to_vec();

    let verifier = Arc::new(ExactClientCert {
        expected: client_der,
        algs: verify_algs,
    });
    let mut config = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from(cert_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8)),
        )?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls {
        config: Arc::new(config),
        cert_der,
    })
}

/// The server's P-256 key, made and used with ring (rcgen only lays out the certificate).
struct RingKey {
    pair: ring::signature::EcdsaKeyPair,
    pkcs8: Vec<u8>,
    rng: ring::rand::SystemRandom,
}

impl RingKey {
    fn generate() -> Result<RingKey, rcgen::Error> {
        let alg = &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING;
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::EcdsaKeyPair::generate_pkcs8(alg, &rng)
            .map_err(|_| rcgen::Error::RingUnspecified)?;
        let pair = ring::signature::EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng)
            .map_err(|e| rcgen::Error::RingKeyRejected(e.to_string()))?;
        Ok(RingKey {
            pair,
            pkcs8: pkcs8.as_ref().to_vec(),
            rng,
        })
    }
}

impl rcgen::PublicKeyData for RingKey {
    fn der_bytes(&self) -> &[u8] {
        use ring::signature::KeyPair;
        self.pair.public_key().as_ref()
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for RingKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        self.pair
            .sign(&self.rng, msg)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| rcgen::Error::RingUnspecified)
    }
}

/// Accepts exactly one client certificate, compared byte for byte.
#[derive(Debug)]
struct ExactClientCert {
    expected: CertificateDer<'static>,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for ExactClientCert {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        if end_entity.as_ref() == self.expected.as_ref() {
            Ok(ClientCertVerified::assertion())
        } else {
            tracing::warn!("rejected a client certificate that is not Terraform's");
            Err(Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

/// The TLS crypto backend (ring); tests build their clients with it too.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Signature algorithms that include ECDSA P-521 (aws-lc-rs), for verifiers.
pub fn verify_algorithms() -> WebPkiSupportedAlgorithms {
    rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms
}
