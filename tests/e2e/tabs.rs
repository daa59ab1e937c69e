//! Users who had the app open: tabs opened during the baseline stay open across the deploy and
//! keep using the app, on the simulator's rollouts in real Chromium.

use crate::deploy::{deploy_script, simulator, wrap};
use crate::support::Run;
use rollprobe::sim::Mode;

fn tabs(run: &Run) -> &serde_json::Value {
    &run.json()["open_tabs"]
}

const CHECK: &str = "open tabs keep working across the deploy";

fn rounds_in(run: &Run, phase: &str) -> u64 {
    tabs(run)["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phase"] == phase)
        .map_or(0, |p| p["rounds"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_open_across_a_naive_rollout_lose_their_assets() {
    let sim = simulator(Mode::Naive, None).await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 60, 0);
    let run = wrap(&sim, &script, "8s", &["--open-tabs", "2"]).await;
    sim.shutdown().await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(rounds_in(&run, "settle") >= 1, "{}", tabs(&run));
    let failures = tabs(&run)["failures"].as_array().unwrap();
    let after = failures
        .iter()
        .find(|f| f["phase"] == "settle")
        .unwrap_or_else(|| panic!("a failed round after the old pods are gone: {}", tabs(&run)));
    assert_eq!(after["opened_on"], "v1", "{after}");
    assert_eq!(after["answered_by"], "v2", "{after}");
    assert_eq!(after["status"], 404, "{after}");
    assert!(
        after["url"].as_str().unwrap().contains("/assets/"),
        "{after}"
    );
    let check = run.check(CHECK);
    assert_eq!(check["passed"], false, "{check}");
    assert!(run.stdout.contains("opened on v1 at"), "{}", run.stdout);
    let html = std::fs::read_to_string(run.html()).unwrap();
    assert!(
        html.contains(r#"class="tab-failure""#),
        "the HTML report lists them"
    );
    let failed = run.failed_junit_cases();
    assert!(failed.contains(&CHECK.to_string()), "{failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_open_across_a_shared_assets_rollout_keep_working() {
    let sim = simulator(Mode::SharedAssets, None).await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 60, 0);
    let run = wrap(&sim, &script, "8s", &["--open-tabs", "2"]).await;
    sim.shutdown().await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        rounds_in(&run, "settle") >= 1,
        "{}\n{}",
        tabs(&run),
        run.stderr
    );
    assert!(tabs(&run)["failures"].as_array().unwrap().is_empty());
    assert_eq!(run.check(CHECK)["passed"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_clicking_to_a_lazy_route_after_the_rollout_gets_a_chunk_load_error() {
    let sim = simulator(Mode::Naive, None).await;
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("tabs.toml");
    std::fs::write(
        &scenario,
        // The route's chunk is imported once, on the first click: that round comes after the
        // rollout (5 s baseline, 6 s rollout), when no pod has v1's files any more.
        r##"[open_tabs]
count = 1
every = "14s"
[[open_tabs.step]]
click = "#open-reports"
"##,
    )
    .unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 60, 0);
    let scenario = scenario.display().to_string();
    // A long settle: the one round that matters must end before the run does.
    let run = wrap(&sim, &script, "16s", &["--scenario", &scenario]).await;
    sim.shutdown().await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let failures = tabs(&run)["failures"].as_array().unwrap();
    assert!(
        failures
            .iter()
            .any(|f| f["url"].as_str().unwrap().contains("/assets/reports-")
                && f["class"] == "missing_asset"),
        "the lazily imported route chunk of v1 is gone: {}",
        tabs(&run)
    );
}
