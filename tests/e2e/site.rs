use crate::support::{Client, get, is_closed};
use rollprobe::sim::{Route, Site};
use std::time::{Duration, Instant};

#[tokio::test]
async fn serves_routes_keep_alive_404_and_delay() {
    let site = Site::start(vec![
        Route::html("/", "<p>hi</p>").header("X-Test", "yes"),
        Route::new("/slow", "text/plain", "zzz").delay(Duration::from_millis(300)),
    ])
    .await
    .unwrap();
    assert_eq!(
        site.url("/x"),
        format!("http://127.0.0.1:{}/x", site.port())
    );

    let mut client = Client::connect(site.port()).await.unwrap();
    let page = client.get("/?q=1").await.unwrap();
    assert_eq!((page.status, page.body.as_str()), (200, "<p>hi</p>"));
    assert_eq!(page.header("x-test"), Some("yes"));
    assert_eq!(page.header("connection"), Some("keep-alive"));
    // Same connection again.
    assert_eq!(client.get("/missing").await.unwrap().status, 404);
    let head = client.request("HEAD", "/").await.unwrap();
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_eq!(head.header("content-length"), Some("9"));

    let started = Instant::now();
    assert_eq!(get(site.port(), "/slow").await.unwrap().body, "zzz");
    assert!(started.elapsed() >= Duration::from_millis(300));

    let port = site.port();
    site.shutdown().await;
    assert!(is_closed(port).await);
}
