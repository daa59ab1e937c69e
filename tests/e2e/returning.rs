//! Users who come back with a browser that remembers (HTTP cache, service workers, storage),
//! on the Vite + Workbox PWA of tests/apps rolled out through the simulator in real Chromium.

use std::time::Duration;

use crate::deploy::deploy_script;
use crate::support::{Run, Sim, probe};
use rollprobe::sim::Mode;

const CHECK: &str = "users who come back still get a working app";

/// The PWA rolled out in `mode` by a deploy command, probed by one fresh user and two
/// returning users who come back every 500 ms.
async fn roll_pwa(mode: Mode) -> Run {
    let sim = Sim::new(mode)
        .app("vite-pwa")
        .rollout(Duration::from_secs(9))
        .auto_start(false)
        .after(Duration::from_secs(120))
        .max_lifetime(Duration::from_secs(180))
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 60, 0);
    let run = probe(
        &sim.url(),
        &[
            "--workers",
            "1",
            "--baseline",
            "5s",
            "--settle",
            "6s",
            "--version-header",
            "X-App-Version",
            "--returning-users",
            "2",
            "--returning-every",
            "500ms",
            "--",
            "bash",
            &script,
        ],
    )
    .await;
    sim.shutdown().await;
    run
}

fn phase<'a>(run: &'a Run, name: &str) -> &'a serde_json::Value {
    run.json()["returning_users"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phase"] == name)
        .unwrap_or_else(|| panic!("returning users in {name}: {}", run.stdout))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returning_users_of_a_shared_assets_rollout_keep_a_working_app() {
    let run = roll_pwa(Mode::SharedAssets).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let check = run.check(CHECK);
    assert_eq!(check["passed"], true, "{check}");
    // They came back after the rollout, and their browser remembered: the worker answered.
    let settle = phase(&run, "settle");
    assert!(settle["rounds"].as_u64().unwrap() >= 2, "{settle}");
    assert!(
        settle["from_service_worker"].as_u64().unwrap() >= 1,
        "{settle}"
    );
    assert_eq!(settle["failed"], 0, "{settle}");
    let baseline = phase(&run, "baseline");
    assert_eq!(baseline["openings"], 2, "{baseline}");
    assert!(
        run.stdout.contains("returning 2 returning users"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returning_users_of_a_fallback_rollout_meet_the_other_builds_answers() {
    let run = roll_pwa(Mode::SpaFallback).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let check = run.check(CHECK);
    assert_eq!(check["passed"], false, "{check}");
    let failures = run.json()["returning_users"]["failures"]
        .as_array()
        .unwrap();
    // The fallback's index.html where a script was: to the page, or to the worker's precache.
    assert!(
        failures
            .iter()
            .any(|f| f["class"] == "wrong_content" && f["status"] == 200),
        "{failures:?}"
    );
    assert!(
        failures.iter().all(|f| f["opened_on"] == "v1"),
        "they first came on v1: {failures:?}"
    );
    let html = std::fs::read_to_string(run.html()).unwrap();
    assert!(html.contains(r#"<section id="returning-users">"#));
    let failed = run.failed_junit_cases();
    assert!(failed.contains(&CHECK.to_string()), "{failed:?}");
}
