//! Ctrl-C / SIGTERM mid-run: the run stops, the reports hold what was recorded, and no
//! Chromium process is left behind.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{BIN, alive, descendants, finish, spa_routes};
use rollprobe::sim::Site;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_writes_valid_reports_and_leaves_no_browser() {
    let site = Site::start(spa_routes()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let junit = dir.path().join("report.xml");
    let child = tokio::process::Command::new(BIN)
        .args([
            "run",
            &site.url("/"),
            "--duration",
            "5m",
            "--workers",
            "2",
            "--quiet",
        ])
        .arg("--json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();

    // Let it make a few loads, and note the browser processes it started.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let browser = descendants(pid);
    assert!(!browser.is_empty(), "Chromium runs under rollprobe");
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let stopped = Instant::now();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("rollprobe stops within 30 s of SIGTERM")
        .unwrap();
    let took = stopped.elapsed();
    site.shutdown().await;
    let run = finish(out, dir, json, junit);

    assert_eq!(
        run.code, 0,
        "a healthy site passes even when interrupted\n{}\n{}",
        run.stdout, run.stderr
    );
    assert!(took < Duration::from_secs(15), "stopping took {took:?}");
    let report = run.json();
    assert_eq!(report["interrupted"], true);
    let loads = report["summary"]["loads"].as_u64().unwrap();
    assert!(loads >= 1, "loads recorded before the stop: {loads}");
    assert_eq!(report["loads"].as_array().unwrap().len() as u64, loads);
    assert!(run.junit.is_some(), "JUnit written too");
    assert!(run.stdout.contains("interrupted"), "{}", run.stdout);

    tokio::time::sleep(Duration::from_secs(1)).await;
    let left: Vec<u32> = browser.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "browser processes left behind: {left:?}");
}
