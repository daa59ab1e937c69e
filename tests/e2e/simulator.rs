//! The rollout simulator on its own, over plain HTTP: what each mode serves during a rollout,
//! its control API and its timeline.

use crate::support::{Client, Reply, Sim, asset_paths, get, hammer, is_closed, port_of, post};
use rollprobe::sim::{Mode, PodEventKind, Simulator};
use std::{
    collections::HashSet,
    io,
    time::{Duration, Instant},
};

/// A rollout of `rollout_secs` that waits for `start_rollout()`, pods kept up for 30 s.
fn sim(mode: Mode, rollout_secs: f64) -> Sim {
    Sim::new(mode)
        .before(Duration::ZERO)
        .rollout(Duration::from_secs_f64(rollout_secs))
        // Keeps pods up after the rollout until the test shuts down.
        .after(Duration::from_secs(30))
        .auto_start(false)
        .max_lifetime(Duration::from_secs(30))
}

async fn start(mode: Mode, rollout_secs: f64) -> (Simulator, u16) {
    let sim = sim(mode, rollout_secs).start().await;
    let port = port_of(&sim.url());
    (sim, port)
}

fn statuses(outcomes: &[io::Result<Reply>]) -> Vec<u16> {
    outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn steady_serves_v1_round_robin_over_keep_alive() {
    let (sim, port) = start(Mode::Steady, 1.0).await;
    let mut client = Client::connect(port).await.unwrap();
    let mut pods = Vec::new();
    for _ in 0..3 {
        let index = client.get("/").await.unwrap();
        assert_eq!(index.status, 200);
        assert_eq!(index.header("x-app-version"), Some("v1"));
        assert_eq!(index.header("cache-control"), Some("no-store"));
        assert!(
            index
                .body
                .contains(r#"<meta name="app-version" content="v1">"#)
        );
        pods.push(index.header("x-pod").unwrap().to_string());
    }
    let distinct: HashSet<_> = pods.iter().collect();
    assert_eq!(distinct.len(), 3, "per-request round robin, got {pods:?}");

    let index = client.get("/index.html").await.unwrap();
    let head = client.request("HEAD", "/index.html").await.unwrap();
    let expected_len = index.body.len().to_string();
    assert_eq!(head.header("content-length"), Some(expected_len.as_str()));
    let assets = asset_paths(&index.body);
    assert_eq!(assets.len(), 2, "entry script and stylesheet");
    for asset in &assets {
        let reply = client.get(asset).await.unwrap();
        assert_eq!(reply.status, 200, "{asset}");
        if let Some(chunk) = asset_paths(&reply.body).first() {
            assert_eq!(client.get(chunk).await.unwrap().status, 200, "{chunk}");
        }
    }
    assert_eq!(client.get("/favicon.ico").await.unwrap().status, 204);
    let missing = client.get("/nope").await.unwrap();
    assert_eq!(
        (missing.status, missing.header("x-app-version")),
        (404, Some("v1"))
    );

    // Steady mode has no rollout to wait for.
    sim.start_rollout();
    tokio::time::timeout(Duration::from_millis(100), sim.wait_rollout_done())
        .await
        .expect("steady: rollout done at once");
    assert!(sim.rollout_window().is_none());
    sim.shutdown().await;
    assert!(is_closed(port).await);
}

/// Requests a v1 asset throughout a rollout; returns the outcomes.
async fn v1_asset_during_rollout(mode: Mode) -> Vec<io::Result<Reply>> {
    let (sim, port) = start(mode, 1.5).await;
    let index = get(port, "/").await.unwrap();
    let css = asset_paths(&index.body)
        .into_iter()
        .find(|p| p.ends_with(".css"))
        .unwrap();
    sim.start_rollout();
    let outcomes = hammer(port, &css, 2, sim.wait_rollout_done()).await;
    let versions: HashSet<_> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok()?.header("x-app-version").map(str::to_string))
        .collect();
    assert_eq!(
        versions.len(),
        2,
        "{mode:?}: both versions answered: {versions:?}"
    );
    sim.shutdown().await;
    outcomes
}

#[tokio::test]
async fn naive_404s_old_assets_on_new_pods() {
    let outcomes = v1_asset_during_rollout(Mode::Naive).await;
    let cross_version_404 = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok())
        .any(|r| r.status == 404 && r.header("x-app-version") == Some("v2"));
    assert!(cross_version_404, "{:?}", statuses(&outcomes));
}

#[tokio::test]
async fn spa_fallback_answers_old_assets_on_new_pods_with_their_index_page() {
    let outcomes = v1_asset_during_rollout(Mode::SpaFallback).await;
    let replies: Vec<&Reply> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(replies.len(), outcomes.len(), "no broken connection");
    for reply in replies {
        assert_eq!(reply.status, 200, "{reply:?}");
        let v2 = reply.header("x-app-version") == Some("v2");
        let content_type = if v2 {
            "text/html; charset=utf-8"
        } else {
            "text/css; charset=utf-8"
        };
        assert_eq!(
            reply.header("content-type"),
            Some(content_type),
            "{reply:?}"
        );
        if v2 {
            assert!(
                reply
                    .body
                    .contains(r#"<meta name="app-version" content="v2">"#)
            );
            assert!(reply.header("x-pod").is_some_and(|p| p.starts_with("v2-")));
            assert_eq!(reply.header("cache-control"), Some("no-store"));
        }
    }
}

#[tokio::test]
async fn only_spa_fallback_answers_unknown_paths_with_the_page() {
    for (mode, status) in [
        (Mode::Steady, 404),
        (Mode::Naive, 404),
        (Mode::SpaFallback, 200),
    ] {
        let (sim, port) = start(mode, 1.0).await;
        let reply = get(port, "/assets/gone-0123abcd.js").await.unwrap();
        assert_eq!(reply.status, status, "{mode:?}");
        let page = reply
            .body
            .contains(r#"<meta name="app-version" content="v1">"#);
        assert_eq!(page, status == 200, "{mode:?}: {}", reply.body);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn shared_assets_serve_old_assets_everywhere() {
    let outcomes = v1_asset_during_rollout(Mode::SharedAssets).await;
    let failures: Vec<_> = outcomes
        .iter()
        .filter(|o| !matches!(o, Ok(r) if r.status == 200))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
}

#[tokio::test]
async fn no_readiness_gives_502() {
    let (sim, port) = start(Mode::NoReadiness, 1.5).await;
    sim.start_rollout();
    let outcomes = hammer(port, "/", 2, sim.wait_rollout_done()).await;
    let codes = statuses(&outcomes);
    assert!(codes.contains(&502), "{codes:?}");
    assert!(codes.iter().all(|c| *c == 200 || *c == 502), "{codes:?}");
    assert!(
        outcomes.iter().all(Result::is_ok),
        "only clean 502s expected"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn no_drain_resets_in_flight_requests() {
    let (sim, port) = start(Mode::NoDrain, 1.5).await;
    sim.start_rollout();
    let outcomes = hammer(port, "/", 8, sim.wait_rollout_done()).await;
    let broken: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert!(!broken.is_empty(), "{:?}", statuses(&outcomes));
    for e in &broken {
        assert!(
            matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
            ),
            "{e:?}"
        );
    }
    let kinds: Vec<_> = sim.events().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == PodEventKind::Killed).count(),
        3
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_pod_answers_late() {
    let (sim, port) = start(Mode::Slow, 1.0).await;
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(get(port, "/").await.unwrap().status, 200);
        slowest = slowest.max(t.elapsed());
    }
    assert!(slowest >= Duration::from_secs(7), "{slowest:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    sim.shutdown().await;
}

#[tokio::test]
async fn control_api_starts_waits_reports_and_shuts_down() {
    let (sim, port) = start(Mode::SharedAssets, 1.0).await;
    let control = port_of(&sim.control_url());

    let status = get(control, "/status").await.unwrap();
    let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert_eq!(
        (json["mode"].as_str(), json["phase"].as_str()),
        (Some("shared-assets"), Some("before"))
    );
    assert_eq!(json["pods"].as_array().unwrap().len(), 3);

    let started = Instant::now();
    let reply = post(control, "/rollout?wait=1").await.unwrap();
    assert_eq!((reply.status, reply.body.as_str()), (200, "done\n"));
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited for the rollout"
    );
    assert_eq!(get(control, "/wait").await.unwrap().status, 200);

    let json: serde_json::Value =
        serde_json::from_str(&get(control, "/status").await.unwrap().body).unwrap();
    assert_eq!(json["phase"], "done");
    // The last old pod may still be draining, but no longer receives traffic.
    let routed: Vec<_> = json["pods"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in_ingress"] == true)
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(routed, ["v2-a", "v2-b", "v2-c"]);
    let (from, to) = sim.rollout_window().unwrap();
    assert!(to.unwrap() >= from);

    assert_eq!(post(control, "/shutdown").await.unwrap().status, 200);
    tokio::time::timeout(Duration::from_secs(3), sim.wait_finished())
        .await
        .expect("finished after POST /shutdown");
    assert!(is_closed(port).await && is_closed(control).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn stops_by_itself_after_max_lifetime() {
    let sim = sim(Mode::Naive, 10.0)
        .max_lifetime(Duration::from_secs(1))
        .start()
        .await;
    let port = port_of(&sim.url());
    assert_eq!(get(port, "/").await.unwrap().status, 200);
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(3), sim.wait_finished())
        .await
        .expect("finished by max_lifetime");
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert!(is_closed(port).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn auto_start_runs_the_whole_timeline_and_writes_jsonl() {
    let dir = std::env::temp_dir().join(format!("rollprobe-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("events.jsonl");
    let sim = sim(Mode::SharedAssets, 0.9)
        .before(Duration::from_millis(200))
        .after(Duration::from_millis(200))
        .auto_start(true)
        .events_jsonl(&file)
        .start()
        .await;
    let started = Instant::now();
    sim.wait_finished().await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1200) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let lines = std::fs::read_to_string(&file).unwrap();
    let kinds: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for kind in [
        "started",
        "ready",
        "joined",
        "left",
        "stopped",
        "rollout_started",
        "rollout_finished",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} missing in {kinds:?}"
        );
    }
    assert_eq!(kinds.len(), sim.events().len());
    sim.shutdown().await;
    std::fs::remove_dir_all(dir).unwrap();
}
