//! Ctrl-C / SIGTERM mid-run: the run stops, the reports hold what was recorded, and no
//! Chromium process is left behind.

use std::time::{Duration, Instant};

use crate::support::{Probe, alive, descendants, spa_routes};
use rollprobe::sim::Site;

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
