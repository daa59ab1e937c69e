//! A PASS users can trust: assets answered with the wrong content (the SPA fallback), pages that
//! never rendered, and pages that ended blank, in real Chromium against local sites.

use crate::support::junit::Suite;
use crate::support::{Run, probe, spa_routes};
use rollprobe::sim::{Route, Site};

const BUNDLE: &str = "/assets/index-3f9a1c.js";
const STYLESHEET: &str = "/assets/index-5e1f0c.css";

/// The page a static server's SPA fallback answers for any path it does not have.
fn index_html() -> Vec<u8> {
    spa_routes()
        .into_iter()
        .find(|r| r.path == "/")
        .unwrap()
        .body
}

/// `spa_routes`, with `paths` answered by the fallback: 200 text/html, the index page.
fn with_fallback(paths: &[&str], nosniff: bool) -> Vec<Route> {
    spa_routes()
        .into_iter()
        .map(|r| {
            if !paths.contains(&r.path.as_str()) {
                return r;
            }
            let fallback = Route::html(&r.path, index_html());
            if nosniff {
                fallback.header("X-Content-Type-Options", "nosniff")
            } else {
                fallback
            }
        })
        .collect()
}

fn assert_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

/// The URLs that failed as `wrong_content`, sorted, once each.
fn wrong_content_urls(run: &Run) -> Vec<String> {
    let mut urls: Vec<String> = run
        .failures()
        .into_iter()
        .filter(|f| f.0 == "wrong_content")
        .map(|f| f.1)
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_answered_with_the_index_page_is_wrong_content() {
    let site = Site::start(with_fallback(&[BUNDLE], false)).await.unwrap();
    let bundle = site.url(BUNDLE);
    let run = probe(&site.url("/"), &["--loads", "2"]).await;
    site.shutdown().await;

    assert_code(&run, 1);
    assert_eq!(run.classes(), vec!["wrong_content"]);
    assert_eq!(wrong_content_urls(&run), vec![bundle.clone()]);
    let failure = run.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["class"] == "wrong_content")
        .unwrap()
        .clone();
    assert_eq!(
        (failure["status"].as_u64(), failure["error"].as_str()),
        (Some(200), Some("text/html"))
    );
    let message = failure["message"].as_str().unwrap();
    assert!(
        message.contains(&bundle)
            && message.contains("200 text/html")
            && message.contains("SPA fallback"),
        "{message}"
    );
    // The request detail says what came back.
    let detail = &run.json()["failed_load_details"][0]["requests"];
    let request = detail
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["url"] == bundle.as_str())
        .unwrap();
    assert_eq!(request["mime_type"], "text/html");
    assert_eq!(request["content_type"], "text/html; charset=utf-8");
    assert!(request["encoded_bytes"].as_u64().unwrap() > 0, "{request}");

    let failed: Vec<String> = run
        .junit_suites()
        .iter()
        .flat_map(Suite::failed_case_names)
        .map(str::to_string)
        .collect();
    assert!(
        failed.contains(&"no assets answered with the wrong content".to_string()),
        "{failed:?}"
    );
    assert!(
        run.stdout.contains(&format!("200 text/html {bundle}")),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nosniff_fallback_for_script_and_stylesheet_is_wrong_content() {
    let site = Site::start(with_fallback(&[BUNDLE, STYLESHEET], true))
        .await
        .unwrap();
    let run = probe(&site.url("/"), &["--loads", "2"]).await;
    let expected = vec![site.url(BUNDLE), site.url(STYLESHEET)];
    site.shutdown().await;

    assert_code(&run, 1);
    assert_eq!(
        wrong_content_urls(&run),
        expected,
        "a stylesheet refused under nosniff arrives as an abort: still wrong_content, {:?}",
        run.failures()
    );
    assert!(
        !run.recorded_classes()
            .contains(&"network_error".to_string()),
        "{:?}",
        run.failures()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_asset_blocked_by_orb_is_wrong_content() {
    // Another port is another origin: a CDN that answers a missing file with its index page.
    let cdn = Site::start(vec![Route::html("/app.js", index_html())])
        .await
        .unwrap();
    let script = cdn.url("/app.js");
    let page = format!(r#"<!doctype html><script src="{script}"></script><p>shell</p>"#);
    let site = Site::start(vec![Route::html("/", page)]).await.unwrap();
    let run = probe(&site.url("/"), &["--loads", "1"]).await;
    site.shutdown().await;
    cdn.shutdown().await;

    assert_code(&run, 1);
    assert_eq!(
        run.failures(),
        vec![(
            "wrong_content".to_string(),
            script,
            "net::ERR_BLOCKED_BY_ORB".to_string()
        )]
    );
}

/// A page whose whole app is `/assets/app.js`, mounting into `#app`.
fn app(script: &str) -> Vec<Route> {
    vec![
        Route::html(
            "/",
            r#"<!doctype html><script type="module" src="/assets/app.js"></script><div id="app"></div>"#,
        ),
        Route::new("/assets/app.js", "text/javascript", script.to_string()),
    ]
}

/// The bundle loads with 200 and throws before the app mounts: `#app` stays empty.
fn throwing_app() -> Vec<Route> {
    app(
        r#"throw new Error("config missing"); document.getElementById("app").innerHTML = "<h1>hi</h1>";"#,
    )
}

/// The same app, mounting.
fn mounting_app() -> Vec<Route> {
    app(r#"document.getElementById("app").innerHTML = "<main><h1>Dashboard</h1></main>";"#)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_that_throws_before_mount_is_not_rendered_or_blank() {
    let site = Site::start(throwing_app()).await.unwrap();
    let with_selector = probe(
        &site.url("/"),
        &["--loads", "1", "--expect-selector", "#app *"],
    )
    .await;
    let without = probe(&site.url("/"), &["--loads", "1"]).await;
    site.shutdown().await;

    assert_code(&with_selector, 1);
    assert_eq!(with_selector.classes(), vec!["not_rendered"]);
    let failure = &with_selector.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["class"] == "not_rendered")
        .unwrap()
        .clone();
    assert!(
        failure["message"].as_str().unwrap().contains("#app *"),
        "{failure}"
    );
    assert_eq!(
        with_selector.json()["settings"]["expect_selector"],
        "#app *"
    );
    assert!(
        with_selector
            .recorded_classes()
            .contains(&"js_error".to_string()),
        "the exception is recorded too"
    );

    assert_code(&without, 1);
    assert_eq!(without.classes(), vec!["blank_page"]);
    let failed: Vec<String> = without
        .junit_suites()
        .iter()
        .flat_map(Suite::failed_case_names)
        .map(str::to_string)
        .collect();
    assert!(failed.contains(&"no blank pages".to_string()), "{failed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_that_mounts_passes_with_and_without_the_selector() {
    let site = Site::start(mounting_app()).await.unwrap();
    let with_selector = probe(
        &site.url("/"),
        &["--loads", "1", "--expect-selector", "#app h1"],
    )
    .await;
    let without = probe(&site.url("/"), &["--loads", "1"]).await;
    // A page that draws on a canvas and has no text is not blank.
    let canvas = Site::start(vec![Route::html(
        "/",
        r#"<!doctype html><canvas id="c" width="300" height="150"></canvas><script>document.getElementById("c").getContext("2d").fillRect(0, 0, 50, 50);</script>"#,
    )])
    .await
    .unwrap();
    let canvas_only = probe(&canvas.url("/"), &["--loads", "1"]).await;
    site.shutdown().await;
    canvas.shutdown().await;

    assert_code(&with_selector, 0);
    assert_code(&without, 0);
    assert_code(&canvas_only, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_selector_is_a_usage_error_not_the_sites_failure() {
    let site = Site::start(mounting_app()).await.unwrap();
    let run = probe(
        &site.url("/"),
        &["--loads", "1", "--expect-selector", "#app >>> h1"],
    )
    .await;
    site.shutdown().await;

    assert_code(&run, 2);
    assert!(
        run.stderr.contains("not a valid CSS selector"),
        "{}",
        run.stderr
    );
    assert!(run.json.is_none(), "no report for a run that never started");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_refused_for_its_type_and_stream_answered_with_html_are_wrong_content() {
    // Not HTML, so only the browser's own refusal shows it: a module served as text/plain.
    let site = Site::start(vec![
        Route::html(
            "/",
            r#"<!doctype html><p>shop</p><script type="module" src="/assets/app.js"></script>
<script>new EventSource("/events");</script>"#,
        ),
        Route::new("/assets/app.js", "text/plain", "export default 1;"),
        Route::html("/events", index_html()),
    ])
    .await
    .unwrap();
    let run = probe(&site.url("/"), &["--loads", "1"]).await;
    let expected = vec![site.url("/assets/app.js"), site.url("/events")];
    site.shutdown().await;

    assert_code(&run, 1);
    assert_eq!(wrong_content_urls(&run), expected, "{:?}", run.failures());
    let module = run
        .failures()
        .into_iter()
        .find(|f| f.1.ends_with("/assets/app.js"))
        .unwrap();
    assert_eq!(module.2, "200", "{module:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_sent_cacheable_fails_its_own_check_with_the_figure() {
    // What a CDN in front of a rolling deploy keeps for a year: a hashed bundle's 404, sent
    // with the headers the real bundle gets.
    let routes: Vec<Route> = spa_routes()
        .into_iter()
        .map(|r| match r.path == BUNDLE {
            true => Route::new(BUNDLE, "text/plain", "not found")
                .status(404)
                .header("Cache-Control", "public, max-age=31536000, immutable")
                .header("Age", "37")
                .header("X-Cache", "HIT"),
            false => r,
        })
        .collect();
    let site = Site::start(routes).await.unwrap();
    let run = probe(&site.url("/"), &["--loads", "2", "--workers", "1"]).await;
    site.shutdown().await;
    assert_code(&run, 1);
    let check = run.check("no failure answered cacheable");
    assert_eq!(check["passed"], false, "{check}");
    assert!(
        check["message"].as_str().unwrap().contains("31536000 s"),
        "{check}"
    );
    let failure = run.json()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["url"].as_str().unwrap().ends_with(BUNDLE))
        .cloned()
        .unwrap();
    assert_eq!(failure["cacheable_s"], 31_536_000, "{failure}");
    assert_eq!(failure["cache"]["age"], "37", "{failure}");
    assert_eq!(failure["cache"]["x-cache"], "HIT", "{failure}");
    let failed = run.failed_junit_cases();
    assert!(
        failed.contains(&"no failure answered cacheable".to_string()),
        "{failed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_page_cached_for_a_day_is_a_warning_with_the_figure() {
    let routes: Vec<Route> = spa_routes()
        .into_iter()
        .map(|r| match r.path == "/" {
            true => r.header("Cache-Control", "public, max-age=86400"),
            false => r,
        })
        .collect();
    let site = Site::start(routes).await.unwrap();
    let run = probe(&site.url("/"), &["--loads", "2", "--workers", "1"]).await;
    site.shutdown().await;
    // A warning: the loads passed, and so does the run.
    assert_code(&run, 0);
    let check = run.check("the start document is not kept by caches for long");
    assert_eq!(
        (&check["passed"], &check["warning"]),
        (&false.into(), &true.into())
    );
    assert!(
        check["message"].as_str().unwrap().contains("86400 s"),
        "{check}"
    );
}
