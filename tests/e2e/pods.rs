//! Which pod, and what to fix: the simulator's failing rollouts probed with the pod header its
//! pods and ingress send and its pod event file, each run's summary naming the pods, the cause
//! and the fix, and the HTML report drawing each pod's life in a real browser.

use std::time::Duration;

use crate::deploy::{deploy_script, wrap};
use crate::reports::show_in_chromium;
use crate::support::{Run, Sim};
use rollprobe::sim::Mode;
use serde_json::Value;

/// A 6 s rollout in `mode`, wrapped as a deployment, its pods' events read after it.
async fn roll(mode: Mode) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("pods.jsonl");
    let sim = Sim::new(mode)
        .rollout(Duration::from_secs(6))
        .auto_start(false)
        .after(Duration::from_secs(120))
        .max_lifetime(Duration::from_secs(180))
        .events_jsonl(&events)
        .start()
        .await;
    let script = deploy_script(dir.path(), &sim.control_url(), 30, 0);
    let events = events.display().to_string();
    let run = wrap(&sim, &script, "3s", &["--pod-events", &events]).await;
    sim.shutdown().await;
    run
}

fn causes(run: &Run) -> Vec<&Value> {
    run.json()["causes"].as_array().unwrap().iter().collect()
}

fn named(cause: &Value) -> Vec<&str> {
    cause["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_without_readiness_are_named_with_the_readiness_probe_as_the_fix() {
    let run = roll(Mode::NoReadiness).await;
    let said = format!("{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{said}");
    let causes = causes(&run);
    assert_eq!(causes.len(), 1, "{causes:#?}");
    let c = causes[0];
    assert_eq!(
        (c["cause"].as_str(), c["sure"].as_str()),
        (Some("not_ready"), Some("certain")),
        "{c}"
    );
    assert!(named(c).iter().all(|p| p.starts_with("v2-")), "{c}");
    assert!(
        run.stdout
            .contains("cause     pods took traffic before they could serve (certain): ")
            && run.stdout.contains("fix: a readiness probe"),
        "{said}"
    );
    // Each new pod's life, from the event file: started, then ready after the failures.
    let pods = run.json()["pods"]["pods"].as_array().unwrap();
    let failed: Vec<&Value> = pods.iter().filter(|p| p["failed"].is_object()).collect();
    assert!(!failed.is_empty(), "{pods:#?}");
    for p in failed {
        let (created, ready) = (
            p["created_at_ms"].as_u64().unwrap(),
            p["ready_at_ms"].as_u64().unwrap(),
        );
        assert!(created < ready, "{p}");
    }

    let html = run.html();
    let seen = show_in_chromium(&html, r#"(() => {
        const all = (sel, f) => [...document.querySelectorAll(sel)].map(f);
        return {
            causes: all("li.cause", (c) => [c.dataset.cause, c.dataset.sure]),
            rows: all("tr.pod-row", (r) => [r.dataset.pod, Number(r.dataset.failed),
                r.querySelectorAll("span.fail").length,
                r.querySelector("span.ready") ? r.querySelector("span.ready").getBoundingClientRect().left : null,
                r.querySelector("span.alive").getBoundingClientRect().width]),
        };
    })()"#, "pods.png").await;
    assert_eq!(
        seen["causes"],
        serde_json::json!([["not_ready", "certain"]]),
        "{seen}"
    );
    let rows = seen["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "three old pods and three new: {seen}");
    for row in rows {
        let (pod, failed, ticks) = (
            row[0].as_str().unwrap(),
            row[1].as_u64().unwrap(),
            row[2].as_u64().unwrap(),
        );
        assert!(
            row[4].as_f64().unwrap() > 1.0,
            "{pod}'s life is drawn: {row}"
        );
        if pod.starts_with("v2-") {
            assert!(row[3].is_number(), "{pod}'s readiness is marked: {row}");
        }
        assert_eq!(failed, ticks, "a tick per failure of {pod}: {row}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_killed_while_routed_are_named_with_graceful_shutdown_and_pre_stop_as_the_fix() {
    let run = roll(Mode::NoDrain).await;
    let said = format!("{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{said}");
    let causes = causes(&run);
    assert!(!causes.is_empty(), "{said}");
    for c in &causes {
        assert!(
            ["no_drain", "routed_after_stop"].contains(&c["cause"].as_str().unwrap()),
            "{c}"
        );
        assert_eq!(c["sure"], "certain", "{c}");
        assert!(
            named(c).iter().all(|p| p.starts_with("v1-")),
            "only the old pods: {c}"
        );
    }
    assert!(
        run.stdout.contains("fix: graceful shutdown")
            || run.stdout.contains("fix: a preStop sleep"),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_naive_rollout_is_diagnosed_as_version_skew_with_the_pods_that_lacked_the_assets() {
    let run = roll(Mode::Naive).await;
    let said = format!("{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.code, 1, "{said}");
    let causes = causes(&run);
    assert_eq!(causes.len(), 1, "{causes:#?}");
    assert_eq!(causes[0]["cause"], "version_skew", "{said}");
    assert!(!named(causes[0]).is_empty(), "{said}");
    assert!(
        run.stdout.contains("fix: keep the previous build's assets"),
        "{said}"
    );
    assert!(run.stdout.contains("  pods      "), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watches_the_pods_for_the_run_when_asked_to() {
    // A kubectl that answers as the real one does for the watch (the recorded Pods of
    // tests/fixtures/pods), then watches on until it is stopped.
    let bin = tempfile::tempdir().unwrap();
    let pods = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/pods/no-readiness.kubectl-pods.json"
    );
    let kubectl = bin.path().join("kubectl");
    std::fs::write(
        &kubectl,
        format!(
            "#!/usr/bin/env bash\n[ \"$*\" = 'get pods --namespace shop --selector app=web --watch --output json --output-watch-events' ] || exit 3\ncat {pods}\nexec sleep 600\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &kubectl,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let site = rollprobe::sim::Site::start(crate::support::spa_routes())
        .await
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap()
    );
    let args = [
        "--duration",
        "2s",
        "--workers",
        "1",
        "--kubectl",
        "shop:app=web",
    ];
    let url = site.url("/");
    let run = crate::support::Probe::start_with(&url, &args, &[("PATH", &path)])
        .finish(Duration::from_secs(60))
        .await;
    site.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let events = &run.json()["pods"]["events"];
    assert_eq!(events["format"], "kubectl pods", "{events}");
    assert_eq!(events["lives"].as_array().unwrap().len(), 6, "{events}");

    // Without kubectl on the PATH, it says so before anything runs.
    let run = crate::support::Probe::start_with(&url, &args, &[("PATH", "/nonexistent")])
        .finish(Duration::from_secs(30))
        .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("--kubectl needs kubectl on the PATH"),
        "{}",
        run.stderr
    );
}
