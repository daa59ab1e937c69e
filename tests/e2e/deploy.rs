//! Wrapping a deployment: the deploy command is a small script that triggers the simulator's
//! rollout through its control API and waits for it, as `kubectl rollout status` would.

use std::time::Duration;

use crate::support::{Probe, Run, Sim, probe, spa_routes};
use rollprobe::sim::{Mode, Simulator, Site};

/// A 6 s rollout that waits for the deploy script to trigger it.
pub async fn simulator(mode: Mode, stall_after: Option<usize>) -> Simulator {
    Sim::new(mode)
        .rollout(Duration::from_secs(6))
        .auto_start(false)
        .after(Duration::from_secs(120))
        .max_lifetime(Duration::from_secs(180))
        .stall_after(stall_after)
        .start()
        .await
}

/// A deploy script: triggers the rollout, waits up to `wait_s` for it, exits `code` when done
/// and 1 when it timed out. Plain bash, no curl needed.
pub fn deploy_script(dir: &std::path::Path, control_url: &str, wait_s: u32, code: i32) -> String {
    let port = url::Url::parse(control_url).unwrap().port().unwrap();
    let path = dir.join("deploy.sh");
    std::fs::write(
        &path,
        format!(
            r#"#!/usr/bin/env bash
echo "deploying v2"
exec 3<>/dev/tcp/127.0.0.1/{port}
printf 'POST /rollout?wait=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' >&3
if read -r -t {wait_s} status <&3; then
  echo "rollout: $status"
  exit {code}
fi
echo "rollout did not finish within {wait_s}s" >&2
exit 1
"#
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn phase<'a>(run: &'a Run, name: &str) -> &'a serde_json::Value {
    run.json()["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phase"] == name)
        .unwrap_or_else(|| panic!("phase {name} in {}", run.json()["phases"]))
}

pub async fn wrap(sim: &Simulator, script: &str, settle: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--workers",
        "3",
        "--baseline",
        "5s",
        "--settle",
        settle,
        "--version-header",
        "X-App-Version",
    ];
    args.extend_from_slice(extra);
    args.extend(["--", "bash", script]);
    probe(&sim.url(), &args).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naive_rollout_fails_only_in_the_rollout_phase() {
    let sim = simulator(Mode::Naive, None).await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 30, 0);
    let run = wrap(&sim, &script, "3s", &["--expect-version", "v2"]).await;
    sim.shutdown().await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(phase(&run, "baseline")["verdict"]["status"], "pass");
    assert_eq!(phase(&run, "rollout")["verdict"]["status"], "fail");
    for f in run.json()["failures"].as_array().unwrap() {
        assert_eq!(f["phase"], "rollout", "{f}\n{}", run.json()["deploy"]);
    }
    // The evidence of a failed load is named after the phase the report gives it.
    let saved: Vec<_> = run.json()["loads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l.get("artifacts").is_some())
        .cloned()
        .collect();
    assert!(!saved.is_empty(), "failed loads leave evidence");
    for l in saved {
        let png = l["artifacts"]["screenshot"].as_str().unwrap();
        let named = format!("load-{}-{}.png", l["id"], l["phase"].as_str().unwrap());
        assert!(png.ends_with(&named), "{png} for {l}");
    }
    assert_eq!(phase(&run, "settle")["verdict"]["status"], "pass");
    assert_eq!(run.json()["deploy"]["exit_code"], 0);
    let check = &run.json()["checks"][0];
    assert_eq!(check["name"], "final version is v2");
    assert_eq!(check["passed"], true, "{check}");
    assert!(
        run.stderr.contains("[deploy] deploying v2"),
        "output passes through: {}",
        run.stderr
    );

    let suites = run.junit_suites();
    let names: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 4, "a suite per phase plus checks: {names:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_assets_rollout_passes_and_ends_on_v2() {
    let sim = simulator(Mode::SharedAssets, None).await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 30, 0);
    let run = wrap(&sim, &script, "3s", &["--expect-version", "v2"]).await;
    sim.shutdown().await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let phases: Vec<&str> = run.json()["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["baseline", "rollout", "settle"]);
    assert_eq!(run.json()["checks"][0]["passed"], true);
    assert!(run.json()["versions"]["mixed_window"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollout_stopped_halfway_fails_the_version_check() {
    let sim = simulator(Mode::SharedAssets, Some(1)).await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 5, 0);
    let run = wrap(&sim, &script, "5s", &["--expect-version", "v2"]).await;
    sim.shutdown().await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let check = &run.json()["checks"][0];
    assert_eq!(check["passed"], false);
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("still serving v1"),
        "{check}"
    );
    assert_eq!(run.json()["deploy"]["exit_code"], 1);
    let notes = run.json()["notes"].to_string();
    assert!(
        notes.contains("yet the new version v2 is being served"),
        "{notes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deploy_command_is_reported_with_its_own_exit_code() {
    let sim = simulator(Mode::Steady, None).await;
    let dir = tempfile::tempdir().unwrap();
    let script = deploy_script(dir.path(), &sim.control_url(), 30, 3);
    let log = dir.path().join("deploy.log");
    let run = wrap(
        &sim,
        &script,
        "3s",
        &["--deploy-log", log.to_str().unwrap()],
    )
    .await;
    sim.shutdown().await;

    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.json()["deploy"]["exit_code"], 3);
    assert_eq!(run.json()["verdict"]["exit_code"], 4);
    assert!(run.stdout.contains("exited 3"), "{}", run.stdout);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("deploying v2"), "{logged}");
    assert!(
        !run.stderr.contains("deploying v2"),
        "output went to the log only"
    );
}

/// A stylesheet missing before the deploy and after it: the deployment changed nothing, so the
/// run passes and lists it apart; `--count-pre-existing` asks for the absolute verdict.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_baseline_passes_unless_pre_existing_failures_count() {
    let routes: Vec<_> = spa_routes()
        .into_iter()
        .filter(|r| r.path != "/assets/index-5e1f0c.css")
        .collect();
    let site = Site::start(routes).await.unwrap();
    let around = |extra: &'static [&'static str]| {
        let mut args = vec!["--workers", "2", "--baseline", "4s", "--settle", "2s"];
        args.extend_from_slice(extra);
        args.extend(["--", "true"]);
        let url = site.url("/");
        async move { probe(&url, &args).await }
    };
    let relative = around(&[]).await;
    let absolute = around(&["--count-pre-existing"]).await;
    site.shutdown().await;

    assert_eq!(relative.code, 0, "{}\n{}", relative.stdout, relative.stderr);
    let css = &relative.json()["baseline"]["failures"][0];
    assert_eq!(css["class"], "missing_asset", "{css}");
    assert!(
        css["url"]
            .as_str()
            .unwrap()
            .ends_with("/assets/index-5e1f0c.css")
    );
    assert!(
        relative.stdout.contains("before    missing_asset"),
        "{}",
        relative.stdout
    );

    assert_eq!(absolute.code, 1, "{}\n{}", absolute.stdout, absolute.stderr);
    assert!(
        absolute.stdout.starts_with("FAIL (absolute): "),
        "{}",
        absolute.stdout
    );
    assert!(absolute.json().get("baseline").is_none());
    assert_eq!(phase(&absolute, "baseline")["verdict"]["status"], "fail");
    let reason = absolute.json()["verdict"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("failing before the deployment started"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupt_during_the_deploy_stops_probing_and_the_deploy() {
    let site = Site::start(spa_routes()).await.unwrap();
    // A deploy whose shell waits on a child: the stop must reach the whole group.
    let probe = Probe::start(
        &site.url("/"),
        &[
            "--workers",
            "1",
            "--baseline",
            "2s",
            "--",
            "sh",
            "-c",
            "sleep 60; echo never",
        ],
    );
    tokio::time::sleep(Duration::from_secs(6)).await;
    probe.signal(libc::SIGINT);
    let stopped = std::time::Instant::now();
    let run = probe.finish(Duration::from_secs(40)).await;
    let took = stopped.elapsed();
    site.shutdown().await;

    assert!(took < Duration::from_secs(15), "stopping took {took:?}");
    assert_eq!(run.json()["interrupted"], true);
    assert_ne!(
        run.json()["deploy"]["exit_code"],
        0,
        "the deploy was stopped, not finished"
    );
    assert!(!run.stderr.contains("[deploy] never"), "{}", run.stderr);
    // No load started after the stop (allow the in-flight one's grace).
    let stop_ms = run.json()["finished_at_ms"].as_u64().unwrap() - took.as_millis() as u64;
    let late = run.json()["loads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["started_at_ms"].as_u64().unwrap() > stop_ms + 1_000)
        .count();
    assert_eq!(late, 0, "loads started after the interrupt");
}
