//! `--resolve HOST:PORT:ADDRESS`: probing an environment before its DNS points at it. The
//! browser (and the retention check) reach a local site on 127.0.0.1 under a name no DNS knows,
//! `staging.test`; the report's settings say so; a malformed entry is a usage error.

use crate::support::{probe, spa_routes};
use rollprobe::sim::Site;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_loads_a_host_name_from_the_address_given() {
    let site = Site::start(spa_routes()).await.unwrap();
    let port = crate::support::client::port_of(&site.url("/"));
    let url = format!("http://staging.test:{port}/");
    let pin = format!("staging.test:{port}:127.0.0.1");
    let run = probe(
        &url,
        &[
            "--loads",
            "2",
            "--workers",
            "1",
            "--check-retention",
            "--resolve",
            &pin,
        ],
    )
    .await;
    site.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["target"], url.as_str());
    assert_eq!(report["settings"]["resolve"], serde_json::json!([pin]));
    assert_eq!(report["summary"]["ok"], 2);
    // The loads received their assets under the name, and the retention check asked for them
    // again where the browser did.
    let retention = &report["retention"];
    assert!(
        !retention["served"].as_array().unwrap().is_empty(),
        "{retention}"
    );
    assert!(
        retention["served"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u.as_str().unwrap().starts_with(&url)),
        "{retention}"
    );
    assert!(
        retention["assets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kept"] == "served"),
        "{retention}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_resolve_is_a_usage_error() {
    // The last: an entry for the start URL's host on another port would leave the page to DNS.
    for entry in [
        "staging.test:8080",
        "staging.test:8080:nowhere",
        "staging.test:443:127.0.0.1",
    ] {
        let run = probe("http://staging.test:8080/", &["--resolve", entry]).await;
        assert_eq!(run.code, 2, "{entry}: {}", run.stderr);
        assert!(run.stderr.contains("--resolve"), "{}", run.stderr);
        assert!(run.json.is_none(), "no report for a usage error");
    }
}
