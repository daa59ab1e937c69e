//! Old-asset retention: after the deploy command has exited, every static asset the baseline
//! loaded from v1 is requested again over plain HTTP. On the simulator's `shared-assets`
//! rollout every pod still has v1's build, so all are served; on `naive` the v2 pods have only
//! their own, so v1's entry bundle, stylesheet and lazy chunk are gone.

use std::time::Duration;

use serde_json::Value;

use crate::deploy::{deploy_script, simulator};
use crate::support::{Cmd, Probe, Run, Sim, closed_port, probe};
use rollprobe::sim::Mode;

const CHECK: &str = "assets of the previous version are still served";

/// `rollprobe run` around the simulator's rollout: 5 s baseline, 3 s settle, the version header.
async fn around_rollout(mode: Mode, extra: &[&str]) -> Run {
    let sim = simulator(mode, None).await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 30, 0);
    let mut args = vec![
        "--workers",
        "2",
        "--baseline",
        "5s",
        "--settle",
        "3s",
        "--version-header",
        "X-App-Version",
    ];
    args.extend_from_slice(extra);
    args.extend(["--", "bash", &script]);
    let run = probe(&sim.url(), &args).await;
    sim.shutdown().await;
    run
}

fn urls(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|u| u.as_str().unwrap().to_string())
        .collect()
}

/// v1's entry bundle, stylesheet and the chunk it imports at start, each once, all from v1.
fn assert_v1_build(run: &Run, listed: &[String]) {
    let has = |prefix: &str, ext: &str| {
        listed
            .iter()
            .filter(|u| u.contains(prefix) && u.ends_with(ext))
            .count()
    };
    assert_eq!(has("/assets/index-", ".js"), 1, "entry bundle: {listed:?}");
    assert_eq!(has("/assets/index-", ".css"), 1, "stylesheet: {listed:?}");
    assert_eq!(has("/assets/chunk-", ".js"), 1, "lazy chunk: {listed:?}");
    let r = &run.json()["retention"];
    assert_eq!(r["old_versions"], serde_json::json!(["v1"]), "{r}");
    for a in r["assets"].as_array().unwrap() {
        assert_eq!(a["version"], "v1", "{a}");
        assert_eq!(a["attempts"], 4, "{a}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_rollout_leaves_the_old_builds_assets_gone() {
    let run = around_rollout(Mode::Naive, &[]).await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let r = &run.json()["retention"];
    let gone = urls(&r["gone"]);
    assert_v1_build(&run, &gone);
    assert!(urls(&r["served"]).is_empty(), "{r}");
    for a in r["assets"].as_array().unwrap() {
        assert_eq!(a["how"], "404", "{a}");
        assert_eq!(a["gone_attempts"], 4, "every v2 pod lacks it: {a}");
        assert_eq!(a["answered_by"], serde_json::json!(["v2"]), "{a}");
    }
    let check = run.check(CHECK);
    assert_eq!(check["passed"], false, "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.starts_with("3 of 3 assets of v1 are gone after the rollout: tabs opened before the deploy will fail when they load a lazy route"),
        "{message}"
    );
    let reason = run.json()["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("3 of 3 assets of v1 are gone"), "{reason}");

    assert!(
        run.stdout
            .contains("retention 3 assets of v1 after the deployment: 0 served, 3 gone"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("    gone      404 http://"),
        "{}",
        run.stdout
    );
    let suites = run.junit_suites();
    let checks = suites.iter().find(|s| s.name.contains("checks")).unwrap();
    let case = checks.cases.iter().find(|c| c.name == CHECK).unwrap();
    assert!(case.problem.is_some(), "{case:?}");
    let html = std::fs::read_to_string(run.html()).unwrap();
    assert!(html.contains("<section id=\"retention\">"), "{html}");
    assert_eq!(html.matches("data-kept=\"gone\"").count(), 3, "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_assets_rollout_still_serves_every_old_asset() {
    let run = around_rollout(Mode::SharedAssets, &["--expect-version", "v2"]).await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = &run.json()["retention"];
    assert_v1_build(&run, &urls(&r["served"]));
    assert!(urls(&r["gone"]).is_empty(), "{r}");
    assert!(r.get("unchecked").is_none(), "{r}");
    let check = run.check(CHECK);
    assert_eq!(check["passed"], true, "{check}");
    assert_eq!(
        check["message"],
        "all 3 assets of v1 are still served (4 requests each)"
    );
    let suites = run.junit_suites();
    let checks = suites.iter().find(|s| s.name.contains("checks")).unwrap();
    assert!(
        checks
            .cases
            .iter()
            .any(|c| c.name == CHECK && c.problem.is_none())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_not_required_is_a_warning_that_does_not_fail_the_run() {
    // `--slo 0` lets the rollout's own failed loads pass: only retention could fail the run.
    let run = around_rollout(
        Mode::Naive,
        &["--slo", "0", "--retention-required", "false"],
    )
    .await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = &run.json()["retention"];
    assert_eq!(r["required"], false);
    assert_v1_build(&run, &urls(&r["gone"]));
    let check = run.check(CHECK);
    assert_eq!(check["passed"], false, "{check}");
    assert_eq!(check["warning"], true, "{check}");
    assert!(
        run.stdout.contains(
            "check     WARN assets of the previous version are still served: warning only"
        ),
        "{}",
        run.stdout
    );
    let suites = run.junit_suites();
    let checks = suites.iter().find(|s| s.name.contains("checks")).unwrap();
    assert!(
        checks
            .cases
            .iter()
            .any(|c| c.name == CHECK && c.problem.is_none())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn until_signal_checks_retention_after_the_signal() {
    let sim = Sim::new(Mode::Steady).auto_start(false).start().await;
    let probe = Probe::start(
        &sim.url(),
        &["--until-signal", "--check-retention", "--workers", "1"],
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    probe.signal(libc::SIGTERM);
    let run = probe.finish(Duration::from_secs(60)).await;
    sim.shutdown().await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let r = &run.json()["retention"];
    assert_eq!(urls(&r["served"]).len(), 3, "{r}");
    assert!(r.get("old_versions").is_none(), "no version source: {r}");
    assert_eq!(
        run.check(CHECK)["message"],
        "all 3 assets of the previous version are still served (4 requests each)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_required_without_a_check_is_a_usage_error() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let out = Cmd::new(["run", &url, "--retention-required", "false"])
        .run()
        .await;
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("--check-retention"), "{}", out.stderr);
}
