//! Reports go where the user points, safely: standard output, a FIFO, a symlink, a device,
//! each in a temporary directory (no test touches the real /dev).

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::time::Duration;

use crate::support::{Cmd, Output, spa_routes};
use rollprobe::sim::Site;
use serde_json::Value;

/// `rollprobe run URL --loads 1 --quiet ARGS...`.
async fn run(site: &Site, args: &[&std::ffi::OsStr]) -> Output {
    Cmd::new(["run", &site.url("/"), "--loads", "1", "--quiet"])
        .args(args)
        .limit(Duration::from_secs(60))
        .run()
        .await
}

fn os(s: &str) -> &std::ffi::OsStr {
    s.as_ref()
}

fn mknod(path: &Path, mode: libc::mode_t, dev: libc::dev_t) -> bool {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: mknod(2) on a path in the test's own temporary directory.
    unsafe { libc::mknod(c.as_ptr(), mode, dev) == 0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_on_standard_output_is_all_that_goes_there() {
    let site = Site::start(spa_routes()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // What /dev/stdout is, without touching the real one: a link to this process's fd 1.
    let stdout_link = dir.path().join("stdout");
    std::os::unix::fs::symlink("/proc/self/fd/1", &stdout_link).unwrap();
    let through_link = run(&site, &[os("--json"), stdout_link.as_os_str()]).await;
    let dash = run(&site, &[os("--junit"), os("-")]).await;
    let two = run(
        &site,
        &[
            os("--json"),
            os("-"),
            os("--junit"),
            stdout_link.as_os_str(),
        ],
    )
    .await;
    site.shutdown().await;

    assert_eq!(through_link.code, 0, "{}", through_link.stderr);
    let report: Value = serde_json::from_str(&through_link.stdout).expect("stdout is JSON only");
    assert_eq!(report["schema_version"], 1);
    assert!(
        through_link.stderr.contains("PASS"),
        "the summary went to stderr: {}",
        through_link.stderr
    );
    assert!(
        std::fs::symlink_metadata(&stdout_link)
            .unwrap()
            .is_symlink(),
        "the link is still a link"
    );

    assert_eq!(dash.code, 0, "{}", dash.stderr);
    assert!(dash.stdout.starts_with("<?xml"), "{}", dash.stdout);
    assert!(!dir.path().join("-").exists() && !Path::new("-").exists());

    assert_eq!(two.code, 2, "{}", two.stderr);
    assert!(two.stderr.contains("only one report"), "{}", two.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_reader_gets_the_whole_report_and_a_symlink_updates_its_target() {
    let site = Site::start(spa_routes()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.fifo");
    assert!(mknod(&fifo, libc::S_IFIFO | 0o644, 0), "mkfifo");
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let target = dir.path().join("reports/real.xml");
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("latest.xml");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let out = run(
        &site,
        &[
            os("--json"),
            fifo.as_os_str(),
            os("--junit"),
            link.as_os_str(),
        ],
    )
    .await;
    site.shutdown().await;

    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&reader.join().unwrap()).expect("the whole report");
    assert_eq!(report["verdict"]["status"], "pass");
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "still a FIFO"
    );
    assert!(
        std::fs::symlink_metadata(&link).unwrap().is_symlink(),
        "still a link"
    );
    assert!(
        std::fs::read_to_string(&target)
            .unwrap()
            .starts_with("<?xml")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_cannot_take_the_report_fails_it_alone() {
    let site = Site::start(spa_routes()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A device every write to fails with "no space left": /dev/full, or (as root, where a
    // container has none) a node made like it.
    let full = match std::path::Path::new("/dev/full") {
        dev if dev.exists() => dev.to_path_buf(),
        _ => {
            let full = dir.path().join("full");
            assert!(
                mknod(&full, libc::S_IFCHR | 0o666, libc::makedev(1, 7)),
                "no /dev/full here, and mknod needs root"
            );
            full
        }
    };
    let junit = dir.path().join("r.xml");
    let out = run(
        &site,
        &[
            os("--json"),
            full.as_os_str(),
            os("--junit"),
            junit.as_os_str(),
        ],
    )
    .await;
    site.shutdown().await;

    assert_eq!(
        out.code, 2,
        "the site passed, a report was lost: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&full.display().to_string()),
        "{}",
        out.stderr
    );
    assert!(junit.exists(), "the other report is still written");
    assert!(
        std::fs::metadata(&full)
            .unwrap()
            .file_type()
            .is_char_device(),
        "still a device"
    );
}

#[tokio::test]
async fn an_unwritable_report_path_fails_before_probing() {
    let site = Site::start(spa_routes()).await.unwrap();
    let out = run(&site, &[os("--json"), os("/proc/rollprobe/report.json")]).await;
    site.shutdown().await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("/proc/rollprobe/report.json"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.is_empty(),
        "no probing run, so no summary: {}",
        out.stdout
    );
}
