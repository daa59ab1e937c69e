//! Which server certificates a run accepts: checked like a browser (the default), any
//! (`--insecure`, `[request] insecure = true`), or also the `--trust-cert` files. Each trusted
//! certificate becomes the SHA-256 of its public key (the DER SubjectPublicKeyInfo, base64):
//! the form of Chromium's `ignore-certificate-errors-spki-list`. The files are read when the
//! plan is made, so one that is not a PEM certificate is a usage error before any browser
//! starts.

use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};
use x509_parser::pem::Pem;

use crate::browser::Trust;
use crate::config::{Config, Request};
use crate::error::UsageError;
use crate::model::Certificates;

/// The browser's trust and what the report says about it.
pub(super) struct CertPlan {
    pub(super) trust: Trust,
    pub(super) certificates: Certificates,
    /// Each trusted certificate, as the report names it.
    pub(super) trusted: Vec<String>,
}

/// From the merged settings, where `insecure` and `trust_cert` exclude each other (a flag of
/// one drops the file's other: `--trust-cert` narrows a file's `insecure = true`).
pub(super) fn resolve(request: &Request) -> Result<CertPlan, UsageError> {
    if request.insecure() {
        return Ok(CertPlan {
            trust: Trust::Any,
            certificates: Certificates::Insecure,
            trusted: Vec::new(),
        });
    }
    let files = request.trust_cert.as_deref().unwrap_or_default();
    if files.is_empty() {
        return Ok(CertPlan {
            trust: Trust::System,
            certificates: Certificates::Checked,
            trusted: Vec::new(),
        });
    }
    let mut hashes: Vec<String> = Vec::new();
    let mut trusted = Vec::new();
    for path in files {
        for cert in read(path)? {
            trusted.push(cert.describe());
            if !hashes.contains(&cert.spki_sha256) {
                hashes.push(cert.spki_sha256);
            }
        }
    }
    Ok(CertPlan {
        trust: Trust::Spki(hashes),
        certificates: Certificates::Trusted,
        trusted,
    })
}

/// One certificate of a `--trust-cert` file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TrustedCert {
    file: PathBuf,
    /// The subject's distinguished name, e.g. `CN=staging.example.com`.
    subject: String,
    /// SHA-256 of the DER SubjectPublicKeyInfo, base64 (standard alphabet, padded).
    spki_sha256: String,
}

impl TrustedCert {
    /// How the report names it: `staging.pem: CN=staging.example.com (spki sha256/BASE64)`.
    fn describe(&self) -> String {
        format!(
            "{}: {} (spki sha256/{})",
            self.file.display(),
            self.subject,
            self.spki_sha256
        )
    }
}

/// Every certificate of a PEM file (other PEM blocks, such as a key, are passed over). A file
/// that cannot be read, holds no certificate, or holds a broken one is a usage error naming it.
fn read(path: &Path) -> Result<Vec<TrustedCert>, UsageError> {
    let bytes = std::fs::read(path).map_err(|e| {
        UsageError(format!(
            "{} {}: cannot read it: {e}",
            Config::name("trust_cert"),
            path.display()
        ))
    })?;
    let not_a_cert = |why: String| {
        UsageError(format!(
            "{} {}: {why}. Give a PEM certificate file (-----BEGIN CERTIFICATE-----), \
             e.g. the server's certificate as `openssl s_client -connect HOST:443 </dev/null | \
             openssl x509 > cert.pem` writes it",
            Config::name("trust_cert"),
            path.display()
        ))
    };
    let mut certs = Vec::new();
    for (i, block) in Pem::iter_from_buffer(&bytes).enumerate() {
        let block =
            block.map_err(|e| not_a_cert(format!("PEM block {} is broken ({e})", i + 1)))?;
        if block.label != "CERTIFICATE" {
            continue;
        }
        let cert = block.parse_x509().map_err(|e| {
            not_a_cert(format!(
                "PEM block {} is not an X.509 certificate ({e})",
                i + 1
            ))
        })?;
        certs.push(TrustedCert {
            file: path.to_path_buf(),
            subject: cert.subject().to_string(),
            spki_sha256: base64::engine::general_purpose::STANDARD
                .encode(Sha256::digest(cert.public_key().raw)),
        });
    }
    if certs.is_empty() && x509_parser::parse_x509_certificate(&bytes).is_ok() {
        return Err(UsageError(format!(
            "{1} {0}: a DER certificate, not PEM: convert it with `openssl x509 -inform \
             der -in {0} -out {0}.pem` and give the .pem",
            path.display(),
            Config::name("trust_cert")
        )));
    }
    if certs.is_empty() {
        return Err(not_a_cert("no PEM certificate in it".to_string()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
    }

    // The expected hashes are openssl's, not ours:
    //   openssl x509 -in F -pubkey -noout | openssl pkey -pubin -outform der \
    //     | openssl dgst -sha256 -binary | base64
    const EC_SPKI: &str = "Krya48p++0j4X+k22s7psykfg4kCAm5iyjyWQdF+3AM=";
    const RSA_SPKI: &str = "fXGPe1Io2OmcM/FCm9Eowcp7T4Q5idkyWu4vq/TLAUQ=";

    #[test]
    fn the_spki_hash_is_the_one_openssl_computes() {
        let ec = read(&fixture("ec-self-signed.pem")).unwrap();
        assert_eq!(ec.len(), 1);
        assert_eq!(ec[0].spki_sha256, EC_SPKI);
        assert_eq!(ec[0].subject, "CN=localtest");
        let rsa = read(&fixture("rsa-self-signed.pem")).unwrap();
        assert_eq!(rsa[0].spki_sha256, RSA_SPKI);
        assert!(
            rsa[0].describe().ends_with(&format!(
                "rsa-self-signed.pem: O=rollprobe tests, CN=staging.example.test (spki sha256/{RSA_SPKI})"
            )),
            "{}",
            rsa[0].describe()
        );
    }

    #[test]
    fn a_file_holds_one_or_more_certificates_and_other_blocks_are_passed_over() {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.pem");
        let key =
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
        let text = [
            "# staging certificates\n",
            &std::fs::read_to_string(fixture("ec-self-signed.pem")).unwrap(),
            key,
            &std::fs::read_to_string(fixture("rsa-self-signed.pem")).unwrap(),
        ]
        .concat();
        std::fs::write(&bundle, text).unwrap();
        let hashes: Vec<String> = read(&bundle)
            .unwrap()
            .into_iter()
            .map(|c| c.spki_sha256)
            .collect();
        assert_eq!(hashes, [EC_SPKI, RSA_SPKI]);
    }

    #[test]
    fn what_is_not_a_pem_certificate_is_a_usage_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        };
        let text = write("notacert.txt", b"hello, I am not a certificate\n");
        let e = read(&text).unwrap_err().0;
        assert!(
            e.starts_with(&format!(
                "--trust-cert (`[request] trust_cert`) {}: no PEM certificate",
                text.display()
            )) && e.contains("BEGIN CERTIFICATE"),
            "{e}"
        );
        let key = write(
            "key.pem",
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        );
        assert!(read(&key).unwrap_err().0.contains("no PEM certificate"));
        let broken = write(
            "broken.pem",
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
        );
        let e = read(&broken).unwrap_err().0;
        assert!(
            e.contains("broken.pem: PEM block 1 is not an X.509 certificate"),
            "{e}"
        );
        let pem = std::fs::read_to_string(fixture("ec-self-signed.pem")).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        use base64::Engine;
        let der = write(
            "cert.der",
            &base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap(),
        );
        let e = read(&der).unwrap_err().0;
        assert!(e.contains("cert.der: a DER certificate, not PEM"), "{e}");
        let missing = dir.path().join("missing.pem");
        let e = read(&missing).unwrap_err().0;
        assert!(e.contains("missing.pem: cannot read it"), "{e}");
    }

    fn request(insecure: bool, trust_certs: Vec<PathBuf>) -> Request {
        Request {
            insecure: insecure.then_some(true),
            trust_cert: Some(trust_certs),
            ..Request::default()
        }
    }

    #[test]
    fn checked_by_default_insecure_or_trusting_the_given_certificates() {
        let plan = resolve(&Request::default()).unwrap();
        assert_eq!(
            (plan.trust, plan.certificates),
            (Trust::System, Certificates::Checked)
        );
        let plan = resolve(&request(true, Vec::new())).unwrap();
        assert_eq!(
            (plan.trust, plan.certificates),
            (Trust::Any, Certificates::Insecure)
        );
        let ec = fixture("ec-self-signed.pem");
        let plan = resolve(&request(false, vec![ec.clone(), ec.clone()])).unwrap();
        assert_eq!(
            plan.trust,
            Trust::Spki(vec![EC_SPKI.to_string()]),
            "once each"
        );
        assert_eq!(plan.certificates, Certificates::Trusted);
        assert_eq!(plan.trusted.len(), 2);

        let file =
            crate::config::parse(Path::new("s.toml"), "[request]\ninsecure = true\n").unwrap();
        let plan = resolve(&Config::default().over(file.clone()).request).unwrap();
        assert_eq!(plan.trust, Trust::Any, "the file's insecure = true");
        let flags = Config {
            request: request(false, vec![ec]),
            ..Config::default()
        };
        let plan = resolve(&flags.over(file).request).unwrap();
        assert_eq!(
            plan.trust,
            Trust::Spki(vec![EC_SPKI.to_string()]),
            "--trust-cert on the command line narrows the file's insecure"
        );
    }
}
