//! The floor of what Chromium costs: a bare DevTools loop with no recording, no
//! classification and no reports, for comparing rollprobe's throughput against (ci/bench.sh).
//!
//! Same browser and the same DevTools connection as `rollprobe run` (launched by
//! `rollprobe::browser::Chromium::launch`, spoken through `rollprobe::cdp`), with the least a
//! load needs: N tasks each repeat: create a browser context, open a page in it, enable the
//! Page and Network domains, navigate, wait for the load event, close the page, dispose the
//! context. With `--idle-ms N` a load also waits, after the load event, until no request has
//! been in flight for N ms (what rollprobe does; counted from Network.requestWillBeSent /
//! loadingFinished / loadingFailed).
//!
//! ```sh
//! cargo run --release --example bare_cdp -- http://127.0.0.1:8080/ --workers 4 --duration 20
//! ```
//!
//! Prints one JSON line: loads (completed), errors, seconds (first start to last finish),
//! loads_per_s, p50_ms, p95_ms, and the median of each phase of a load (phase_p50_ms: context,
//! new_page, to_load, idle, close, dispose). A load's time covers context creation to context
//! disposal.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};
use chromiumoxide_cdp::cdp::browser_protocol::network::{
    self, EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent,
};
use chromiumoxide_cdp::cdp::browser_protocol::page::{self, NavigateParams};
use clap::Parser;
use rollprobe::browser::{BrowserOptions, Chromium, resolve_executable};
use rollprobe::cdp::Page;

#[derive(Parser, Debug)]
struct Args {
    /// Page to load
    url: String,
    /// Pages loading at once
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Stop starting loads after this many seconds
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// After the load event, also wait until no request was in flight for this long (0 = stop
    /// at the load event)
    #[arg(long, default_value_t = 0)]
    idle_ms: u64,
    /// Browser executable (default: as rollprobe, /usr/bin/chromium and friends)
    #[arg(long, env = "CHROMIUM")]
    chromium: Option<PathBuf>,
}

const CDP_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let executable = resolve_executable(args.chromium.as_deref(), None)?;
    let chromium = Arc::new(
        Chromium::launch(&BrowserOptions {
            executable,
            cdp_timeout: CDP_TIMEOUT,
            trust: Default::default(),
            host_map: Vec::new(),
            shared_renderers: false,
        })
        .await?,
    );
    let t0 = Instant::now();
    let stop_at = t0 + Duration::from_secs_f64(args.duration);
    let idle = (args.idle_ms > 0).then(|| Duration::from_millis(args.idle_ms));

    let mut tasks = Vec::new();
    for _ in 0..args.workers {
        let chromium = chromium.clone();
        let url = args.url.clone();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut phases = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < stop_at {
                let start = Instant::now();
                match tokio::time::timeout(CDP_TIMEOUT, one_load(&chromium, &url, idle)).await {
                    Ok(Ok(p)) => {
                        times.push(start.elapsed().as_secs_f64() * 1000.0);
                        phases.push(p);
                    }
                    Ok(Err(e)) => {
                        errors += 1;
                        eprintln!("bare_cdp: load failed: {e:#}");
                    }
                    Err(_) => {
                        errors += 1;
                        eprintln!("bare_cdp: load timed out");
                    }
                }
            }
            (times, phases, errors)
        }));
    }
    let mut times = Vec::new();
    let mut phases: Vec<Phases> = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (t, p, e) = task.await?;
        times.extend(t);
        phases.extend(p);
        errors += e;
    }
    let seconds = t0.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    // Same nearest-rank rule as rollprobe's report.
    let at = |q: f64| {
        if times.is_empty() {
            0.0
        } else {
            times[((times.len() - 1) as f64 * q).round() as usize]
        }
    };
    // Median of each phase on its own (they need not add up to p50_ms).
    let phase_p50: serde_json::Map<String, serde_json::Value> = PHASES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut v: Vec<f64> = phases.iter().map(|p| p.0[i]).collect();
            v.sort_by(f64::total_cmp);
            let mid = if v.is_empty() {
                0.0
            } else {
                v[(v.len() - 1) / 2]
            };
            (name.to_string(), round3(mid).into())
        })
        .collect();
    let line = serde_json::json!({
        "tool": if idle.is_some() { "bare_cdp_idle" } else { "bare_cdp" },
        "workers": args.workers,
        "idle_ms": args.idle_ms,
        "loads": times.len(),
        "errors": errors,
        "seconds": round3(seconds),
        "loads_per_s": round3(times.len() as f64 / seconds),
        "p50_ms": round3(at(0.50)),
        "p95_ms": round3(at(0.95)),
        "phase_p50_ms": phase_p50,
    });
    println!("{line}");

    if let Ok(chromium) = Arc::try_unwrap(chromium) {
        chromium.shutdown().await;
    }
    Ok(())
}

/// Where a load's time went, in ms: context creation, new page (target, attach, domains
/// enabled), navigation to the load event, the idle wait after it, page close, context
/// disposal.
#[derive(Default, Clone, Copy)]
struct Phases([f64; 6]);
const PHASES: [&str; 6] = ["context", "new_page", "to_load", "idle", "close", "dispose"];

async fn one_load(chromium: &Chromium, url: &str, idle: Option<Duration>) -> Result<Phases> {
    let mut phases = Phases::default();
    let mut lap = Instant::now();
    let mut mark = |i: usize| {
        phases.0[i] = lap.elapsed().as_secs_f64() * 1000.0;
        lap = Instant::now();
    };
    let context = chromium.new_context().await.map_err(|e| anyhow!(e))?;
    mark(0);
    let loaded = async {
        let page = chromium
            .open_page(Some(context.clone()))
            .await
            .map_err(|e| anyhow!(e))?;
        let enabled = futures::future::try_join(
            page.call(page::EnableParams::default()),
            page.call(network::EnableParams::default()),
        )
        .await;
        enabled.map_err(|e| anyhow!(e))?;
        mark(1);
        let result = goto_and_idle(&page, url, idle, &mut mark).await;
        let closed = page.close().await;
        mark(4);
        result?;
        closed.map_err(|e| anyhow!(e))
    }
    .await;
    let disposed = chromium.dispose_context(context).await;
    mark(5);
    loaded?;
    disposed.map_err(|e| anyhow!(e))?;
    Ok(phases)
}

/// Navigates and waits for the load event, then, with `idle`, until no request has been in
/// flight for that long.
async fn goto_and_idle(
    page: &Page,
    url: &str,
    idle: Option<Duration>,
    mark: &mut impl FnMut(usize),
) -> Result<()> {
    let mut events = page.take_events().ok_or_else(|| anyhow!("events taken"))?;
    let mut started: HashSet<String> = HashSet::new();
    let mut ended: HashSet<String> = HashSet::new();
    let navigation = page.call(NavigateParams::new(url));
    let mut navigation = std::pin::pin!(navigation);
    let (mut answered, mut loaded) = (false, false);
    let mut quiet_since: Option<tokio::time::Instant> = None;
    loop {
        let idle_at = quiet_since.zip(idle).map(|(q, idle)| q + idle);
        tokio::select! {
            nav = &mut navigation, if !answered => {
                nav.map_err(|e| anyhow!(e))?;
                answered = true;
            }
            ev = events.recv() => {
                let ev = ev.ok_or_else(|| anyhow!("the browser went away"))?;
                match ev.method.as_str() {
                    "Page.loadEventFired" => {
                        loaded = true;
                        mark(2);
                        if idle.is_none() {
                            return Ok(());
                        }
                    }
                    "Network.requestWillBeSent" => {
                        // As rollprobe: only the page's own http(s) traffic keeps it busy,
                        // not the favicon Chromium fetches by itself.
                        if let Some(e) = ev.decode::<EventRequestWillBeSent>() {
                            let u = &e.request.url;
                            if u.starts_with("http") && !u.ends_with("/favicon.ico") {
                                started.insert(e.request_id.inner().clone());
                            }
                        }
                    }
                    "Network.loadingFinished" => {
                        if let Some(e) = ev.decode::<EventLoadingFinished>() {
                            ended.insert(e.request_id.inner().clone());
                        }
                    }
                    "Network.loadingFailed" => {
                        if let Some(e) = ev.decode::<EventLoadingFailed>() {
                            ended.insert(e.request_id.inner().clone());
                        }
                    }
                    _ => {}
                }
            }
            _ = async { tokio::time::sleep_until(idle_at.unwrap()).await }, if idle_at.is_some() => {
                mark(3);
                return Ok(());
            }
        }
        let in_flight = started.iter().any(|id| !ended.contains(id));
        match (loaded && !in_flight, quiet_since) {
            (true, None) => quiet_since = Some(tokio::time::Instant::now()),
            (false, Some(_)) => quiet_since = None,
            _ => {}
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
