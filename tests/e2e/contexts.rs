//! `--context per-worker`: a worker's loads share one browser context, cleared between them, so
//! each load still meets the site as a first visit would: nothing the site left in the browser
//! (cookies, storage, caches, service workers) reaches the worker's next load.

use std::time::Duration;

use crate::support::{Run, Sim, probe};
use rollprobe::sim::{Mode, Route, Site};

/// Leaves what a site can leave in a browser, after asking for `/left-behind/<what>` (a 404, so
/// a failed load) for each thing an earlier load left.
const REMEMBERING_PAGE: &str = r#"<!doctype html><div id="app">loading</div><script>
(async () => {
  const left = [];
  const tabs = new BroadcastChannel("seen");
  const answered = new Promise((done) => {
    tabs.onmessage = (e) => e.data === "here" && done(true);
    setTimeout(() => done(false), 300);
  });
  tabs.postMessage("anyone?");
  if (await answered) left.push("open-tab");
  if (document.cookie.includes("server_seen=")) left.push("server-cookie");
  if (document.cookie.includes("page_seen=")) left.push("page-cookie");
  if (localStorage.getItem("seen")) left.push("local-storage");
  if ((await caches.keys()).includes("seen")) left.push("cache-storage");
  if ((await navigator.serviceWorker.getRegistrations()).length) left.push("service-worker");
  if ((await indexedDB.databases()).some((d) => d.name === "seen")) left.push("indexeddb");
  for (const what of left) await fetch("/left-behind/" + what);
  await fetch("/mark");
  document.cookie = "page_seen=1; max-age=3600; path=/";
  localStorage.setItem("seen", "1");
  await caches.open("seen");
  await new Promise((done) => { indexedDB.open("seen").onsuccess = done; });
  await navigator.serviceWorker.register("/sw.js");
  window.open("/tab", "_blank");
  document.getElementById("app").textContent = "ready";
})();
</script>"#;

/// A tab the page opens, which answers the page's next loads when it is still open.
const TAB: &str = r#"<!doctype html><p>a tab</p><script>
const tabs = new BroadcastChannel("seen");
tabs.onmessage = (e) => e.data === "anyone?" && tabs.postMessage("here");
</script>"#;

const WORKER: &str = r#"self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (e) => e.respondWith(fetch(e.request)));"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_context_forgets_what_the_site_left() {
    let site = remembering_site().await;
    let (kept, loads) = four_kept_loads(&site.url("/")).await;
    site.shutdown().await;

    assert_eq!(kept.code, 0, "{}\n{}", kept.stdout, kept.stderr);
    assert!(kept.failures().is_empty(), "{:?}", kept.failures());
    // Every load's page went through its checks and left its marks again.
    for load in loads {
        let asked = load["requests"].to_string();
        assert!(asked.contains("/mark"), "{asked}");
    }
    let settings = kept.json()["settings"]["all"].to_string();
    assert!(settings.contains("per-worker"), "{settings}");
    assert_eq!(kept.json()["settings"]["context_per_worker"], true);
}

async fn remembering_site() -> Site {
    Site::start(vec![
        Route::html("/", REMEMBERING_PAGE),
        Route::new("/mark", "text/plain", "marked")
            .header("Set-Cookie", "server_seen=1; Max-Age=3600; Path=/"),
        Route::new("/sw.js", "text/javascript", WORKER),
        Route::html("/tab", TAB),
    ])
    .await
    .unwrap()
}

/// Four loads of `url` by one worker keeping its context, and the loads as
/// `--save-observations` wrote them, each with its requests.
async fn four_kept_loads(url: &str) -> (Run, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("observations.json");
    let run = probe(
        url,
        &[
            "--context",
            "per-worker",
            "--workers",
            "1",
            "--loads",
            "4",
            "--save-observations",
            saved.to_str().unwrap(),
        ],
    )
    .await;
    let record: serde_json::Value = std::fs::read_to_string(&saved)
        .map(|text| serde_json::from_str(&text).unwrap())
        .unwrap_or_default();
    let loads = record["observations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(loads.len(), 4, "{}\n{}", run.stdout, run.stderr);
    (run, loads)
}

/// The page itself can tell: a site that finds its own leftovers in the browser says so, and
/// without clearing, the kept context's second load would (the check above can fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_remembering_page_tells_a_browser_that_remembers() {
    let site = remembering_site().await;
    // Returning users keep everything between their visits.
    let run = probe(
        &site.url("/"),
        &[
            "--workers",
            "1",
            "--duration",
            "4s",
            "--returning-users",
            "1",
            "--returning-every",
            "500ms",
        ],
    )
    .await;
    site.shutdown().await;
    let failures = run.json()["returning_users"]["failures"].to_string();
    for left in [
        "server-cookie",
        "page-cookie",
        "local-storage",
        "service-worker",
        "open-tab",
        "cache-storage",
        "indexeddb",
    ] {
        assert!(
            failures.contains(&format!("/left-behind/{left}")),
            "{left}: {failures}"
        );
    }
}

/// The Vite + Workbox PWA registers a service worker that precaches the app: a worker's later
/// loads still get every document and script from the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_context_drops_the_pwa_service_worker() {
    let sim = Sim::new(Mode::Steady)
        .app("vite-pwa")
        .before(Duration::from_secs(60))
        .max_lifetime(Duration::from_secs(90))
        .start()
        .await;
    let (run, loads) = four_kept_loads(&sim.url()).await;
    sim.shutdown().await;

    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    for load in loads {
        let requests = load["requests"].as_array().unwrap();
        assert!(
            requests
                .iter()
                .any(|r| r["url"].as_str().unwrap().ends_with("/sw.js")),
            "each load registers the worker anew: {requests:?}"
        );
        let remembered: Vec<_> = requests.iter().filter(|r| !r["source"].is_null()).collect();
        assert!(remembered.is_empty(), "served from a cache: {remembered:?}");
    }
}

/// A frame of another site keeps its storage under the page's site, where clearing by origin
/// does not reach: after such a load the worker takes a new context.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_of_another_site_leaves_nothing_behind() {
    let frame = Site::start(vec![Route::html(
        "/frame",
        r#"<!doctype html><script>
if (localStorage.getItem("seen")) fetch("/left-behind/frame-storage");
localStorage.setItem("seen", "1");
</script>"#,
    )])
    .await
    .unwrap();
    // localhost and 127.0.0.1 are two sites: the frame's storage is partitioned.
    let page = format!(
        r#"<!doctype html><p>shop</p><iframe src="http://localhost:{}/frame"></iframe>"#,
        frame.port()
    );
    let site = Site::start(vec![Route::html("/", page)]).await.unwrap();
    let kept = probe(
        &site.url("/"),
        &["--context", "per-worker", "--workers", "1", "--loads", "3"],
    )
    .await;
    site.shutdown().await;
    frame.shutdown().await;

    assert_eq!(kept.code, 0, "{}\n{}", kept.stdout, kept.stderr);
    assert!(kept.failures().is_empty(), "{:?}", kept.failures());
}
