//! Evidence of failed loads (`--artifacts`): a run against a local site whose entry bundle is
//! gone saves a screenshot and a HAR file of the first failed load, the JSON links them, the
//! JUnit file attaches the screenshot where GitLab looks for it, and the HTML report shows the
//! thumbnail in a real Chromium; a passing run writes nothing.

use std::path::Path;

use crate::reports::{MISSING, check_junit, show_in_chromium, site_missing_bundle};
use crate::support::{Cmd, probe, spa_routes};
use rollprobe::sim::Site;
use serde_json::Value;

fn files(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    out.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|e| e == ext));
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_loads_leave_screenshots_and_hars_that_every_report_links() {
    let site = Site::start(site_missing_bundle()).await.unwrap();
    let bundle = site.url(MISSING);
    let run = probe(&site.url("/"), &["--loads", "3", "--workers", "1"]).await;
    site.shutdown().await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);

    // Beside the first report file (report.json): report-artifacts/.
    let dir = run.dir.path().join("report-artifacts");
    let (pngs, hars) = (files(&dir, "png"), files(&dir, "har"));
    // Every load failed the same way: the first of the class and URL is the evidence.
    assert_eq!((pngs.len(), hars.len()), (1, 1), "{pngs:?} {hars:?}");
    let png = std::fs::read(&pngs[0]).unwrap();
    assert!(
        png.len() > 100 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "a PNG"
    );
    let har: Value = serde_json::from_str(&std::fs::read_to_string(&hars[0]).unwrap()).unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["request"]["url"] == bundle.as_str() && e["response"]["status"] == 404),
        "the 404 in the HAR: {entries:?}"
    );
    assert!(entries.iter().all(|e| e["request"]["headers"].is_array()));
    eprintln!(
        "evidence: {} ({} bytes), {} ({} entries)",
        pngs[0].display(),
        png.len(),
        hars[0].display(),
        entries.len()
    );

    // The JSON links them, and carries the thumbnail the HTML report embeds.
    let saved: Vec<&Value> = run.json()["loads"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.get("artifacts"))
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(
        saved[0]["screenshot"],
        pngs[0].display().to_string().as_str()
    );
    assert_eq!(saved[0]["har"], hars[0].display().to_string().as_str());
    assert!(saved[0]["screenshot_base64"].as_str().unwrap().len() > 100);

    // JUnit: attachment lines relative to the JUnit file, pointing at files that exist.
    let said = check_junit(&run.dir.path().join("report.xml"), "required");
    eprintln!("{said}");
    let xml = run.junit.as_deref().unwrap();
    assert!(
        xml.contains("[[ATTACHMENT|report-artifacts/load-"),
        "relative attachment path"
    );
    assert!(xml.contains("HAR of the load: report-artifacts/load-"));
    // The summary says where the evidence went; the HTML report names it relative to itself.
    assert!(
        run.stdout.contains(&format!(
            "  evidence  1 failed load(s) saved in {}/",
            dir.display()
        )),
        "{}",
        run.stdout
    );
    assert!(
        std::fs::read_to_string(run.html())
            .unwrap()
            .contains("HAR: report-artifacts/load-"),
        "relative HAR path in the HTML report"
    );

    thumbnails_show_in_chromium(&run.html()).await;
    reports_again_keep_the_links(run.dir.path(), &saved[0]["screenshot"]).await;
}

/// `rollprobe report` and `merge` from the JSON: the links survive (a merge refers to each
/// shard's files), and a JUnit file written elsewhere attaches them relative to itself.
async fn reports_again_keep_the_links(dir: &Path, screenshot: &Value) {
    let json = dir.join("report.json");
    let out = tempfile::tempdir().unwrap();
    let (again, merged) = (out.path().join("again.xml"), out.path().join("all.json"));
    let merged_xml = out.path().join("sub/all.xml");
    std::fs::create_dir_all(merged_xml.parent().unwrap()).unwrap();
    let report = Cmd::new([
        "report".as_ref(),
        json.as_os_str(),
        "--junit".as_ref(),
        again.as_os_str(),
    ])
    .run()
    .await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    check_junit(&again, "required");
    let merge = Cmd::new([
        "merge".as_ref(),
        json.as_os_str(),
        json.as_os_str(),
        "--json".as_ref(),
        merged.as_os_str(),
        "--junit".as_ref(),
        merged_xml.as_os_str(),
    ])
    .run()
    .await;
    assert_eq!(merge.code, 1, "{}", merge.stderr);
    check_junit(&merged_xml, "required");
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    let links: Vec<&Value> = merged["loads"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.get("artifacts"))
        .map(|a| &a["screenshot"])
        .collect();
    assert_eq!(links, [screenshot, screenshot], "each shard's link kept");
}

/// The HTML report opened in a real headless Chromium: its thumbnail decodes (the image has a
/// size), and a screenshot of the report goes to target/test-artifacts/.
async fn thumbnails_show_in_chromium(html: &Path) {
    let thumbs = show_in_chromium(
        html,
        r#"[...document.querySelectorAll("tr.failure-row img.thumb")].map((i) => [i.complete, i.naturalWidth, i.getBoundingClientRect().width])"#,
        "report-evidence.png",
    )
    .await;
    let thumbs = thumbs.as_array().unwrap();
    assert!(!thumbs.is_empty(), "thumbnails next to the failures");
    for t in thumbs {
        assert_eq!(t[0], true, "{t}");
        assert!(
            t[1].as_u64().unwrap() > 0 && t[2].as_f64().unwrap() > 50.0,
            "{t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_run_writes_no_artifacts() {
    let site = Site::start(spa_routes()).await.unwrap();
    let run = probe(&site.url("/"), &["--loads", "2", "--workers", "1"]).await;
    // An earlier run's evidence in a directory given: it goes, the user's own file stays.
    let given = tempfile::tempdir().unwrap();
    for name in ["load-4-rollout.png", "load-4-rollout.har", "notes.txt"] {
        std::fs::write(given.path().join(name), b"x").unwrap();
    }
    let again = probe(
        &site.url("/"),
        &[
            "--loads",
            "1",
            "--artifacts",
            given.path().to_str().unwrap(),
        ],
    )
    .await;
    site.shutdown().await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!run.dir.path().join("report-artifacts").exists());
    check_junit(&run.dir.path().join("report.xml"), "none");
    assert!(!run.stdout.contains("  evidence  "), "{}", run.stdout);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let left: Vec<_> = std::fs::read_dir(given.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left,
        ["notes.txt"],
        "no old screenshot beside a new passing report"
    );
}
