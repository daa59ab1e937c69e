//! `rollprobe run` end to end: the real binary, a real headless Chromium, a real site on
//! 127.0.0.1 serving each case.

use std::time::Duration;

use crate::support::junit::Suite;
use crate::support::{Cmd, closed_port, probe, spa_routes};
use rollprobe::sim::{Route, Site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_spa_with_lazy_chunk_passes() {
    let site = Site::start(spa_routes()).await.unwrap();
    let run = probe(&site.url("/"), &["--loads", "4", "--workers", "2"]).await;
    site.shutdown().await;

    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let report = run.json();
    assert_eq!(report["schema_version"], 1);
    assert_eq!(report["verdict"]["status"], "pass");
    assert_eq!(report["summary"]["loads"], 4);
    assert_eq!(report["summary"]["ok"], 4);
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    // Document, stylesheet, entry and the lazily imported chunk: the load waited for the chunk.
    for load in report["loads"].as_array().unwrap() {
        assert_eq!(load["outcome"], "ok");
        assert_eq!(load["requests"], 4, "{load}");
    }
    assert!(run.stdout.starts_with("PASS"), "{}", run.stdout);
}

/// A page that finds what an earlier visit left (a cookie, local or session storage, a cached
/// stylesheet) asks for a URL the site does not have: the load fails.
const REMEMBERS_VISITS: &str = r#"<!doctype html><html><head>
<link rel="stylesheet" href="/cached.css"></head><body><div id="app">ready</div><script>
(async () => {
  const seen = document.cookie.includes("visited=1") || localStorage.getItem("visited") ||
    sessionStorage.getItem("visited");
  const cached = performance.getEntriesByType("resource")
    .some((e) => e.name.endsWith("/cached.css") && e.transferSize === 0);
  document.cookie = "visited=1; max-age=3600";
  localStorage.setItem("visited", "1");
  sessionStorage.setItem("visited", "1");
  if (seen || cached) await fetch("/carried-over");
})();
</script></body></html>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_load_is_a_fresh_user_with_nothing_carried_over() {
    let site = Site::start(vec![
        Route::html("/", REMEMBERS_VISITS),
        Route::new("/cached.css", "text/css", "body { color: black }")
            .header("cache-control", "max-age=3600"),
    ])
    .await
    .unwrap();
    // Users are made ahead of their loads: each still starts with nothing of another's.
    let run = probe(&site.url("/"), &["--loads", "8", "--workers", "2"]).await;
    site.shutdown().await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    let report = run.json();
    assert_eq!(report["summary"]["ok"], 8);
    // The document and its stylesheet, once each: no load saw another's requests.
    for load in report["loads"].as_array().unwrap() {
        assert_eq!(load["requests"], 2, "{load}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_headless_shell_by_default_and_full_chromium_on_request() {
    let site = Site::start(spa_routes()).await.unwrap();
    let shell = probe(&site.url("/"), &["--loads", "2"]).await;
    let full = probe(&site.url("/"), &["--loads", "2", "--browser", "full"]).await;
    site.shutdown().await;

    for (run, name) in [(&shell, "chromium-headless-shell ("), (&full, "chromium (")] {
        assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
        let browser = run.json()["prober"]["browser"].as_str().unwrap_or_default();
        assert!(browser.starts_with(name), "{browser}");
        assert!(
            browser.contains("Chrome/"),
            "the version it reports: {browser}"
        );
        assert!(run.stdout.contains(browser), "{}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_hashed_bundle_is_a_missing_asset() {
    let routes = spa_routes()
        .into_iter()
        .filter(|r| r.path != "/assets/index-3f9a1c.js")
        .collect();
    let site = Site::start(routes).await.unwrap();
    let bundle = site.url("/assets/index-3f9a1c.js");
    let run = probe(&site.url("/"), &["--loads", "3"]).await;
    site.shutdown().await;

    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(
        run.failures(),
        vec![
            (
                "missing_asset".to_string(),
                bundle.clone(),
                "404".to_string()
            );
            3
        ],
        "the 404 is counted once per load, not twice with its ERR_ABORTED"
    );
    assert_eq!(
        run.json()["summary"]["failed_loads_by_class"]["missing_asset"],
        3
    );
    assert!(run.stdout.contains(&bundle), "{}", run.stdout);

    let suites = run.junit_suites();
    let failed: Vec<&str> = suites.iter().flat_map(Suite::failed_case_names).collect();
    assert!(failed.contains(&"all page loads succeed"), "{failed:?}");
    assert!(failed.contains(&"no missing hashed assets"), "{failed:?}");
    assert!(
        failed.contains(&format!("404 {bundle}").as_str()),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_to_a_closed_port_is_a_network_error() {
    let api = format!("http://127.0.0.1:{}/api/items", closed_port());
    let page =
        format!(r#"<!doctype html><script>fetch("{api}").catch(() => {{}});</script><p>shop</p>"#);
    let site = Site::start(vec![Route::html("/", page)]).await.unwrap();
    let run = probe(&site.url("/"), &["--loads", "2"]).await;
    site.shutdown().await;

    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(
        run.failures(),
        vec![
            (
                "network_error".to_string(),
                api.clone(),
                "net::ERR_CONNECTION_REFUSED".to_string()
            );
            2
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_that_never_goes_idle_times_out() {
    let page = r#"<!doctype html><script>
setInterval(() => fetch("/poll").catch(() => {}), 100);
</script><p>live</p>"#;
    let site = Site::start(vec![
        Route::html("/", page),
        Route::new("/poll", "application/json", "{}").delay(Duration::from_millis(300)),
    ])
    .await
    .unwrap();
    let run = probe(&site.url("/"), &["--loads", "1", "--load-timeout", "3s"]).await;
    site.shutdown().await;

    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(run.classes(), vec!["timeout"]);
    let failure = &run.json()["failures"][0];
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("network not idle"),
        "{failure}"
    );
    let duration = run.json()["loads"][0]["duration_ms"].as_f64().unwrap();
    assert!(
        (3000.0..8000.0).contains(&duration),
        "load took {duration} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_document_fails_without_hanging() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let run = probe(&url, &["--loads", "2", "--load-timeout", "10s"]).await;

    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert_eq!(
        run.failures(),
        vec![
            (
                "network_error".to_string(),
                url.clone(),
                "net::ERR_CONNECTION_REFUSED".to_string()
            );
            2
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_answering_502_is_an_http_error() {
    let site = Site::start(vec![Route::html("/", "<h1>Bad Gateway</h1>").status(502)])
        .await
        .unwrap();
    let url = site.url("/");
    let run = probe(&url, &["--loads", "1"]).await;
    site.shutdown().await;

    assert_eq!(run.code, 1);
    assert_eq!(
        run.failures(),
        vec![("http_error".to_string(), url, "502".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_errors_are_recorded_and_count_only_when_asked() {
    // The page has content: an exception that breaks nothing a user sees.
    let page = r#"<!doctype html><p>shop</p><script>throw new Error("boom in render");</script>"#;
    let site = Site::start(vec![Route::html("/", page)]).await.unwrap();
    let lenient = probe(&site.url("/"), &["--loads", "1"]).await;
    let strict = probe(&site.url("/"), &["--loads", "1", "--fail-on-js-error"]).await;
    site.shutdown().await;

    assert_eq!(lenient.code, 0, "{}", lenient.stdout);
    assert_eq!(
        lenient.recorded_classes(),
        vec!["js_error"],
        "recorded even when it does not count"
    );
    assert!(lenient.classes().is_empty());
    assert_eq!(strict.classes(), vec!["js_error"]);
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    let message = strict.json()["failures"][0]["message"].as_str().unwrap();
    assert!(message.contains("boom in render"), "{message}");
}

/// The page's console is heard once its document loaded (Chromium replays what the document
/// logged): what it said while loading, while idle, and on the next document of a journey is
/// all the load's, at the time it was said.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_errors_of_every_moment_of_a_journey_are_heard() {
    let start = r#"<!doctype html><a id="next" href="/next">next</a><script>
console.error("said while loading");
setTimeout(() => { throw new Error("thrown while idle"); }, 150);
</script>"#;
    let next = r#"<!doctype html><p id="there">there</p><script>throw new Error("thrown on the next page");</script>"#;
    let site = Site::start(vec![Route::html("/", start), Route::html("/next", next)])
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journey = dir.path().join("journey.toml");
    std::fs::write(
        &journey,
        "[[step]]\nclick = \"#next\"\n[[step]]\nwait_for = \"#there\"\n",
    )
    .unwrap();
    let run = probe(
        &site.url("/"),
        &["--scenario", journey.to_str().unwrap(), "--loads", "2"],
    )
    .await;
    site.shutdown().await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    for load in report["loads"].as_array().unwrap() {
        let (from, ms) = (
            load["started_at_ms"].as_u64().unwrap(),
            load["duration_ms"].as_f64().unwrap(),
        );
        let said: Vec<(&str, u64)> = report["failures"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["load_id"] == load["id"] && f["class"] == "js_error")
            .map(|f| {
                (
                    f["message"].as_str().unwrap(),
                    f["at_unix_ms"].as_u64().unwrap(),
                )
            })
            .collect();
        for text in [
            "said while loading",
            "thrown while idle",
            "thrown on the next page",
        ] {
            let (_, at) = said
                .iter()
                .find(|(m, _)| m.contains(text))
                .unwrap_or_else(|| panic!("{text} not heard: {said:?}"));
            assert!(
                (from..=from + ms as u64 + 1).contains(at),
                "{text} at {at}, the load ran {from} + {ms} ms"
            );
        }
        assert_eq!(said.len(), 3, "each said once: {said:?}");
    }
}

/// When JS errors count, every one is heard, a document's the page left on its own during the
/// load (a hard reload after a failed chunk) included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counted_js_errors_of_a_document_the_page_left_are_heard() {
    let page = r#"<!doctype html><p>shop</p><script>
if (!sessionStorage.getItem("reloaded")) {
  sessionStorage.setItem("reloaded", "1");
  console.error("said before the reload");
  location.reload();
}
</script>"#;
    let site = Site::start(vec![Route::html("/", page)]).await.unwrap();
    let run = probe(&site.url("/"), &["--loads", "1", "--fail-on-js-error"]).await;
    site.shutdown().await;

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.classes(), vec!["js_error"]);
    let message = run.json()["failures"][0]["message"].as_str().unwrap();
    assert!(message.contains("said before the reload"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_urls_are_not_judged() {
    let page = r#"<!doctype html><script src="/analytics/tag.js"></script><p>hi</p>"#;
    let site = Site::start(vec![Route::html("/", page)]).await.unwrap();
    let judged = probe(&site.url("/"), &["--loads", "1"]).await;
    let ignored = probe(
        &site.url("/"),
        &["--loads", "1", "--ignore", "*/analytics/*"],
    )
    .await;
    site.shutdown().await;

    assert_eq!(judged.code, 1);
    assert_eq!(ignored.code, 0, "{}", ignored.stdout);
    assert!(ignored.failures().is_empty());
}

#[tokio::test]
async fn port_chromium_refuses_is_a_usage_error_not_downtime() {
    let run = probe("http://127.0.0.1:9/", &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("ERR_UNSAFE_PORT"), "{}", run.stderr);
}

#[tokio::test]
async fn chromium_that_does_not_start_is_inconclusive_with_reports() {
    let run = probe("http://127.0.0.1:8/", &["--chromium", "/bin/true"]).await;
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["verdict"]["status"], "inconclusive");
    let notes = report["notes"].to_string();
    assert!(notes.contains("could not start /bin/true"), "{notes}");
    assert!(
        run.stdout.contains("could not start /bin/true"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn settings_that_cannot_work_are_usage_errors() {
    // Each names the rule it broke, by the flag and the scenario key that set it.
    for (args, rule) in [
        (
            &["--loads", "0"][..],
            "--loads (`[load] loads`) 0 would measure nothing",
        ),
        (
            &["--idle", "10s", "--load-timeout", "5s"],
            "--idle (`[load] idle`) 10s cannot end a load within its 5s timeout",
        ),
        (
            &["--long-request", "10s", "--load-timeout", "5s"],
            "--long-request (`[load] long_request`) 10s cannot end a long-polling load",
        ),
        (
            &["--open-tabs", "1", "--open-tabs-every", "0s"],
            "--open-tabs-every (`[open_tabs] every`) 0s: give a duration longer than zero",
        ),
        (
            &["--load-timeout", "0s"],
            "--load-timeout (`[load] load_timeout`) 0s: give a duration longer than zero",
        ),
        (&["--rate", "0/s"], "the rate must be above zero"),
        (
            &["--duration", "0s"],
            "--duration (`[load] duration`) 0s: give a duration longer than zero",
        ),
        (
            &["--workers", "2", "--rate", "1/s"],
            "--workers (`[load] workers`) and --rate (`[load] rate`) exclude each other",
        ),
    ] {
        let run = probe("http://127.0.0.1:8/", args).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(rule), "{args:?}: {}", run.stderr);
        assert!(
            run.json.is_none(),
            "{args:?}: no report for a run that never started"
        );
    }
}

#[tokio::test]
async fn bad_url_is_a_usage_error() {
    let run = probe("staging.example.com", &[]).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("bad URL"), "{}", run.stderr);
    assert!(run.json.is_none(), "no report for a run that never started");
}

#[tokio::test]
async fn missing_chromium_says_how_to_install_it() {
    let run = probe("http://127.0.0.1:8/", &["--chromium", "/nonexistent"]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("apt-get install -y chromium"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn an_unwritable_temporary_directory_says_so_not_how_to_install_chromium() {
    // As on Kubernetes with readOnlyRootFilesystem and no emptyDir at /tmp.
    let out = Cmd::new(["run", "http://127.0.0.1:8/", "--loads", "1"])
        .env("TMPDIR", "/proc/rollprobe-nowhere")
        .run()
        .await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("writable temporary directory")
            && out.stderr.contains("emptyDir at /tmp"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("apt-get"), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_resource_kinds_are_not_fetched_or_judged() {
    let page =
        r#"<!doctype html><img src="/logo.png"><link rel="stylesheet" href="/a.css"><p>hi</p>"#;
    let site = Site::start(vec![
        Route::html("/", page),
        Route::new("/a.css", "text/css", "p { color: red }"),
    ])
    .await
    .unwrap();
    let judged = probe(&site.url("/"), &["--loads", "1"]).await;
    let blocked = probe(&site.url("/"), &["--loads", "1", "--block", "images,fonts"]).await;
    site.shutdown().await;

    assert_eq!(
        judged.classes(),
        vec!["missing_asset"],
        "the logo 404s when fetched"
    );
    assert_eq!(blocked.code, 0, "{}\n{}", blocked.stdout, blocked.stderr);
    assert!(blocked.failures().is_empty(), "{:?}", blocked.failures());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_auto_ramps_up_within_its_ceiling_and_says_so() {
    let site = Site::start(spa_routes()).await.unwrap();
    let run = probe(
        &site.url("/"),
        &[
            "--workers",
            "auto",
            "--workers-ceiling",
            "3",
            "--duration",
            "8s",
        ],
    )
    .await;
    let ceiling_alone = probe(&site.url("/"), &["--workers-ceiling", "3", "--loads", "1"]).await;
    site.shutdown().await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    assert_eq!(report["settings"]["workers"], 3);
    assert_eq!(report["settings"]["workers_auto"], true);
    let steps = report["prober"]["worker_steps"].as_array().unwrap();
    // It starts at two users; after a window it either found more loads per second with more
    // users (then the ceiling) or held. Never past the ceiling.
    assert_eq!(steps[0]["workers"], 2, "{steps:?}");
    assert!(
        steps
            .iter()
            .all(|s| (1..=3).contains(&s["workers"].as_u64().unwrap()))
    );
    assert!(
        steps[1..]
            .iter()
            .all(|s| s["loads_per_s"].as_f64().is_some())
    );
    let workers: std::collections::BTreeSet<u64> = report["loads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["worker"].as_u64().unwrap())
        .collect();
    assert!(workers.iter().all(|&w| w < 3), "{workers:?}");
    assert!(run.stdout.contains("workers   auto, 2"), "{}", run.stdout);

    assert_eq!(ceiling_alone.code, 2, "{}", ceiling_alone.stderr);
    assert!(
        ceiling_alone.stderr.contains("--workers auto"),
        "{}",
        ceiling_alone.stderr
    );
}

/// A server that promises a long document, sends a bit of it and hangs up.
async fn cut_document_server() -> (String, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        // Bounded: the test makes two loads, Chromium may retry once each.
        for _ in 0..6 {
            let Ok(Ok((mut conn, _))) =
                tokio::time::timeout(Duration::from_secs(20), listener.accept()).await
            else {
                return;
            };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf).await;
            let _ = conn
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n<p>half a page")
                .await;
            drop(conn);
        }
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_cut_mid_body_fails_at_once_not_as_a_timeout() {
    let (url, server) = cut_document_server().await;
    let run = probe(&url, &["--loads", "2", "--load-timeout", "20s"]).await;
    server.abort();

    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.classes(), vec!["network_error"], "{:?}", run.failures());
    for load in run.json()["loads"].as_array().unwrap() {
        let ms = load["duration_ms"].as_f64().unwrap();
        assert!(
            ms < 10_000.0,
            "the load ended with its document, not at the deadline: {ms} ms"
        );
    }
}
