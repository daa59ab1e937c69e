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

/// A TLS configuration that accepts the certificates the browser accepted.
pub fn config(trust: &Trust) -> Result<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let system = || {
        rustls_platform_verifier::Verifier::new(provider.clone())
            .context("loading the system's trusted certificates")
    };
    let verifier: Arc<dyn ServerCertVerifier> = match trust {
        Trust::System => Arc::new(system()?),
        Trust::Any | Trust::Spki(_) => Arc::new(Lenient {
            system: match trust {
                Trust::Spki(_) => Some(system()?),
                _ => None,
            },
            spki: match trust {
                Trust::Spki(hashes) => hashes.clone(),
                _ => Vec::new(),
            },
            provider: provider.clone(),
        }),
    };
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// `--insecure` (no `system`: anything goes) or `--trust-cert` (the system's verdict, else a
/// trusted public key anywhere in the chain).
#[derive(Debug)]
struct Lenient {
    system: Option<rustls_platform_verifier::Verifier>,
    spki: Vec<String>,
    provider: Arc<CryptoProvider>,
}

/// SHA-256 of a certificate's DER SubjectPublicKeyInfo, base64: how `--trust-cert` names keys.
pub(super) fn spki_sha256(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(Sha256::digest(parsed.public_key().raw)))
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(system) = &self.system else {
            return Ok(ServerCertVerified::assertion());
        };
        let refused = match system.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(ok) => return Ok(ok),
            Err(e) => e,
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
