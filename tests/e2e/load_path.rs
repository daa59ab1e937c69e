//! The load follows the browser: hand-written pages that each do one thing real apps do to a
//! load (a router rewriting the URL right after `load`, a dialog, a module Web Worker, a link to
//! a new document in the middle of a journey) and what a user, and the Playwright peer, see.

use crate::support::{Run, probe};
use rollprobe::sim::{Route, Site};

const JS: &str = "text/javascript";

fn page(body: &str) -> Route {
    Route::html(
        "/",
        format!("<!doctype html><html><body><h1>app</h1>{body}</body></html>"),
    )
}

fn loads(run: &Run) -> Vec<serde_json::Value> {
    run.json()["loads"].as_array().unwrap().clone()
}

/// Every load ok, each well within its timeout, and no prober error.
fn assert_all_ok(run: &Run, expected: usize) {
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let loads = loads(run);
    assert_eq!(loads.len(), expected, "{}", run.stdout);
    for load in &loads {
        assert_eq!(load["outcome"], "ok", "{load}");
        let ms = load["duration_ms"].as_f64().unwrap();
        assert!(ms < 5000.0, "a load took {ms} ms: {load}");
    }
    assert_eq!(run.json()["summary"]["prober_errors"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_router_rewriting_the_url_after_load_never_stalls_the_load() {
    // What React Router, the Next router and the SvelteKit router do right after `load`.
    let site = Site::start(vec![page(
        r#"<script>addEventListener('load', () => {
  history.replaceState({ router: 1 }, '', '/home');
  setTimeout(() => history.pushState({}, '', '/home#top'), 50);
});</script>"#,
    )])
    .await
    .unwrap();
    let run = probe(
        &site.url("/"),
        &["--loads", "4", "--workers", "2", "--load-timeout", "10s"],
    )
    .await;
    site.shutdown().await;
    assert_all_ok(&run, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dialogs_are_answered_recorded_and_never_a_timeout() {
    let site = Site::start(vec![page(
        r#"<script>alert('Welcome back');
if (confirm('Stay signed in?')) { document.body.append('confirmed'); }
prompt('Your name?', 'someone');</script><p id="after">after the dialogs</p>"#,
    )])
    .await
    .unwrap();
    let run = probe(&site.url("/"), &["--loads", "3", "--load-timeout", "10s"]).await;
    site.shutdown().await;
    assert_all_ok(&run, 3);
    for load in loads(&run) {
        let kinds: Vec<&str> = load["dialogs"]
            .as_array()
            .unwrap_or_else(|| panic!("no dialogs recorded: {load}"))
            .iter()
            .map(|d| d["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["alert", "confirm", "prompt"], "{load}");
        assert_eq!(load["dialogs"][0]["message"], "Welcome back");
    }
    assert!(
        run.stdout
            .contains("alert 'Welcome back' dismissed (3 loads)"),
        "the summary names the dialog and its answer: {}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scenario_can_accept_dialogs_and_answer_a_prompt() {
    let site = Site::start(vec![page(
        r#"<script>
const stay = confirm('Stay signed in?');
const name = prompt('Your name?', 'someone');
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('said').textContent = (stay ? 'stayed ' : 'left ') + name;
});</script><p id="said"></p>"#,
    )])
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    std::fs::write(
        &file,
        "[load]\ndialogs = \"accept\"\nprompt_text = \"Ada\"\n\n[[step]]\neval = \"document.getElementById('said').textContent === 'stayed Ada'\"\n",
    )
    .unwrap();
    let run = probe(
        &site.url("/"),
        &["--loads", "2", "--scenario", file.to_str().unwrap()],
    )
    .await;
    site.shutdown().await;
    assert_all_ok(&run, 2);
    for load in loads(&run) {
        let answers: Vec<&str> = load["dialogs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["answer"].as_str().unwrap())
            .collect();
        assert_eq!(answers, ["accepted", "accepted"], "{load}");
    }
    assert!(
        run.stdout
            .contains("prompt 'Your name?' accepted (2 loads)"),
        "{}",
        run.stdout
    );
}

fn worker_site(script: &str) -> Vec<Route> {
    vec![
        page(
            r#"<p id="said">waiting</p><script>
const w = new Worker('/worker.js', { type: 'module' });
w.onmessage = (e) => { document.getElementById('said').textContent = e.data; };
</script>"#,
        ),
        Route::new("/worker.js", JS, script),
        Route::new("/helper-3f9a1c.js", JS, "export const answer = 42;"),
        Route::new("/data.json", "application/json", r#"{"ok":true}"#),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_module_worker_is_part_of_the_load_and_never_holds_it() {
    let site = Site::start(worker_site(
        r#"import { answer } from '/helper-3f9a1c.js';
const data = await (await fetch('/data.json')).json();
postMessage(`worker says ${answer} ${data.ok}`);"#,
    ))
    .await
    .unwrap();
    let run = probe(&site.url("/"), &["--loads", "3", "--load-timeout", "10s"]).await;
    site.shutdown().await;
    assert_all_ok(&run, 3);
    // The document, the worker's script, and the worker's own import and fetch.
    for load in loads(&run) {
        assert_eq!(load["requests"], 4, "{load}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_missing_its_chunk_reports_the_404_not_a_timeout() {
    let site = Site::start(worker_site(
        r#"import { answer } from '/helper-b71e02.js';
postMessage(`worker says ${answer}`);"#,
    ))
    .await
    .unwrap();
    let url = site.url("/");
    let run = probe(&url, &["--loads", "2", "--load-timeout", "10s"]).await;
    site.shutdown().await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let missing = site_url(&url, "/helper-b71e02.js");
    assert_eq!(
        run.failures(),
        vec![
            (
                "missing_asset".to_string(),
                missing.clone(),
                "404".to_string()
            );
            2
        ],
        "{}",
        run.stdout
    );
    assert_eq!(run.recorded_classes(), ["missing_asset"], "{}", run.stdout);
}

fn site_url(start: &str, path: &str) -> String {
    url::Url::parse(start)
        .unwrap()
        .join(path)
        .unwrap()
        .to_string()
}

/// Two pages joined by a plain link; the second page's script is `second`.
fn two_pages(second: &str) -> Vec<Route> {
    vec![
        Route::html(
            "/",
            r#"<!doctype html><html><body><h1>one</h1><a id="next" href="/two.html">next</a>
<script src="/one-5e1f0c.js"></script></body></html>"#,
        ),
        Route::new("/one-5e1f0c.js", JS, "document.body.dataset.one = 'yes';"),
        Route::html(
            "/two.html",
            format!(
                r#"<!doctype html><html><body><h1 id="two">two</h1><script src="{second}"></script></body></html>"#
            ),
        ),
        Route::new("/two-3f9a1c.js", JS, "document.body.dataset.two = 'yes';"),
    ]
}

async fn journey(second: &str) -> (Run, String) {
    let site = Site::start(two_pages(second)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("two-pages.toml");
    std::fs::write(
        &scenario,
        "[[step]]\nclick = \"#next\"\n[[step]]\nwait_for = \"#two\"\ntimeout = \"5s\"\n",
    )
    .unwrap();
    let url = site.url("/");
    let run = probe(
        &url,
        &[
            "--scenario",
            scenario.to_str().unwrap(),
            "--loads",
            "4",
            "--workers",
            "2",
            "--load-timeout",
            "10s",
        ],
    )
    .await;
    site.shutdown().await;
    (run, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journey_through_a_plain_link_follows_the_new_document() {
    let (run, _) = journey("/two-3f9a1c.js").await;
    assert_all_ok(&run, 4);
    // Both documents and both scripts.
    for load in loads(&run) {
        assert_eq!(load["requests"], 4, "{load}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_document_of_a_journey_has_its_failures_reported() {
    let (run, url) = journey("/two-b71e02.js").await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let missing = site_url(&url, "/two-b71e02.js");
    assert_eq!(
        run.failures(),
        vec![("missing_asset".to_string(), missing, "404".to_string()); 4],
        "{}",
        run.stdout
    );
    assert_eq!(run.recorded_classes(), ["missing_asset"], "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reloading_itself_in_a_loop_fails_as_such_long_before_its_timeout() {
    // What an app that forces an update it never gets does (a service worker's controllerchange
    // reloading the page, a version check that always disagrees).
    let site = Site::start(vec![page(
        "<script>setTimeout(() => location.reload(), 200);</script>",
    )])
    .await
    .unwrap();
    let run = probe(
        &site.url("/"),
        &["--loads", "2", "--workers", "1", "--load-timeout", "20s"],
    )
    .await;
    site.shutdown().await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    for load in loads(&run) {
        assert_eq!(
            load["classes"],
            serde_json::json!(["reload_loop"]),
            "{load}"
        );
        let ms = load["duration_ms"].as_f64().unwrap();
        assert!(ms < 10_000.0, "a load took {ms} ms: {load}");
    }
    let failure = &run.json()["failures"][0];
    let message = failure["message"].as_str().unwrap();
    assert!(message.ends_with("it reloads in a loop"), "{failure}");
    assert!(run.stdout.contains("reload_loop"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_reloading_itself_once_is_not_a_loop() {
    // An app taking a new version once: reload, then stay.
    let site = Site::start(vec![page(
        "<script>if (!sessionStorage.updated) { sessionStorage.updated = '1'; location.reload(); }</script>",
    )])
    .await
    .unwrap();
    let run = probe(
        &site.url("/"),
        &["--loads", "3", "--workers", "1", "--load-timeout", "10s"],
    )
    .await;
    site.shutdown().await;
    assert_all_ok(&run, 3);
}
