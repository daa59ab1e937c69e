//! What a CDN keeps: a 404 it cached while the rollout ran is served to everyone after it,
//! while the origin serves the file. The report must say so, and tell it from an origin that
//! lacks the file.

use std::time::Duration;

use crate::deploy::wrap;
use crate::support::Sim;
use rollprobe::sim::{App, Mode};

/// A deploy script that asks the CDN for v2's entry script as the deploy starts, before any
/// new pod serves (a preview link, a prefetch, the first page a new pod served), then rolls out
/// and waits: the CDN keeps the 404 a v1 pod gave for 3 minutes.
fn deploy_script(dir: &std::path::Path, ingress: u16, control: u16, asset: &str) -> String {
    let path = dir.join("deploy.sh");
    std::fs::write(
        &path,
        format!(
            r#"#!/usr/bin/env bash
exec 4<>/dev/tcp/127.0.0.1/{ingress}
printf 'GET {asset} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&4
read -r -t 5 got <&4 || exit 1
echo "asked early for the new entry script: $got"
exec 3<>/dev/tcp/127.0.0.1/{control}
printf 'POST /rollout?wait=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' >&3
read -r -t 30 status <&3 || exit 1
echo "rollout: $status"
"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_the_cdn_kept_during_the_rollout_is_reported_as_kept_while_the_origin_serves_it() {
    let sim = Sim::new(Mode::Naive)
        .cdn()
        .rollout(Duration::from_secs(6))
        .auto_start(false)
        .after(Duration::from_secs(120))
        .max_lifetime(Duration::from_secs(180))
        .start()
        .await;
    let entry = App::demo().build("v2").assets[0].path.clone();
    let port = |url: &str| url::Url::parse(url).unwrap().port().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(
        dir.path(),
        port(&sim.url()),
        port(&sim.control_url()),
        &entry,
    );
    let run = wrap(&sim, &script, "6s", &[]).await;
    sim.shutdown().await;
    let said = format!("{}\n{}", run.stdout, run.stderr);

    assert_eq!(run.code, 1, "{said}");
    let url = format!("{}{}", sim_origin(&run), entry.trim_start_matches('/'));
    let settle: Vec<&serde_json::Value> = run.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["phase"] == "settle" && f["url"] == url.as_str())
        .collect();
    let first = settle
        .first()
        .unwrap_or_else(|| panic!("a settle failure at {url}: {said}"));
    assert_eq!(first["status"], 404, "{first}");
    assert_eq!(first["cache"]["x-cache"], "HIT", "{first}");
    let diagnosis = first["diagnosis"].as_str().unwrap();
    assert!(
        diagnosis.starts_with("kept by a cache (it answered 404 with Age ")
            && diagnosis.contains("past the cache the origin answers 200 from v2"),
        "{diagnosis}"
    );
    let past = &run.json()["retention"]["past_cache"];
    let fetched = past
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["url"] == url.as_str())
        .unwrap_or_else(|| panic!("{url} fetched past the cache: {past}"));
    assert_eq!(fetched["served"], true, "{fetched}");
    assert_eq!(fetched["version"], "v2", "{fetched}");
    let check = run.check("no failure kept by a cache");
    assert_eq!(check["passed"], false, "{check}");
    assert!(
        check["message"].as_str().unwrap().contains("404 with Age "),
        "{check}"
    );
    assert!(run.stdout.contains("no failure kept by a cache"), "{said}");
}

/// The start URL the run probed, which the simulator's assets hang off.
fn sim_origin(run: &crate::support::Run) -> String {
    run.json()["target"].as_str().unwrap().to_string()
}
