//! Chromium killed mid-run: the prober notices, relaunches, carries on, and books the gap as its
//! own fault, never as the site's downtime.

use std::time::Duration;

use crate::support::{Probe, browser_pid, spa_routes};
use rollprobe::sim::Site;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_browser_is_relaunched_and_not_blamed_on_the_site() {
    let site = Site::start(spa_routes()).await.unwrap();
    let probe = Probe::start(&site.url("/"), &["--duration", "16s", "--workers", "2"]);
    let pid = probe.pid();

    tokio::time::sleep(Duration::from_secs(5)).await;
    let first = browser_pid(pid).expect("a Chromium under rollprobe");
    unsafe {
        libc::kill(first as i32, libc::SIGKILL);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let second = browser_pid(pid).expect("a relaunched Chromium");
    assert_ne!(first, second);

    let run = probe.finish(Duration::from_secs(60)).await;
    site.shutdown().await;

    assert_eq!(
        run.code, 0,
        "the site never failed\n{}\n{}",
        run.stdout, run.stderr
    );
    let report = run.json();
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["prober"]["browser_relaunches"], 1);
    let outage = &report["prober"]["browser_outages"][0];
    let (from, to) = (
        outage["from_unix_ms"].as_u64().unwrap(),
        outage["to_unix_ms"].as_u64().unwrap(),
    );
    assert!(
        to - from < 10_000,
        "relaunched within a few seconds: {outage}"
    );
    let after = report["loads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["outcome"] == "ok" && l["started_at_ms"].as_u64().unwrap() > to)
        .count();
    assert!(after >= 2, "loads went on after the relaunch: {after}");
    for class in run.recorded_classes() {
        assert_eq!(
            class,
            "prober_error",
            "only the prober's own faults: {:?}",
            run.failures()
        );
    }
}
