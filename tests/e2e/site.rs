use crate::support::{Client, get, is_closed, open, read_line};
use rollprobe::sim::{Route, Site};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// `Site::shutdown` within a second, with the open connection closed (FIN), not
/// reset by the drain's give-up.
async fn shutdown_closes(site: Site, conn: &mut tokio::io::BufReader<tokio::net::TcpStream>) {
    let started = Instant::now();
    site.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).await.expect("a clean close");
}

#[tokio::test]
async fn event_stream_ticks_every_second_until_shutdown() {
    let site = Site::start(vec![Route::event_stream("/events")])
        .await
        .unwrap();
    let (head, mut stream) = open(site.port(), "/events", &[]).await.unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(head.header("content-length"), None, "close-delimited");
    assert_eq!(head.header("connection"), Some("close"));
    let mut ticks = Vec::new();
    let started = Instant::now();
    for _ in 0..2 {
        ticks.push(read_line(&mut stream).await.unwrap());
        assert_eq!(read_line(&mut stream).await.unwrap(), "", "end of an event");
    }
    assert_eq!(ticks, ["data: tick", "data: tick"]);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "a second apart"
    );
    shutdown_closes(site, &mut stream).await;
}

#[tokio::test]
async fn websocket_answers_the_handshake_and_holds_until_shutdown() {
    let site = Site::start(vec![Route::websocket("/ws")]).await.unwrap();
    // The example of RFC 6455 §1.3.
    let upgrade = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
    ];
    let (head, mut ws) = open(site.port(), "/ws", &upgrade).await.unwrap();
    assert_eq!(head.status, 101);
    assert_eq!(
        head.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(head.header("upgrade"), Some("websocket"));
    assert_eq!(head.header("connection"), Some("Upgrade"));
    // A masked text frame "hi": discarded, and the connection stays open and quiet.
    ws.get_mut()
        .write_all(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2])
        .await
        .unwrap();
    let mut byte = [0];
    let quiet = tokio::time::timeout(Duration::from_millis(300), ws.read(&mut byte)).await;
    assert!(quiet.is_err(), "{quiet:?}");

    let plain = get(site.port(), "/ws").await.unwrap();
    assert_eq!(plain.status, 400);
    shutdown_closes(site, &mut ws).await;
}
