//! Apps built by the frameworks' own toolchains (tests/apps: React Router, Next.js static export,
//! SvelteKit, Angular, a Vite PWA with Workbox, a Vite app with a module Web Worker), each built
//! as v1 and v2, rolled out through the simulator with their real files. Healthy rollouts must
//! pass without a single failed load or prober error (routers that call `replaceState` after
//! load, workers and service workers included); broken ones must report every request that
//! failed at the simulator's ingress, service-worker precaches included, with its class and the
//! version that answered.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::support::{Run, Sim, probe};
use rollprobe::sim::{FailedRequest, Mode};

const APPS: [&str; 6] = [
    "react-router",
    "next-export",
    "sveltekit",
    "angular",
    "vite-pwa",
    "vite-worker",
];

/// Probes `app` rolled out in `mode`: 2 s before, a 4 s rollout, probed until 2 s after it, at
/// 2 workers. Gives the run and what failed at the ingress meanwhile.
async fn roll(app: &str, mode: Mode) -> (Run, Vec<FailedRequest>) {
    let sim = Sim::new(mode)
        .app(app)
        .before(Duration::from_secs(2))
        .rollout(Duration::from_secs(4))
        .after(Duration::from_secs(60))
        .start()
        .await;
    let run = probe(
        &sim.url(),
        &[
            "--workers",
            "2",
            "--duration",
            "8s",
            "--version-header",
            "X-App-Version",
        ],
    )
    .await;
    // Whatever the pages still had in flight reaches the ingress before it is read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let failed = sim.failed_requests();
    sim.shutdown().await;
    (run, failed)
}

fn assert_healthy(app: &str, mode: Mode, run: &Run) {
    let summary = &run.json()["summary"];
    assert_eq!(
        run.code, 0,
        "{app} {mode:?}: {}\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.failures().is_empty(),
        "{app} {mode:?}: {:?}",
        run.failures()
    );
    assert_eq!(summary["prober_errors"], 0, "{app} {mode:?}: {summary}");
    assert!(
        summary["loads"].as_u64().unwrap() >= 6,
        "{app} {mode:?}: too few loads: {summary}"
    );
}

/// Every (path, answering version) that failed at the ingress is among the report's failures,
/// with the class its kind of file gets: a missing script or stylesheet, or the fallback's page
/// in its place.
fn assert_reports_every_ingress_failure(
    app: &str,
    mode: Mode,
    run: &Run,
    failed: &[FailedRequest],
) {
    assert!(
        !failed.is_empty(),
        "{app} {mode:?}: the rollout broke nothing?"
    );
    let reported: BTreeSet<(String, String, String)> = run.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = url::Url::parse(f["url"].as_str().unwrap())
                .unwrap()
                .path()
                .to_string();
            let version = f["version"].as_str().unwrap_or_default().to_string();
            (path, version, f["class"].as_str().unwrap().to_string())
        })
        .collect();
    for f in failed {
        let version = f.version.clone().unwrap_or_default();
        let asset = f.path.ends_with(".js") || f.path.ends_with(".css");
        let expected = match (asset, f.fallback) {
            (true, false) => Some("missing_asset"),
            (true, true) => Some("wrong_content"),
            _ => None,
        };
        let found = reported.iter().any(|(path, v, class)| {
            *path == f.path && *v == version && expected.is_none_or(|e| e == class)
        });
        assert!(
            found,
            "{app} {mode:?}: the ingress saw {} answer {} ({}) from {version}, the report has \
             no {expected:?} for it: {reported:?}\n{}",
            f.path,
            f.status,
            if f.fallback { "fallback" } else { "status" },
            run.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_rollouts_of_real_apps_pass() {
    for app in APPS {
        for mode in [Mode::Steady, Mode::SharedAssets] {
            let (run, failed) = roll(app, mode).await;
            assert!(
                failed.is_empty(),
                "{app} {mode:?}: the ingress saw {failed:?}"
            );
            assert_healthy(app, mode, &run);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_rollouts_of_real_apps_report_what_failed_at_the_ingress() {
    for app in APPS {
        for mode in [Mode::Naive, Mode::SpaFallback] {
            let (run, failed) = roll(app, mode).await;
            assert_eq!(
                run.code, 1,
                "{app} {mode:?}: {}\n{}",
                run.stdout, run.stderr
            );
            assert_reports_every_ingress_failure(app, mode, &run, &failed);
            // Every build is whole: a miss is always another version's doing, never the build's
            // (a Next.js page of v1 fetching v2's payload, which names v2's chunks).
            let blamed: Vec<&str> = (run.json()["failures"].as_array().unwrap().iter())
                .filter_map(|f| f["diagnosis"].as_str())
                .filter(|d| d.contains("the build itself"))
                .collect();
            assert!(blamed.is_empty(), "{app} {mode:?}: {blamed:?}");
        }
    }
}
