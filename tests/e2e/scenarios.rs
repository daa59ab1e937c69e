//! The shipped scenario files, each run for real against the embedded simulator or a local
//! site: what users copy must work.

use std::time::Duration;

use crate::support::{Cmd, Run, Sim, probe};
use rollprobe::sim::{Mode, Route, Simulator, Site};

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A steady site: the rollout never starts.
async fn steady() -> Simulator {
    Sim::new(Mode::Steady)
        .auto_start(false)
        .max_lifetime(Duration::from_secs(120))
        .start()
        .await
}

fn requests_per_load(run: &Run) -> Vec<u64> {
    run.json()["loads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["requests"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_spa_scenario_passes_on_a_steady_site() {
    let sim = steady().await;
    let file = scenario("spa.toml");
    let run = probe(&sim.url(), &["--scenario", &file, "--duration", "4s"]).await;
    sim.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["settings"]["scenario"], file.as_str());
    assert!(run.json()["summary"]["loads"].as_u64().unwrap() >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lazy_route_journey_fetches_the_route_chunk() {
    let sim = steady().await;
    let run = probe(
        &sim.url(),
        &[
            "--scenario",
            &scenario("lazy-route.toml"),
            "--duration",
            "4s",
            "--workers",
            "2",
        ],
    )
    .await;
    sim.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    // Document, stylesheet, entry, start chunk, and the chunk only the click imports.
    for n in requests_per_load(&run) {
        assert_eq!(n, 5);
    }
}

/// A site whose click-only route chunk is missing from the build.
fn broken_route_site() -> Vec<Route> {
    vec![
        Route::html(
            "/",
            r#"<!doctype html><script type="module" src="/assets/index-aa11.js"></script>
<div id="app"><a id="open-reports" href="/reports">Reports</a></div>"#,
        ),
        Route::new(
            "/assets/index-aa11.js",
            "text/javascript",
            r#"document.getElementById("open-reports").addEventListener("click", (e) => {
  e.preventDefault();
  import("/assets/reports-bb22.js").then((m) => m.render());
});"#,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_route_chunk_is_caught_only_through_the_click() {
    let site = Site::start(broken_route_site()).await.unwrap();
    let chunk = site.url("/assets/reports-bb22.js");
    let plain = probe(&site.url("/"), &["--loads", "2"]).await;
    let journey = probe(
        &site.url("/"),
        &[
            "--scenario",
            &scenario("lazy-route.toml"),
            "--loads",
            "2",
            "--workers",
            "1",
        ],
    )
    .await;
    site.shutdown().await;

    assert_eq!(
        plain.code, 0,
        "a plain load never meets the route: {}",
        plain.stdout
    );
    assert_eq!(journey.code, 1, "{}\n{}", journey.stdout, journey.stderr);
    let failures = journey.failures();
    assert!(
        failures.contains(&(
            "missing_asset".to_string(),
            chunk.clone(),
            "404".to_string()
        )),
        "{failures:?}"
    );
    let step = journey.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["class"] == "step_failed")
        .map(|f| f["message"].as_str().unwrap().to_string())
        .expect("the wait_for step failed");
    assert!(step.contains("step 2 (wait_for `#reports-ready`"), "{step}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authenticated_scenario_runs_without_printing_its_secrets() {
    let sim = steady().await;
    let (out, report) = {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("report.json");
        let out = Cmd::new([
            "run",
            &sim.url(),
            "--scenario",
            &scenario("staging-auth.toml"),
        ])
        .args(["--duration", "3s", "--quiet", "--json"])
        .args([&json])
        .env("STAGING_TOKEN", "tok-5ecret-1")
        .env("STAGING_SESSION", "sess-5ecret-2")
        .env("STAGING_PASSWORD", "pw-5ecret-3")
        // A browser run, bounded like `probe`.
        .limit(Duration::from_secs(120))
        .run()
        .await;
        let report = std::fs::read_to_string(&json).unwrap();
        (out, report)
    };
    sim.shutdown().await;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    for secret in ["tok-5ecret-1", "sess-5ecret-2", "pw-5ecret-3"] {
        assert!(
            !report.contains(secret) && !out.stdout.contains(secret),
            "{secret} leaked"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_secret_is_a_usage_error_naming_the_variable() {
    let out = Cmd::new([
        "run",
        "http://127.0.0.1:9/",
        "--scenario",
        &scenario("staging-auth.toml"),
    ])
    .env_remove("STAGING_TOKEN")
    .run()
    .await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("STAGING_TOKEN"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_rate_scenario_starts_users_on_a_clock() {
    let sim = steady().await;
    let run = probe(
        &sim.url(),
        &[
            "--scenario",
            &scenario("open-rate.toml"),
            "--duration",
            "4s",
        ],
    )
    .await;
    sim.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let settings = &run.json()["settings"];
    assert_eq!(settings["rate_per_s"], 4.0);
    let loads = run.json()["summary"]["loads"].as_u64().unwrap();
    let skipped = run.json()["prober"]["skipped_starts"].as_u64().unwrap_or(0);
    // 4/s for 4 s: every arrival was either started or counted as skipped.
    assert!(
        (14..=18).contains(&(loads + skipped)),
        "{loads} loads + {skipped} skipped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flag_is_a_key_the_flag_wins_and_the_report_says_where_each_came_from() {
    let sim = steady().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    // Keys that had no place in a file before: `loads`, `[evidence]`.
    std::fs::write(
        &file,
        "[load]\nloads = 3\nworkers = 1\nidle = \"2s\"\n[evidence]\nmax_artifacts = 0\n",
    )
    .unwrap();
    let run = probe(
        &sim.url(),
        &["--scenario", file.to_str().unwrap(), "--idle", "300ms"],
    )
    .await;
    sim.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["summary"]["loads"], 3, "the file's loads = 3");
    assert_eq!(report["settings"]["idle_ms"], 300, "the flag over the file");
    let all = report["settings"]["all"].as_array().unwrap();
    let setting = |key: &str| {
        let s = all.iter().find(|s| s["key"] == key).unwrap();
        (
            s["flag"].as_str().unwrap().to_string(),
            s["value"].as_str().map(str::to_string),
            s["from"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(
        setting("load.idle"),
        ("--idle".into(), Some("300ms".into()), "flag".into())
    );
    assert_eq!(
        setting("load.loads"),
        ("--loads".into(), Some("3".into()), "file".into())
    );
    assert_eq!(
        setting("load.load_timeout"),
        (
            "--load-timeout".into(),
            Some("30s".into()),
            "default".into()
        )
    );
    assert_eq!(setting("version.header").2, "unset");

    let check = Cmd::new(["scenario", "check", file.to_str().unwrap()])
        .run()
        .await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    for line in [
        "    load.loads = 3\n",
        "    evidence.max_artifacts = 0\n",
        "    load.load_timeout = 30s (default)\n",
        "    version.header = not set\n",
    ] {
        assert!(
            check.stdout.contains(line),
            "{line:?} in:\n{}",
            check.stdout
        );
    }
}
