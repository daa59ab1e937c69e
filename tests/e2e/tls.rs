//! Certificates are checked like a browser checks them: an HTTPS site on 127.0.0.1 with a
//! self-signed certificate made at test time fails as `tls_error` by default, passes with
//! `--insecure` or with its certificate trusted (`--trust-cert`), and a subresource served
//! with another, untrusted certificate still fails.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::probe;

/// An HTTPS server on 127.0.0.1 with a fresh self-signed certificate for IP 127.0.0.1: a tiny
/// HTTP/1.1 responder, one request a connection. It stops by itself after a minute without a
/// connection or 200 connections, and when dropped.
struct HttpsSite {
    port: u16,
    cert_pem: String,
    task: JoinHandle<()>,
}

impl HttpsSite {
    /// Serves `routes` (path, content type, body); anything else is a 404.
    async fn start(routes: Routes) -> HttpsSite {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])
            .expect("a self-signed certificate");
        let cert_pem = certified.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(certified.cert.der().to_vec())],
                key,
            )
            .expect("a TLS server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes = Arc::new(routes);
        let task = tokio::spawn(async move {
            for _ in 0..200 {
                let Ok(Ok((tcp, _))) =
                    tokio::time::timeout(Duration::from_secs(60), listener.accept()).await
                else {
                    return;
                };
                let (acceptor, routes) = (acceptor.clone(), routes.clone());
                tokio::spawn(tokio::time::timeout(Duration::from_secs(10), async move {
                    // A browser that refuses the certificate ends the handshake here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&request);
                    let path = head.split_whitespace().nth(1).unwrap_or("/");
                    let (status, content_type, body) = routes
                        .iter()
                        .find(|(p, _, _)| *p == path)
                        .map_or(("404 Not Found", "text/plain", "not found"), |(_, t, b)| {
                            ("200 OK", *t, b.as_str())
                        });
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }));
            }
        });
        HttpsSite {
            port,
            cert_pem,
            task,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    /// Its certificate as a PEM file in `dir`.
    fn cert_file(&self, dir: &tempfile::TempDir, name: &str) -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, &self.cert_pem).unwrap();
        path
    }
}

impl Drop for HttpsSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Routes = Vec<(&'static str, &'static str, String)>;

/// The script of the page: it sets the text the page shows.
fn script() -> Routes {
    vec![(
        "/app.js",
        "text/javascript",
        r#"addEventListener("DOMContentLoaded", () => { document.getElementById("app").textContent = "ready"; });"#
            .to_string(),
    )]
}

/// A page loading its script from `script_url`, and the script.
fn page(script_url: &str) -> Routes {
    let mut routes = vec![(
        "/",
        "text/html",
        format!(
            r#"<!doctype html><html><head><script src="{script_url}"></script></head><body><p id="app">loading</p></body></html>"#
        ),
    )];
    routes.extend(script());
    routes
}

/// The page and its script on one self-signed site.
async fn self_signed_site() -> HttpsSite {
    HttpsSite::start(page("/app.js")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_site_fails_as_a_tls_error_by_default() {
    let site = self_signed_site().await;
    let run = probe(&site.url("/"), &["--loads", "2"]).await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.classes(), vec!["tls_error"], "{:?}", run.failures());
    let failures = run.failures();
    assert_eq!(failures.len(), 2, "one per load: {failures:?}");
    for (class, url, how) in &failures {
        assert_eq!(
            (class.as_str(), url.as_str(), how.as_str()),
            (
                "tls_error",
                site.url("/").as_str(),
                "net::ERR_CERT_AUTHORITY_INVALID"
            )
        );
    }
    let message = run.json()["failures"][0]["message"].as_str().unwrap();
    assert!(
        message.contains(&site.url("/")) && message.contains("net::ERR_CERT_AUTHORITY_INVALID"),
        "{message}"
    );
    assert!(
        run.json()["settings"].get("certificates").is_none(),
        "checked like a browser, the default"
    );
    assert!(!run.stdout.contains("certs "), "{}", run.stdout);
    let question = run.junit_suites()[0]
        .cases
        .iter()
        .find(|c| c.name == "no certificate errors")
        .map(|c| c.problem.is_some());
    assert_eq!(question, Some(true), "the JUnit question failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_accepts_the_self_signed_site() {
    let site = self_signed_site().await;
    let run = probe(&site.url("/"), &["--loads", "2", "--insecure"]).await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    for load in run.json()["loads"].as_array().unwrap() {
        assert_eq!(load["requests"], 2, "the page and its script: {load}");
    }
    assert_eq!(run.json()["settings"]["certificates"], "insecure");
    assert!(
        run.stdout
            .contains("certs     NOT checked: any certificate was accepted"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_certificate_passes_without_insecure() {
    let site = self_signed_site().await;
    let dir = tempfile::tempdir().unwrap();
    let cert = site.cert_file(&dir, "cert.pem");
    let run = probe(
        &site.url("/"),
        &["--loads", "2", "--trust-cert", cert.to_str().unwrap()],
    )
    .await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    let settings = &run.json()["settings"];
    assert_eq!(settings["certificates"], "trusted");
    let trusted = settings["trusted_certs"][0].as_str().unwrap();
    assert!(
        trusted.starts_with(&format!("{}: ", cert.display())) && trusted.contains("spki sha256/"),
        "{trusted}"
    );
    assert!(
        run.stdout
            .contains("certs     checked, also trusting 1 certificate"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subresource_with_an_untrusted_certificate_is_a_tls_error() {
    // The script lives on a second HTTPS server with a certificate of its own, not trusted.
    let cdn = HttpsSite::start(script()).await;
    let script = cdn.url("/app.js");
    let site = HttpsSite::start(page(&script)).await;
    let dir = tempfile::tempdir().unwrap();
    let cert = site.cert_file(&dir, "site.pem");
    let run = probe(
        &site.url("/"),
        &["--loads", "2", "--trust-cert", cert.to_str().unwrap()],
    )
    .await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.classes(), vec!["tls_error"], "{:?}", run.failures());
    let failures = run.failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    for (class, url, how) in &failures {
        assert_eq!(
            (class.as_str(), url.as_str(), how.as_str()),
            (
                "tls_error",
                script.as_str(),
                "net::ERR_CERT_AUTHORITY_INVALID"
            ),
            "the script, not the trusted page"
        );
    }
    let message = run.json()["failures"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("Script {script} failed")),
        "{message}"
    );
    assert!(
        run.stdout.contains(&format!(
            "tls_error     net::ERR_CERT_AUTHORITY_INVALID {script}"
        )),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn a_trust_cert_file_that_is_not_a_certificate_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notacert.txt");
    std::fs::write(&file, "hello, not a certificate\n").unwrap();
    // Nothing listens there: the check comes before any browser or request.
    let run = probe(
        "https://127.0.0.1:1234/",
        &["--trust-cert", file.to_str().unwrap()],
    )
    .await;

    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "--trust-cert (`[request] trust_cert`) {}: no PEM certificate",
            file.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.json.is_none(), "no run, no report");
}
