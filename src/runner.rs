//! The worker pool: N workers share one supervised Chromium and load the page until the run is
//! over, sending what they observe to the recorder. Whoever drives the run (a timer, a deploy
//! command, a signal) talks to it through [`Control`]: the current phase, and when to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::browser::{BrowserOptions, Outage, Supervisor};
use crate::classify::Rules;
use crate::clock::{self, sleep_until_opt};
use crate::model::{Observation, Phase};
use crate::probe::{self, LoadSettings};
use crate::recorder::{Limits, Recorded, Recorder, Snapshot};

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub load: LoadSettings,
    pub rules: Rules,
    pub workers: usize,
    /// No new load starts once this many have started.
    pub max_loads: Option<u64>,
    pub browser: BrowserOptions,
    /// How long in-flight loads may finish after an interrupt (Ctrl-C, SIGTERM).
    pub grace: Duration,
    pub limits: Limits,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Running,
    /// The run is over as planned: in-flight loads finish (they are bounded by the load timeout).
    Finish,
    /// Cut short: in-flight loads get the grace period, then are abandoned.
    Interrupt,
}

/// The run's inputs over time. The driver keeps the senders.
pub struct Control {
    pub phase: watch::Receiver<Phase>,
    pub stop: watch::Receiver<Stop>,
    /// Told once the browser is up, so phases are not eaten by the browser's start.
    pub ready: Option<tokio::sync::oneshot::Sender<()>>,
}

/// When each phase began and ended, wall clock.
#[derive(Clone, Debug)]
pub struct PhaseSpan {
    pub phase: Phase,
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
}

pub struct RunOutcome {
    pub recorded: Recorded,
    pub started_at: SystemTime,
    pub finished_at: SystemTime,
    pub phases: Vec<PhaseSpan>,
    pub interrupted: bool,
    pub browser_outages: Vec<Outage>,
    pub abandoned_loads: u64,
}

/// Runs the probe until `control.stop` says so (or `max_loads` is reached); `progress` receives
/// a snapshot after every load.
pub async fn run(
    cfg: RunConfig,
    mut control: Control,
    progress: watch::Sender<Snapshot>,
) -> Result<RunOutcome> {
    let supervisor = Arc::new(Supervisor::start(cfg.browser.clone()).await?);
    if let Some(ready) = control.ready.take() {
        let _ = ready.send(());
    }
    let started_at = SystemTime::now();
    let t0 = std::time::Instant::now();
    let next_id = Arc::new(AtomicU64::new(0));
    let (tx, mut rx) = mpsc::unbounded_channel::<Observation>();

    let mut workers = JoinSet::new();
    for worker in 0..cfg.workers {
        workers.spawn(work(
            worker,
            supervisor.clone(),
            cfg.load.clone(),
            cfg.max_loads,
            next_id.clone(),
            control.phase.clone(),
            control.stop.clone(),
            tx.clone(),
        ));
    }
    drop(tx);

    let mut recorder = Recorder::new(cfg.rules.clone(), cfg.limits);
    let mut phases = vec![PhaseSpan {
        phase: *control.phase.borrow_and_update(),
        started_at_ms: clock::unix_ms(started_at),
        ended_at_ms: 0,
    }];
    let mut interrupted = false;
    let mut stopping = false;
    let mut give_up_at: Option<tokio::time::Instant> = None;
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
            changed = control.phase.changed() => {
                if changed.is_ok() {
                    let now = clock::unix_ms(SystemTime::now());
                    let phase = *control.phase.borrow_and_update();
                    if let Some(last) = phases.last_mut() {
                        last.ended_at_ms = now;
                    }
                    phases.push(PhaseSpan { phase, started_at_ms: now, ended_at_ms: 0 });
                }
            },
            changed = control.stop.changed(), if !interrupted => {
                let stop = if changed.is_ok() { *control.stop.borrow_and_update() } else { Stop::Finish };
                let grace = match stop {
                    Stop::Running => None,
                    Stop::Finish if !stopping => Some(cfg.load.load_timeout + cfg.load.cdp_timeout),
                    Stop::Finish => None,
                    Stop::Interrupt => {
                        interrupted = true;
                        Some(cfg.grace)
                    }
                };
                if let Some(grace) = grace {
                    stopping = true;
                    let at = tokio::time::Instant::now() + grace;
                    give_up_at = Some(give_up_at.map_or(at, |g| g.min(at)));
                }
            },
            _ = sleep_until_opt(give_up_at) => break,
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
    if let Some(last) = phases.last_mut() {
        last.ended_at_ms = clock::unix_ms(finished_at);
    }
    let browser_outages = supervisor.outages();
    supervisor.shutdown().await;
    Ok(RunOutcome {
        recorded: recorder.finish(t0.elapsed().as_secs_f64(), &phases),
        started_at,
        finished_at,
        phases,
        interrupted,
        browser_outages,
        abandoned_loads: abandoned,
    })
}

#[allow(clippy::too_many_arguments)]
async fn work(
    worker: usize,
    supervisor: Arc<Supervisor>,
    settings: LoadSettings,
    max_loads: Option<u64>,
    next_id: Arc<AtomicU64>,
    phase: watch::Receiver<Phase>,
    stop: watch::Receiver<Stop>,
    tx: mpsc::UnboundedSender<Observation>,
) {
    loop {
        if *stop.borrow() != Stop::Running {
            return;
        }
        let id = next_id.fetch_add(1, Ordering::SeqCst);
        if max_loads.is_some_and(|max| id >= max) {
            return;
        }
        let obs = Observation::start(id, worker, *phase.borrow());
        let obs = match supervisor.get().await {
            Ok((chromium, _)) => probe::load_page(&chromium, &settings, obs).await,
            Err(e) => {
                // Relaunch failed: the prober's fault. Back off so a broken browser does not spin.
                tokio::time::sleep(Duration::from_secs(1)).await;
                Observation {
                    prober_error: Some(format!("relaunching Chromium: {e:#}")),
                    ..obs
                }
            }
        };
        let obs = Observation {
            phase: Phase::of_load(obs.phase, *phase.borrow()),
            ..obs
        };
        if tx.send(obs).is_err() {
            return;
        }
    }
}

/// Drives a plain run: one phase, stop after `duration` (counted from the browser being ready)
/// or on a signal.
pub async fn drive_for(
    duration: Option<Duration>,
    ready: tokio::sync::oneshot::Receiver<()>,
    mut signal: watch::Receiver<bool>,
    stop: watch::Sender<Stop>,
) {
    tokio::select! {
        _ = ready => {}
        _ = signal.wait_for(|s| *s) => {
            stop.send_replace(Stop::Interrupt);
            return;
        }
    }
    let deadline = duration.map(|d| tokio::time::Instant::now() + d);
    tokio::select! {
        _ = sleep_until_opt(deadline) => { stop.send_replace(Stop::Finish); }
        _ = signal.wait_for(|s| *s) => { stop.send_replace(Stop::Interrupt); }
    }
}
