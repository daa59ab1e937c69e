//! Judging what a deployment changed: failures the baseline already had are listed apart and
//! do not fail the run; new ones, and old ones that rose beyond chance, do.

use std::time::Duration;

use serde_json::Value;

use crate::deploy::deploy_script;
use crate::reports::show_in_chromium;
use crate::support::{Run, Sim, probe};
use rollprobe::sim::{Mode, Route, Simulator, Site};

/// A simulator whose rollout (6 s) waits for the deploy script, with what real sites carry.
fn sim(mode: Mode) -> Sim {
    Sim::new(mode)
        .rollout(Duration::from_secs(6))
        .auto_start(false)
        .after(Duration::from_secs(120))
        .max_lifetime(Duration::from_secs(180))
}

/// `rollprobe run` around `deploy` (a command), 3 users, the version header.
async fn around(sim: &Simulator, baseline: &str, deploy: &[&str]) -> Run {
    let mut args = vec![
        "--workers",
        "3",
        "--baseline",
        baseline,
        "--settle",
        "4s",
        "--version-header",
        "X-App-Version",
        "--",
    ];
    args.extend_from_slice(deploy);
    probe(&sim.url(), &args).await
}

/// The comparison's entry for a resource whose URL ends so.
fn compared<'a>(run: &'a Run, class: &str, url_end: &str) -> &'a Value {
    let c = &run.json()["baseline"];
    c["failures"]
        .as_array()
        .unwrap_or_else(|| panic!("a comparison with the baseline: {c}"))
        .iter()
        .find(|f| f["class"] == class && f["url"].as_str().unwrap().ends_with(url_end))
        .unwrap_or_else(|| panic!("{class} {url_end} in {c}"))
}

fn changes(entry: &Value) -> Vec<&str> {
    entry["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["change"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_from_before_a_no_op_deploy_are_listed_apart_in_every_report() {
    // A dead analytics host on every load, an API failing one request in four throughout.
    let sim = sim(Mode::Steady)
        .dead_third_party()
        .flaky_api(4, 4)
        .start()
        .await;
    let run = around(&sim, "6s", &["true"]).await;
    sim.shutdown().await;
    let out = format!("{}\n{}", run.stdout, run.stderr);

    assert_eq!(run.code, 0, "{out}");
    assert!(
        run.stdout.starts_with("PASS (against the baseline): "),
        "{out}"
    );
    let dead = compared(&run, "network_error", "/analytics.js");
    let loads = run.json()["baseline"]["baseline_loads"].as_u64().unwrap();
    assert!(loads >= 5, "{out}");
    assert_eq!(
        dead["baseline"].as_u64(),
        Some(loads),
        "every baseline load"
    );
    assert!(changes(dead).iter().all(|c| *c == "same"), "{dead}");
    let flaky = compared(&run, "http_error", "/api/flaky");
    assert!(flaky["baseline"].as_u64().unwrap() >= 1, "{flaky}");
    assert!(!changes(flaky).contains(&"rose"), "{flaky}");
    // The summary, the notes, JUnit and HTML each list them apart, with their rates.
    assert!(
        run.stdout.contains(&format!(
            "before    network_error {}: baseline {loads} of {loads} loads",
            dead["url"].as_str().unwrap()
        )),
        "{out}"
    );
    assert!(
        run.json()["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .starts_with("against the baseline: 2 failure(s) the baseline already had")),
        "{out}"
    );
    let junit = run.junit.as_deref().unwrap();
    let case = junit
        .split("<testcase ")
        .find(|c| c.contains("failures the baseline already had (not counted)"))
        .expect("a testcase of its own");
    assert!(case.contains("/analytics.js: baseline"), "{case}");
    assert!(!case.contains("<failure"), "{case}");
    let seen = show_in_chromium(
        &run.html(),
        r##"[...document.querySelectorAll("#baseline tr.compared-row")].map((r) => [r.dataset.class, r.dataset.counted])"##,
        "baseline-report.png",
    )
    .await;
    let rows = seen.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{seen}");
    assert!(rows.iter().all(|r| r[1] == "false"), "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_naive_rollout_fails_on_its_missing_bundles_only() {
    let sim = sim(Mode::Naive).dead_third_party().start().await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 30, 0);
    let run = around(&sim, "5s", &["bash", &script]).await;
    sim.shutdown().await;
    let out = format!("{}\n{}", run.stdout, run.stderr);

    assert_eq!(run.code, 1, "{out}");
    let reason = run.json()["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("missing_asset"), "{reason}");
    assert!(!reason.contains("network_error"), "{reason}");
    let dead = compared(&run, "network_error", "/analytics.js");
    assert!(changes(dead).iter().all(|c| *c == "same"), "{dead}");
    let changed: Vec<&Value> = run.json()["baseline"]["failures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["phases"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["change"] == "new")
        })
        .collect();
    assert!(!changed.is_empty(), "{out}");
    for f in changed {
        assert_eq!(f["class"], "missing_asset", "{f}");
    }
    // In JUnit the rollout fails on missing assets, not on the dead host.
    let rollout = run
        .junit_suites()
        .into_iter()
        .find(|s| s.name.starts_with("rollprobe rollout"))
        .unwrap();
    let failed = |name: &str| {
        rollout
            .cases
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name} in {rollout:?}"))
            .problem
            .is_some()
    };
    assert!(failed("no missing hashed assets"));
    assert!(!failed("no network errors"));
    assert!(run.stdout.contains("before    network_error"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_failing_more_often_during_the_rollout_fails_with_the_figures() {
    // One in ten before and after, one in two while the rollout runs; the rollout and the
    // baseline long enough (about 30 loads each) to tell the rates apart on a slow machine too,
    // where 21 loads each left p at 0.016.
    let sim = (sim(Mode::SharedAssets).rollout(Duration::from_secs(10)))
        .flaky_api(10, 2)
        .start()
        .await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 30, 0);
    let run = around(&sim, "10s", &["bash", &script]).await;
    sim.shutdown().await;
    let out = format!("{}\n{}", run.stdout, run.stderr);

    assert_eq!(run.code, 1, "{out}");
    let api = compared(&run, "http_error", "/api/flaky");
    assert!(api["baseline"].as_u64().unwrap() >= 1, "{api}");
    let rollout = api["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phase"] == "rollout")
        .unwrap();
    assert_eq!(rollout["change"], "rose", "{api}");
    assert!(rollout["p_value"].as_f64().unwrap() < 0.01, "{api}");
    let line = format!(
        "rose      http_error {}: baseline {} of {} loads; rollout {} of {}, rose (p ",
        api["url"].as_str().unwrap(),
        api["baseline"],
        run.json()["baseline"]["baseline_loads"],
        rollout["failed"],
        rollout["of"]
    );
    assert!(run.stdout.contains(&line), "{line}\n{out}");
    let reason = run.json()["verdict"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("rollout: ") && reason.contains("http_error"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_failing_on_every_baseline_load_is_inconclusive() {
    let site = Site::start(vec![Route::html("/", "<p>down</p>").status(502)])
        .await
        .unwrap();
    let run = probe(
        &site.url("/"),
        &[
            "--workers",
            "2",
            "--baseline",
            "3s",
            "--settle",
            "2s",
            "--",
            "true",
        ],
    )
    .await;
    site.shutdown().await;
    let out = format!("{}\n{}", run.stdout, run.stderr);

    assert_eq!(run.code, 3, "{out}");
    let why = run.json()["baseline"]["cannot_vouch"].as_str().unwrap();
    assert!(
        why.contains("baseline loads failed on the page itself"),
        "{why}"
    );
    let reason = run.json()["verdict"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("baseline: ") && reason.contains("page itself"),
        "{reason}"
    );
}
