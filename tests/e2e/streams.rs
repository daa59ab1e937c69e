//! Idle that real apps reach: event streams, long polls and WebSockets do not hold a load open,
//! while documents and assets still do; streams that cannot be opened are failures.

use std::time::Duration;

use crate::support::{Run, closed_port, probe};
use rollprobe::sim::{Route, Site};

fn assert_code(run: &Run, code: i32) {
    assert_eq!(
        run.code, code,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
}

fn load_ms(run: &Run) -> f64 {
    run.json()["loads"][0]["duration_ms"].as_f64().unwrap()
}

/// A page that long-polls `/poll` for ever, answered after `hold`.
fn long_polling_site(hold: Duration) -> Vec<Route> {
    vec![
        Route::html(
            "/",
            r#"<!doctype html><p>live updates</p><script>
async function poll() { try { await fetch("/poll"); } catch (e) {} poll(); }
poll();
</script>"#,
        ),
        Route::new("/poll", "application/json", "{}").delay(hold),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_polling_page_ends_after_the_threshold_plus_idle() {
    let site = Site::start(long_polling_site(Duration::from_secs(20)))
        .await
        .unwrap();
    let quick = probe(
        &site.url("/"),
        &[
            "--loads",
            "1",
            "--long-request",
            "2s",
            "--load-timeout",
            "15s",
        ],
    )
    .await;
    let default = probe(&site.url("/"), &["--loads", "1", "--load-timeout", "15s"]).await;
    site.shutdown().await;

    assert_code(&quick, 0);
    assert!(
        (2000.0..4500.0).contains(&load_ms(&quick)),
        "2 s threshold + 500 ms idle, took {} ms",
        load_ms(&quick)
    );
    assert_eq!(quick.json()["settings"]["long_request_ms"], 2000);
    assert_eq!(quick.json()["summary"]["long_lived_requests"], 1);
    assert!(
        quick.stdout.contains("1 long-lived requests"),
        "{}",
        quick.stdout
    );

    assert_code(&default, 0);
    assert!(
        (5000.0..8000.0).contains(&load_ms(&default)),
        "the default 5 s threshold + 500 ms idle, took {} ms",
        load_ms(&default)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_api_within_the_threshold_is_still_waited_for() {
    let site = Site::start(vec![
        Route::html(
            "/",
            r#"<!doctype html><p>orders</p><script>fetch("/api/orders");</script>"#,
        ),
        Route::new("/api/orders", "text/plain", "bad gateway")
            .status(502)
            .delay(Duration::from_millis(1500)),
    ])
    .await
    .unwrap();
    let api = site.url("/api/orders");
    let run = probe(&site.url("/"), &["--loads", "1"]).await;
    site.shutdown().await;

    assert_code(&run, 1);
    assert_eq!(
        run.failures(),
        vec![("http_error".to_string(), api, "502".to_string())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_script_still_times_out() {
    let site = Site::start(vec![
        Route::html(
            "/",
            r#"<!doctype html><p>shell</p><script src="/assets/app.js"></script>"#,
        ),
        Route::new("/assets/app.js", "text/javascript", "1;").delay(Duration::from_secs(30)),
    ])
    .await
    .unwrap();
    let run = probe(
        &site.url("/"),
        &[
            "--loads",
            "1",
            "--long-request",
            "1s",
            "--load-timeout",
            "3s",
        ],
    )
    .await;
    site.shutdown().await;

    assert_code(&run, 1);
    assert_eq!(run.classes(), vec!["timeout"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_that_cannot_be_opened_is_a_failure() {
    // The site answers the upgrade with its 404; nothing listens on the other port.
    let site = Site::start(vec![Route::html(
        "/",
        format!(
            r#"<!doctype html><p>chat</p><script>
new WebSocket("ws://" + location.host + "/live");
new WebSocket("ws://127.0.0.1:{}/live");
</script>"#,
            closed_port()
        ),
    )])
    .await
    .unwrap();
    let run = probe(&site.url("/"), &["--loads", "1"]).await;
    let refused_by_site = format!("ws://127.0.0.1:{}/live", site.port());
    site.shutdown().await;

    assert_code(&run, 1);
    let mut failures = run.failures();
    failures.sort();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(
        (failures[0].0.as_str(), failures[0].1.as_str()),
        ("http_error", refused_by_site.as_str()),
        "{failures:?}"
    );
    assert!(failures[0].2.contains("404"), "{failures:?}");
    assert_eq!(failures[1].0, "network_error", "{failures:?}");
    assert!(
        failures[1].2.contains("net::ERR_CONNECTION_REFUSED"),
        "{failures:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_stream_and_websocket_pages_end_at_render_plus_idle() {
    let site = Site::start(vec![
        Route::html(
            "/sse",
            r#"<!doctype html><p>dashboard</p><script>new EventSource("/events");</script>"#,
        ),
        Route::html(
            "/ws",
            r#"<!doctype html><p>chat</p><script>new WebSocket("ws://" + location.host + "/live");</script>"#,
        ),
        Route::event_stream("/events"),
        Route::websocket("/live"),
    ])
    .await
    .unwrap();
    // With a 20 s long-request threshold, a load that waited for its stream would take over
    // 20 s: a page that ends in seconds ended at render plus idle.
    let args = ["--loads", "2", "--long-request", "20s"];
    let sse = probe(&site.url("/sse"), &args).await;
    let ws = probe(&site.url("/ws"), &args).await;
    site.shutdown().await;

    for (run, what) in [(&sse, "event stream"), (&ws, "WebSocket")] {
        assert_code(run, 0);
        assert_eq!(
            run.json()["summary"]["long_lived_requests"],
            2,
            "one {what} per load, counted"
        );
        for load in run.json()["loads"].as_array().unwrap() {
            let ms = load["duration_ms"].as_f64().unwrap();
            // Rendering a two-line page plus the 500 ms idle window takes about a second here;
            // the bound leaves room for a busy machine.
            assert!(ms < 10_000.0, "a {what} page took {ms} ms");
        }
    }
}
