//! The reports people read, end to end: the HTML report of a real run opened in a real headless
//! Chromium, `rollprobe report` re-rendering JUnit from the JSON, and `rollprobe merge` of two
//! probers that watched one site at the same time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::{Cmd, Output, Run, junit, probe, spa_routes};
use rollprobe::sim::{Route, Site};
use serde_json::Value;

pub const MISSING: &str = "/assets/index-3f9a1c.js";

/// The SPA with its hashed entry bundle gone: every load misses it.
pub fn site_missing_bundle() -> Vec<Route> {
    spa_routes()
        .into_iter()
        .filter(|r| r.path != MISSING)
        .collect()
}

/// A run to its end, and where its HTML report is.
async fn probe_html(url: &str, args: &[&str]) -> (Run, PathBuf) {
    let run = probe(url, args).await;
    let html = run.html();
    (run, html)
}

pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Failed loads per Unix second of their start, from the JSON report.
fn failed_per_second(report: &Value) -> BTreeMap<u64, u64> {
    let mut out = BTreeMap::new();
    for load in report["loads"].as_array().unwrap() {
        if load["outcome"] == "failed" {
            *out.entry(load["started_at_ms"].as_u64().unwrap() / 1000)
                .or_default() += 1;
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_report_shows_what_the_json_says_in_a_real_browser() {
    let site = Site::start(site_missing_bundle()).await.unwrap();
    let bundle = site.url(MISSING);
    let (run, html) = probe_html(&site.url("/"), &["--loads", "4", "--workers", "2"]).await;
    site.shutdown().await;
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let report = run.json();
    let text = std::fs::read_to_string(&html).expect("the HTML report was written");
    eprintln!("HTML report: {} bytes", text.len());
    // Self-contained: no script, no stylesheet link, no external CSS; the browser checks the rest.
    for needle in ["<script", "<link", "@import", "url("] {
        assert!(
            !text.contains(needle),
            "{needle} in a self-contained report"
        );
    }

    let seen = show_in_chromium(&html, r#"(() => {
                    const all = (sel, f) => [...document.querySelectorAll(sel)].map(f);
                    return {
                        status: document.getElementById("verdict").dataset.status,
                        failedBars: all("rect.bar.failed", (r) => [Number(r.dataset.second), Number(r.dataset.count)]),
                        okBars: all("rect.bar.ok", (r) => Number(r.dataset.count)),
                        rows: all("tr.failure-row", (r) => [r.dataset.url, r.dataset.class, Number(r.dataset.count), r.querySelector("td.url").textContent]),
                        slow: all("tr.slow-load", (r) => Number(r.dataset.durationMs)),
                        resources: performance.getEntriesByType("resource").map((e) => e.name),
                        barHeight: document.querySelector("rect.bar.failed")?.getBBox().height ?? 0,
                    };
                })()"#, "report.png").await;

    assert_eq!(seen["status"], "fail");
    assert_eq!(
        seen["resources"],
        Value::Array(vec![]),
        "the report fetched nothing"
    );
    let bars: BTreeMap<u64, u64> = seen["failedBars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b[0].as_u64().unwrap(), b[1].as_u64().unwrap()))
        .collect();
    assert_eq!(bars, failed_per_second(report), "failed bars per second");
    assert_eq!(
        bars.values().sum::<u64>(),
        report["summary"]["failed"].as_u64().unwrap()
    );
    let ok: u64 = seen["okBars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(ok, report["summary"]["ok"].as_u64().unwrap());
    assert!(seen["barHeight"].as_f64().unwrap() > 1.0, "{seen}");

    let rows = seen["rows"].as_array().unwrap();
    let missing: Vec<&Value> = rows.iter().filter(|r| r[0] == bundle.as_str()).collect();
    assert_eq!(missing.len(), 1, "one row for the missing bundle: {rows:?}");
    assert_eq!(missing[0][1], "missing_asset");
    assert_eq!(missing[0][2], 4, "missed once per load");
    assert_eq!(missing[0][3], bundle.as_str(), "the URL is shown as text");
    assert_eq!(seen["slow"].as_array().unwrap().len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_command_renders_the_runs_junit_again() {
    let site = Site::start(site_missing_bundle()).await.unwrap();
    let (run, _) = probe_html(&site.url("/"), &["--loads", "3", "--workers", "1"]).await;
    site.shutdown().await;
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );

    let dir = run.dir.path();
    let (json, xml, html) = (
        dir.join("report.json"),
        dir.join("again.xml"),
        dir.join("again.html"),
    );
    let Output {
        code,
        stdout,
        stderr,
    } = Cmd::new([
        "report".as_ref(),
        json.as_os_str(),
        "--junit".as_ref(),
        xml.as_os_str(),
        "--html".as_ref(),
        html.as_os_str(),
    ])
    .run()
    .await;
    assert_eq!(code, 0, "a failed run renders fine: {stderr}");
    assert_eq!(
        stdout, run.stdout,
        "the same text summary as the run printed"
    );
    let original = run.junit.as_deref().unwrap();
    let again = std::fs::read_to_string(&xml).unwrap();
    let structure = junit::suites(original);
    assert!(!structure.is_empty() && !structure[0].cases.is_empty());
    assert_eq!(junit::suites(&again), structure);
    assert_eq!(again, original, "the same JUnit bytes as the run wrote");
    assert_eq!(
        std::fs::read_to_string(&html).unwrap(),
        std::fs::read_to_string(dir.join("report.html")).unwrap(),
        "the same HTML as the run wrote"
    );

    // Not a report: exit 2 and a message, nothing written.
    let bogus = dir.join("bogus.json");
    std::fs::write(&bogus, "{\"not\": \"a report\"}").unwrap();
    let out = dir.join("never.xml");
    let Output { code, stderr, .. } = Cmd::new([
        "report".as_ref(),
        bogus.as_os_str(),
        "--junit".as_ref(),
        out.as_os_str(),
    ])
    .run()
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not a rollprobe JSON report"), "{stderr}");
    assert!(!out.exists());
    let Output { code, stderr, .. } =
        Cmd::new(["report".as_ref(), dir.join("absent.json").as_os_str()])
            .run()
            .await;
    assert_eq!(code, 2, "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_of_two_concurrent_probers_is_one_verdict() {
    let site = Site::start(site_missing_bundle()).await.unwrap();
    let bundle = site.url(MISSING);
    let url = site.url("/");
    let (a, b) = tokio::join!(
        probe_html(&url, &["--loads", "3", "--workers", "1"]),
        probe_html(&url, &["--loads", "2", "--workers", "1"]),
    );
    site.shutdown().await;
    let (a, b) = (a.0, b.0);
    for run in [&a, &b] {
        assert_eq!(
            run.code, 1,
            "stdout: {}\nstderr: {}",
            run.stdout, run.stderr
        );
    }

    let out = tempfile::tempdir().unwrap();
    let (json, xml, html) = (
        out.path().join("all.json"),
        out.path().join("all.xml"),
        out.path().join("all.html"),
    );
    let Output {
        code,
        stdout,
        stderr,
    } = Cmd::new([
        "merge".as_ref(),
        a.dir.path().join("report.json").as_os_str(),
        b.dir.path().join("report.json").as_os_str(),
        "--json".as_ref(),
        json.as_os_str(),
        "--junit".as_ref(),
        xml.as_os_str(),
        "--html".as_ref(),
        html.as_os_str(),
    ])
    .run()
    .await;
    assert_eq!(code, 1, "the merged verdict fails: {stdout}\n{stderr}");
    assert!(stdout.starts_with("FAIL"), "{stdout}");
    assert!(html.exists());

    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let n = |r: &Value, k: &str| r["summary"][k].as_u64().unwrap();
    let (ra, rb) = (a.json(), b.json());
    assert_eq!(merged["schema_version"], 1);
    assert_eq!(merged["verdict"]["status"], "fail");
    assert_eq!(n(&merged, "loads"), 5);
    assert_eq!(n(&merged, "loads"), n(ra, "loads") + n(rb, "loads"));
    assert_eq!(n(&merged, "failed"), n(ra, "failed") + n(rb, "failed"));
    assert_eq!(
        n(&merged, "requests"),
        n(ra, "requests") + n(rb, "requests")
    );
    let len = |r: &Value, k: &str| r[k].as_array().unwrap().len();
    assert_eq!(len(&merged, "loads"), 5);
    assert_eq!(
        len(&merged, "failures"),
        len(ra, "failures") + len(rb, "failures")
    );
    let mut ids: Vec<u64> = merged["loads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_u64().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "load ids stay unique");
    for f in merged["failures"].as_array().unwrap() {
        assert!(ids.contains(&f["load_id"].as_u64().unwrap()), "{f}");
    }
    let resources = merged["summary"]["failing_resources"].as_array().unwrap();
    let missing: Vec<&Value> = resources
        .iter()
        .filter(|r| r["url"] == bundle.as_str())
        .collect();
    assert_eq!(missing.len(), 1, "{resources:?}");
    assert_eq!(missing[0]["count"], 5, "3 + 2 loads missed the bundle");
    let firsts = [ra, rb].map(|r| {
        r["summary"]["failing_resources"][0]["first_unix_ms"]
            .as_u64()
            .unwrap()
    });
    assert_eq!(
        missing[0]["first_unix_ms"].as_u64().unwrap(),
        firsts[0].min(firsts[1])
    );
    let phases = merged["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 1);
    assert_eq!(phases[0]["summary"]["loads"], 5);
    assert_eq!(
        phases[0]["started_at_ms"].as_u64().unwrap(),
        [ra, rb]
            .map(|r| r["phases"][0]["started_at_ms"].as_u64().unwrap())
            .into_iter()
            .min()
            .unwrap()
    );
    assert_eq!(merged["settings"]["workers"], 2);

    // JUnit: the run's suite says 5 loads, 5 missing assets, and names the culprit.
    let suites = junit::suites(&std::fs::read_to_string(&xml).unwrap());
    let suite = suites.first().expect("a testsuite");
    assert_eq!(suite.tests, suite.cases.len());
    assert_eq!(suite.failures, suite.failed_cases().count());
    let message = |name: &str| suite.failure_message(name);
    assert!(message("all page loads succeed").starts_with("5 of 5 loads failed"));
    assert_eq!(
        message("no missing hashed assets"),
        "5 missing_asset failure(s) in 5 of 5 loads"
    );
    message(&format!("404 {bundle}"));

    // Shards of different sites do not make one verdict.
    let other = out.path().join("other.json");
    let mut changed = rb.clone();
    changed["target"] = Value::from("http://127.0.0.1:1/");
    std::fs::write(&other, changed.to_string()).unwrap();
    let Output { code, stderr, .. } = Cmd::new([
        "merge".as_ref(),
        a.dir.path().join("report.json").as_os_str(),
        other.as_os_str(),
    ])
    .run()
    .await;
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("same target"), "{stderr}");
}

/// `ci/check_junit.py` (junitparser, from the venv `ci/ci-tools.sh` makes) on a JUnit file:
/// panics with its complaints unless it reads the file as GitLab and Jenkins do.
pub fn check_junit(xml: &Path, attachments: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tools = std::process::Command::new(root.join("ci/ci-tools.sh"))
        .output()
        .expect("ci/ci-tools.sh runs");
    assert!(
        tools.status.success(),
        "ci/ci-tools.sh: {}",
        String::from_utf8_lossy(&tools.stderr)
    );
    let venv = PathBuf::from(String::from_utf8(tools.stdout).unwrap().trim());
    let out = std::process::Command::new(venv.join("bin/python"))
        .arg(root.join("ci/check_junit.py"))
        .arg(xml)
        .args(["--attachments", attachments])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    stdout.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn junit_reads_as_gitlab_and_jenkins_read_it() {
    let site = Site::start(site_missing_bundle()).await.unwrap();
    // Around a deploy command: phase suites and the checks suite, the same questions in each.
    // The bundle is missing before the deploy too, so only the absolute verdict fails on it.
    let run = probe(
        &site.url("/"),
        &[
            "--count-pre-existing",
            "--workers",
            "1",
            "--baseline",
            "2s",
            "--settle",
            "2s",
            "--",
            "sleep",
            "1",
        ],
    )
    .await;
    site.shutdown().await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let said = check_junit(&run.dir.path().join("report.xml"), "any");
    eprintln!("{said}");
    assert!(said.contains("4 suites"), "{said}");
}

/// Opens an HTML report in a real headless Chromium (1280x900), gives what `script` reads of
/// it, and leaves a full-page screenshot named `screenshot` in target/test-artifacts/.
pub async fn show_in_chromium(html: &Path, script: &str, screenshot: &str) -> Value {
    let chromium = rollprobe::browser::Chromium::launch(&rollprobe::browser::BrowserOptions {
        executable: rollprobe::browser::resolve_executable(None, None).unwrap(),
        cdp_timeout: Duration::from_secs(15),
        trust: Default::default(),
        host_map: Vec::new(),
        shared_renderers: false,
    })
    .await
    .unwrap();
    let seen = tokio::time::timeout(Duration::from_secs(60), async {
        use chromiumoxide_cdp::cdp::browser_protocol::{emulation, page};
        let tab = chromium.open_page(None).await.unwrap();
        tab.call(emulation::SetDeviceMetricsOverrideParams::new(
            1280, 900, 1.0, false,
        ))
        .await
        .unwrap();
        tab.call(page::NavigateParams::new(format!(
            "file://{}",
            html.display()
        )))
        .await
        .unwrap();
        while tab.evaluate("document.readyState").await.ok() != Some("complete".into()) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let seen: Value = tab.evaluate(script).await.unwrap();
        // The whole page in one picture: a viewport as tall as the document.
        let height = tab
            .evaluate("document.documentElement.scrollHeight")
            .await
            .unwrap()
            .as_i64()
            .unwrap_or(900);
        tab.call(emulation::SetDeviceMetricsOverrideParams::new(
            1280, height, 1.0, false,
        ))
        .await
        .unwrap();
        let png = artifacts().join(screenshot);
        std::fs::write(&png, tab.screenshot().await.unwrap()).unwrap();
        eprintln!("screenshot of the report: {}", png.display());
        seen
    })
    .await;
    chromium.shutdown().await;
    seen.expect("the HTML report rendered within 60 s")
}
