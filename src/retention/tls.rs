//! The retention client's certificate checks, the browser's [`Trust`] in rustls terms: what the
//! system trusts; any certificate (`--insecure`); or, with `--trust-cert`, what the system
//! trusts and also any chain holding a certificate whose public key is trusted — Chromium's
//! `ignore-certificate-errors-spki-list`, so a trusted key passes whatever its certificate's
//! dates and names, as it did for the browser. Handshake signatures are always verified.

use std::sync::Arc;

use anyhow::{Context, Result};
use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

use crate::browser::Trust;

/// A TLS configuration that accepts the certificates the browser accepted. A machine without
/// system certificates still checks plain-HTTP assets: its HTTPS ones come back unchecked.
pub fn config(trust: &Trust) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let system = || match rustls_platform_verifier::Verifier::new(provider.clone()) {
        Ok(v) => Base::System(v),
        Err(e) => Base::Unavailable(format!("no system certificates to check against: {e}")),
    };
    let (base, spki) = match trust {
        Trust::System => (system(), Vec::new()),
        Trust::Any => (Base::AnyCertificate, Vec::new()),
        Trust::Spki(hashes) => (system(), hashes.clone()),
    };
    let verifier = Arc::new(Verifier {
        base,
        spki,
        provider: provider.clone(),
    });
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// What a certificate is checked against before the trusted keys.
#[derive(Debug)]
enum Base {
    /// The system's trusted certificates.
    System(rustls_platform_verifier::Verifier),
    /// They could not be loaded: only a trusted key passes.
    Unavailable(String),
    /// `--insecure`.
    AnyCertificate,
}

/// The base's verdict, else (`--trust-cert`) a trusted public key anywhere in the chain.
#[derive(Debug)]
struct Verifier {
    base: Base,
    spki: Vec<String>,
    provider: Arc<CryptoProvider>,
}

/// SHA-256 of a certificate's DER SubjectPublicKeyInfo, base64: how `--trust-cert` names keys.
pub(super) fn spki_sha256(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(Sha256::digest(parsed.public_key().raw)))
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match &self.base {
            Base::AnyCertificate => return Ok(ServerCertVerified::assertion()),
            Base::Unavailable(why) => rustls::Error::General(why.clone()),
            Base::System(system) => match system.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Ok(ok) => return Ok(ok),
                Err(e) => e,
            },
        };
        let trusted = std::iter::once(end_entity)
            .chain(intermediates)
            .filter_map(spki_sha256)
            .any(|h| self.spki.contains(&h));
        if trusted {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(refused)
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
