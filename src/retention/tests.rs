//! The checker against real local servers: plain HTTP with the run's headers and cookies, and
//! HTTPS with a self-signed certificate trusted the ways the browser trusts it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::*;

/// (path, status, content type): anything else is a 404.
type Routes = &'static [(&'static str, u16, &'static str)];

/// A one-request-a-connection HTTP/1.1 responder on 127.0.0.1, TLS when given a config; it
/// keeps every request head it read, and stops after 100 connections or when dropped.
struct Server {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(routes: Routes, tls: Option<TlsAcceptor>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = heads.clone();
    let task = tokio::spawn(async move {
        for _ in 0..100 {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (tls, kept) = (tls.clone(), kept.clone());
            tokio::spawn(tokio::time::timeout(Duration::from_secs(5), async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(tcp).await {
                            answer(stream, routes, &kept).await;
                        }
                    }
                    None => answer(tcp, routes, &kept).await,
                }
            }));
        }
    });
    Server { port, heads, task }
}

async fn answer<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    mut s: S,
    routes: Routes,
    kept: &Mutex<Vec<String>>,
) {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    kept.lock().unwrap().push(head);
    let (status, content_type) = routes
        .iter()
        .find(|(p, _, _)| *p == path)
        .map_or((404, "text/plain"), |(_, s, t)| (*s, *t));
    let response = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nX-App-Version: v2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
    let _ = s.write_all(response.as_bytes()).await;
    let _ = s.shutdown().await;
}

fn plan(trust: Trust) -> RetentionPlan {
    RetentionPlan {
        required: true,
        attempts: 3,
        time_limit: Duration::from_secs(10),
        request_timeout: Duration::from_secs(5),
        concurrency: 4,
        headers: vec![("Authorization".into(), "Basic Y2k6cw==".into())],
        cookies: vec![("session".into(), "abc".into())],
        cookie_hosts: vec!["127.0.0.1".into()],
        trust,
        host_map: Vec::new(),
        version_header: Some("X-App-Version".into()),
        after_signal: false,
        after_deploy: false,
    }
}

fn old(base: &str, assets: &[(&str, &str, &str)]) -> OldAssets {
    OldAssets {
        versions: vec!["v1".into()],
        assets: assets
            .iter()
            .map(|(path, kind, mime)| OldAsset {
                url: format!("{base}{path}"),
                resource_type: kind.to_string(),
                mime_type: Some(mime.to_string()),
                version: Some("v1".into()),
                needed_by: Vec::new(),
            })
            .collect(),
        dropped: 0,
    }
}

#[tokio::test]
async fn each_asset_is_asked_for_again_with_the_runs_headers_and_judged() {
    let server = serve(
        &[
            ("/a.js", 200, "text/javascript"),
            ("/b.css", 200, "text/html; charset=utf-8"),
        ],
        None,
    )
    .await;
    let base = format!("http://127.0.0.1:{}", server.port);
    let assets = old(
        &base,
        &[
            ("/a.js", "Script", "text/javascript"),
            ("/b.css", "Stylesheet", "text/css"),
            ("/c.js", "Script", "text/javascript"),
        ],
    );
    let r = check(&plan(Trust::System), assets, std::future::pending()).await;

    assert_eq!(r.served, [format!("{base}/a.js")]);
    assert_eq!(r.gone, [format!("{base}/b.css"), format!("{base}/c.js")]);
    assert_eq!(r.old_versions, ["v1"]);
    let b = &r.assets[1];
    assert_eq!((b.attempts, b.gone_attempts), (3, 3));
    assert_eq!(b.how.as_deref(), Some("200 text/html (SPA fallback page)"));
    assert_eq!(b.answered_by, ["v2"]);
    assert_eq!(r.assets[2].how.as_deref(), Some("404"));
    let heads = server.heads.lock().unwrap();
    assert_eq!(heads.len(), 9, "3 requests for each of 3 assets");
    for head in heads.iter() {
        let head = head.to_ascii_lowercase();
        assert!(head.contains("authorization: basic y2k6cw=="), "{head}");
        assert!(head.contains("cookie: session=abc"), "{head}");
        assert!(head.contains("cache-control: no-cache"), "{head}");
    }
}

#[tokio::test]
async fn no_answer_is_unchecked_and_a_signal_claims_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let assets = old(&base, &[("/a.js", "Script", "text/javascript")]);
    let r = check(&plan(Trust::System), assets.clone(), std::future::pending()).await;
    assert_eq!(r.unchecked, [format!("{base}/a.js")]);
    let how = r.assets[0].how.clone().unwrap();
    assert!(how.contains("refused"), "{how}");
    assert!(r.gone.is_empty() && r.served.is_empty());

    let r = check(&plan(Trust::System), assets, std::future::ready(())).await;
    assert_eq!(
        r.not_checked.as_deref(),
        Some("stopped by a signal during the check")
    );
    let r = check(
        &plan(Trust::System),
        OldAssets::default(),
        std::future::pending(),
    )
    .await;
    assert!(r.not_checked.unwrap().contains("no static asset"));
}

#[tokio::test]
async fn https_certificates_are_trusted_as_the_browser_trusted_them() {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let der = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let server = serve(
        &[("/a.js", 200, "text/javascript")],
        Some(TlsAcceptor::from(Arc::new(config))),
    )
    .await;
    let assets = old(
        &format!("https://127.0.0.1:{}", server.port),
        &[("/a.js", "Script", "text/javascript")],
    );
    let kept = |r: Retention| r.assets[0].kept;
    let spki = tls::spki_sha256(&der).unwrap();

    let system = check(&plan(Trust::System), assets.clone(), std::future::pending()).await;
    assert_eq!(system.assets[0].kept, Kept::Unchecked, "{system:?}");
    let how = system.assets[0].how.clone().unwrap();
    assert!(how.contains("certificate"), "{how}");
    let any = check(&plan(Trust::Any), assets.clone(), std::future::pending()).await;
    assert_eq!(kept(any), Kept::Served);
    let trusted = Trust::Spki(vec![spki]);
    let r = check(&plan(trusted), assets.clone(), std::future::pending()).await;
    assert_eq!(kept(r), Kept::Served);
    let other = Trust::Spki(vec!["AAAA".into()]);
    let r = check(&plan(other), assets, std::future::pending()).await;
    assert_eq!(kept(r), Kept::Unchecked);
}

#[tokio::test]
async fn resolve_sends_a_hosts_requests_to_its_address_with_its_name() {
    let server = serve(&[("/a.js", 200, "text/javascript")], None).await;
    let base = format!("http://staging.test:{}", server.port);
    let assets = old(&base, &[("/a.js", "Script", "text/javascript")]);
    let mut plan = plan(Trust::System);
    plan.host_map = vec![("staging.test".into(), ([127, 0, 0, 1], server.port).into())];
    let r = check(&plan, assets, std::future::pending()).await;
    assert_eq!(r.served, [format!("{base}/a.js")], "{:?}", r.assets);
    let heads = server.heads.lock().unwrap();
    let head = heads[0].to_ascii_lowercase();
    assert!(
        head.contains(&format!("host: staging.test:{}", server.port)),
        "{head}"
    );
}
