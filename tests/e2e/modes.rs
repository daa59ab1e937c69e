//! The real prober against every simulator mode: each failure the field reports describe is
//! caught with the right class, and the fixed rollouts pass. Each run makes a few dozen loads,
//! so a detection that only works sometimes would show.

use std::time::{Duration, UNIX_EPOCH};

use crate::support::{Run, Sim, probe};
use rollprobe::sim::{Mode, Simulator};

/// Starts the simulator (4 s steady while the browser starts, a `rollout_s` rollout, then
/// steady) and probes it until 2 s after the rollout.
async fn probe_mode(mode: Mode, rollout_s: u64, extra: &[&str]) -> (Run, Simulator) {
    let sim = Sim::new(mode)
        .before(Duration::from_secs(4))
        .rollout(Duration::from_secs(rollout_s))
        .after(Duration::from_secs(60))
        .max_lifetime(Duration::from_secs(120))
        .start()
        .await;
    let duration = format!("{}s", 4 + rollout_s + 2);
    let mut args = vec![
        "--workers",
        "3",
        "--duration",
        &duration,
        "--version-header",
        "X-App-Version",
    ];
    args.extend_from_slice(extra);
    let run = probe(&sim.url(), &args).await;
    (run, sim)
}

fn loads(run: &Run) -> u64 {
    run.json()["summary"]["loads"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steady_has_no_failure() {
    let (run, sim) = probe_mode(Mode::Steady, 4, &[]).await;
    sim.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    assert!(loads(&run) >= 10, "only {} loads", loads(&run));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spa_fallback_hides_the_404_but_not_from_rollprobe() {
    spa_fallback(&[]).await;
}

/// A worker that keeps its context (and its renderer and connections) meets the same failures
/// as a first visit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spa_fallback_is_caught_with_contexts_kept_per_worker() {
    spa_fallback(&["--context", "per-worker"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_rollout_misses_hashed_assets_inside_the_rollout_window() {
    naive_rollout(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_rollout_is_caught_with_contexts_kept_per_worker() {
    naive_rollout(&["--context", "per-worker"]).await;
}

async fn spa_fallback(extra: &[&str]) {
    let (run, sim) = probe_mode(Mode::SpaFallback, 10, extra).await;
    sim.shutdown().await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.classes().contains(&"wrong_content".to_string()),
        "{:?}",
        run.failures()
    );
    assert!(
        !run.recorded_classes()
            .contains(&"missing_asset".to_string()),
        "every status was 200: {:?}",
        run.failures()
    );
    let failures = run.json()["failures"].as_array().unwrap();
    let cross_version = failures
        .iter()
        .filter(|f| f["class"] == "wrong_content")
        .filter_map(|f| f["diagnosis"].as_str())
        .find(|d| d.contains("backend with its index.html"));
    let diagnosis = cross_version.expect("a diagnosis names both versions");
    assert!(
        diagnosis == "index.html from v1, asset answered by a v2 backend with its index.html"
            || diagnosis
                == "index.html from v2, asset answered by a v1 backend with its index.html",
        "{diagnosis}"
    );
}

async fn naive_rollout(extra: &[&str]) {
    let (run, sim) = probe_mode(Mode::Naive, 12, extra).await;
    let (start, end) = sim.rollout_window().expect("the rollout ran");
    let end = end.expect("the rollout finished");
    sim.shutdown().await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.classes(), vec!["missing_asset"]);
    let ms = |t: std::time::SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    // Slack for the ingress's stale endpoints and a load's own duration.
    let (from, to) = (ms(start), ms(end) + 2_000);
    let all = run.json()["failures"].as_array().unwrap();
    let failures: Vec<_> = all
        .iter()
        .filter(|f| f["class"] == "missing_asset")
        .collect();
    assert!(failures.len() >= 3, "{} missing assets", failures.len());
    for f in &failures {
        let at = f["at_unix_ms"].as_u64().unwrap();
        assert!(
            (from..=to).contains(&at),
            "missing asset at {at} outside rollout {from}..{to}: {f}"
        );
        assert!(f["url"].as_str().unwrap().contains("/assets/"), "{f}");
        assert_eq!(f["status"], 404);
    }
    let diagnosis = failures.iter().find_map(|f| f["diagnosis"].as_str());
    assert!(
        diagnosis.is_some_and(|d| d.contains("asset requested from a v")),
        "a cross-version diagnosis: {diagnosis:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_assets_rollout_mixes_versions_without_failures() {
    let (run, sim) = probe_mode(Mode::SharedAssets, 12, &[]).await;
    sim.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    let versions = &run.json()["versions"];
    assert!(
        versions["mixed_window"].is_object(),
        "both versions served: {versions}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_readiness_gives_502s() {
    let (run, sim) = probe_mode(Mode::NoReadiness, 9, &[]).await;
    sim.shutdown().await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.classes().contains(&"http_error".to_string()),
        "{:?}",
        run.failures()
    );
    // A failed import() also throws in the page: recorded as js_error, which does not count.
    for (class, url, how) in run.failures().into_iter().filter(|f| f.0 != "js_error") {
        assert!(
            (class == "http_error" && how == "502") || class == "network_error",
            "{class} {how} {url}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_drain_gives_resets_and_502s() {
    let (run, sim) = probe_mode(Mode::NoDrain, 9, &[]).await;
    sim.shutdown().await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let classes = run.classes();
    assert!(!classes.is_empty());
    for class in &classes {
        assert!(
            ["network_error", "http_error"].contains(&class.as_str()),
            "{:?}",
            run.failures()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_pod_gives_timeouts() {
    let (run, sim) = probe_mode(Mode::Slow, 6, &["--load-timeout", "4s"]).await;
    sim.shutdown().await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.classes().contains(&"timeout".to_string()),
        "{:?}",
        run.failures()
    );
}
