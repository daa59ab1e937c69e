//! Ctrl-C / SIGTERM mid-run: the run stops, the reports hold what was recorded, and no
//! Chromium process is left behind.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{BIN, Probe, Run, alive, descendants, spa_routes};
use rollprobe::sim::{Route, Site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_run_writes_valid_reports_and_leaves_no_browser() {
    let site = Site::start(spa_routes()).await.unwrap();
    let probe = Probe::start(&site.url("/"), &["--duration", "5m", "--workers", "2"]);

    // Let it make a few loads, and note the browser processes it started.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let browser = descendants(probe.pid());
    assert!(!browser.is_empty(), "Chromium runs under rollprobe");
    probe.signal(libc::SIGTERM);
    let stopped = Instant::now();
    let run = probe.finish(Duration::from_secs(30)).await;
    let took = stopped.elapsed();
    site.shutdown().await;

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

/// A page whose bundle takes 30 s: no load can finish before the tests below stop the run.
async fn slow_site() -> Site {
    Site::start(vec![
        Route::html(
            "/",
            r#"<!doctype html><p>shop</p><script src="/assets/app.js"></script>"#,
        ),
        Route::new("/assets/app.js", "text/javascript", "1;").delay(Duration::from_secs(30)),
    ])
    .await
    .unwrap()
}

fn assert_nothing_measured(run: &Run) {
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"]["status"], "inconclusive");
    let reason = report["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("nothing was measured"), "{reason}");
    assert_eq!(report["interrupted"], true);
    assert!(run.junit.is_some(), "JUnit written too");
    assert!(run.stdout.starts_with("INCONCLUSIVE"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_chromium_starts_is_inconclusive_with_reports() {
    let site = Site::start(spa_routes()).await.unwrap();
    // A browser that takes 3 s to start, so the signal surely lands while it starts.
    let dir = tempfile::tempdir().unwrap();
    let slow = dir.path().join("slow-chromium");
    let real = rollprobe::browser::resolve_executable(None, None).unwrap();
    std::fs::write(
        &slow,
        format!("#!/bin/sh\nsleep 3\nexec {} \"$@\"\n", real.display()),
    )
    .unwrap();
    std::fs::set_permissions(&slow, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let slow = slow.display().to_string();
    let probe = Probe::start(&site.url("/"), &["--duration", "5m", "--chromium", &slow]);
    tokio::time::sleep(Duration::from_secs(1)).await;
    probe.signal(libc::SIGTERM);
    let run = probe.finish(Duration::from_secs(30)).await;
    site.shutdown().await;
    assert_nothing_measured(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_before_the_first_load_finished_is_inconclusive() {
    let site = slow_site().await;
    let probe = Probe::start(&site.url("/"), &["--duration", "5m", "--workers", "2"]);
    tokio::time::sleep(Duration::from_secs(4)).await;
    probe.signal(libc::SIGTERM);
    let run = probe.finish(Duration::from_secs(30)).await;
    site.shutdown().await;
    assert_nothing_measured(&run);
    assert_eq!(run.json()["prober"]["abandoned_loads"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_signalling_chromium_too_is_inconclusive_with_reports() {
    let site = slow_site().await;
    let dir = tempfile::tempdir().unwrap();
    let (json, junit) = (dir.path().join("r.json"), dir.path().join("r.xml"));
    // `timeout` signals its whole process group: rollprobe and its Chromium at once.
    let out = tokio::process::Command::new("timeout")
        .args(["--preserve-status", "-s", "TERM", "5", BIN, "run"])
        .arg(site.url("/"))
        .args(["--duration", "5m", "--quiet", "--json"])
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(40), out)
        .await
        .expect("rollprobe stopped")
        .unwrap();
    site.shutdown().await;

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["verdict"]["status"], "inconclusive");
    assert!(junit.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_after_the_duration_still_cuts_the_finishing_loads_short() {
    let site = slow_site().await;
    // The duration is over long before the loads (30 s each) could finish: they are finishing
    // as planned when the signal comes.
    let probe = Probe::start(&site.url("/"), &["--duration", "2s", "--workers", "2"]);
    tokio::time::sleep(Duration::from_secs(6)).await;
    probe.signal(libc::SIGTERM);
    let stopped = Instant::now();
    let run = probe.finish(Duration::from_secs(40)).await;
    let took = stopped.elapsed();
    site.shutdown().await;

    assert_nothing_measured(&run);
    assert!(
        took < Duration::from_secs(20),
        "the 5 s grace, not the 30 s load timeout: stopping took {took:?}"
    );
}
