//! The worker pool: N workers share one supervised Chromium and load the page until the run is
//! over, sending what they observe to the recorder. Stopping is cooperative: no new load starts
//! after the deadline or a stop request, and in-flight loads get a short grace period.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Result;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::browser::{BrowserOptions, Supervisor};
use crate::classify::Rules;
use crate::clock::{self, sleep_until_opt};
use crate::model::Observation;
use crate::probe::{self, LoadSettings};
use crate::recorder::{Limits, Recorded, Recorder, Snapshot};

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub load: LoadSettings,
    pub rules: Rules,
    pub workers: usize,
    /// No new load starts after this long.
    pub duration: Option<Duration>,
    /// No new load starts once this many have started.
    pub max_loads: Option<u64>,
    pub browser: BrowserOptions,
    /// How long in-flight loads may finish after a stop request.
    pub grace: Duration,
    pub limits: Limits,
}

pub struct RunOutcome {
    pub recorded: Recorded,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub interrupted: bool,
    pub browser_relaunches: u32,
    pub abandoned_loads: u64,
}

/// Runs the probe. `stop` turning true ends the run early (Ctrl-C, SIGTERM, the end of a deploy
/// command); `progress` receives a snapshot after every load.
pub async fn run(
    cfg: RunConfig,
    mut stop: watch::Receiver<bool>,
    progress: watch::Sender<Snapshot>,
) -> Result<RunOutcome> {
    let supervisor = Arc::new(Supervisor::start(cfg.browser.clone()).await?);
    let started_at = SystemTime::now();
    let t0 = Instant::now();
    let deadline = cfg.duration.map(|d| t0 + d);
    let next_id = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel::<Observation>();

    let mut workers = JoinSet::new();
    for worker in 0..cfg.workers {
        workers.spawn(work(
            worker,
            supervisor.clone(),
            cfg.load.clone(),
            deadline,
            cfg.max_loads,
            next_id.clone(),
            stop.clone(),
            tx.clone(),
        ));
    }
    drop(tx);

    let mut recorder = Recorder::new(cfg.rules.clone(), cfg.limits);
    let mut interrupted = false;
    let mut grace_ends: Option<tokio::time::Instant> = None;
    let mut abandoned = 0;
    loop {
        tokio::select! {
            obs = rx.recv() => match obs {
                Some(obs) if interrupted && obs.prober_error.is_some() => {
                    // A terminal's Ctrl-C reaches Chromium too: loads it cut short say
                    // nothing about the site or the prober.
                    abandoned += 1;
                }
                Some(obs) => {
                    recorder.record(obs);
                    progress.send_replace(recorder.snapshot().clone());
                }
                None => break,
            },
            changed = stop.changed(), if !interrupted => {
                if changed.is_err() || *stop.borrow() {
                    interrupted = true;
                    grace_ends = Some(tokio::time::Instant::now() + cfg.grace);
                }
            },
            _ = sleep_until_opt(grace_ends) => break,
        }
    }
    // Whatever still runs after the grace period is abandoned, not waited for.
    while workers.try_join_next().is_some() {}
    abandoned += workers.len() as u64;
    workers.abort_all();
    while workers.join_next().await.is_some() {}
    // Loads that completed in the same instant are not lost.
    while let Ok(obs) = rx.try_recv() {
        recorder.record(obs);
    }
    let finished_at = SystemTime::now();
    let duration_s = t0.elapsed().as_secs_f64();
    let browser_relaunches = supervisor.relaunches();
    supervisor.shutdown().await;
    Ok(RunOutcome {
        recorded: recorder.finish(duration_s),
        started_at,
        finished_at,
        interrupted,
        browser_relaunches,
        abandoned_loads: abandoned,
    })
}

#[allow(clippy::too_many_arguments)]
async fn work(
    worker: usize,
    supervisor: Arc<Supervisor>,
    settings: LoadSettings,
    deadline: Option<Instant>,
    max_loads: Option<u64>,
    next_id: Arc<AtomicU64>,
    stop: watch::Receiver<bool>,
    tx: mpsc::UnboundedSender<Observation>,
) {
    loop {
        if *stop.borrow() || deadline.is_some_and(|d| Instant::now() >= d) {
            return;
        }
        let id = next_id.fetch_add(1, Ordering::SeqCst);
        if max_loads.is_some_and(|max| id >= max) {
            return;
        }
        let obs = match supervisor.get().await {
            Ok((chromium, _)) => probe::load_page(&chromium, &settings, id, worker).await,
            Err(e) => {
                // Relaunch failed: record it as the prober's fault and back off a little so a
                // broken browser does not spin.
                let obs = prober_failure(id, worker, format!("relaunching Chromium: {e:#}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                obs
            }
        };
        if tx.send(obs).is_err() {
            return;
        }
    }
}

fn prober_failure(id: u64, worker: usize, why: String) -> Observation {
    Observation {
        id,
        worker,
        started_at_ms: clock::unix_ms(SystemTime::now()),
        duration_ms: 0.0,
        requests: Vec::new(),
        js_errors: Vec::new(),
        timed_out: None,
        prober_error: Some(why),
        version: None,
    }
}
