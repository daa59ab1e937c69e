//! The workers: N of them share one supervised Chromium and load the page until the run is
//! over, sending what they observe to the recorder. Whoever drives the run (a timer, a deploy
//! command, a signal) talks to it through [`Control`]: the current phase, and when to stop.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::Result;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::browser::{BrowserOptions, Supervisor};
use crate::clock::{self, sleep_until_opt};
use crate::cpu;
use crate::defaults;
use crate::error::UsageError;
use crate::judge::recorder::{Limits, Recorded, Recorder, Snapshot};
use crate::model::{Observation, Outage, Phase, PhaseSpan, RunFacts, Settings, TabRound};
use crate::probe::{self, LoadSettings, TabContext, TabPlan, Users};
use crate::ramp::{self, Ramp};

#[derive(Clone, Debug)]
pub struct RunConfig {
    pub load: LoadSettings,
    /// What the loads are judged by.
    pub settings: Settings,
    pub model: LoadModel,
    /// No new load starts once this many have started.
    pub max_loads: Option<u64>,
    pub browser: BrowserOptions,
    /// How long in-flight loads may finish after an interrupt (Ctrl-C, SIGTERM).
    pub grace: Duration,
    pub limits: Limits,
    /// Keep every observation for the outcome (`--save-observations`), not only the digest.
    pub keep_observations: bool,
    /// Users who keep the app open across the deploy.
    pub open_tabs: Option<TabPlan>,
}

/// How loads are started.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LoadModel {
    /// Each of `workers` users loads the page again as soon as the last load ended.
    Closed { workers: usize },
    /// Closed, with as many users as the machine can run (`--workers auto`, see `ramp`), at
    /// most `ceiling`.
    Auto { ceiling: usize },
    /// New users arrive at `rate_per_s` whatever the site does, at most `max_in_flight` at once.
    Open {
        rate_per_s: f64,
        max_in_flight: usize,
    },
}

impl LoadModel {
    pub fn max_in_flight(&self) -> usize {
        match *self {
            LoadModel::Closed { workers } => workers,
            LoadModel::Auto { ceiling } => ceiling,
            LoadModel::Open { max_in_flight, .. } => max_in_flight,
        }
    }

    /// Open model: new users per second.
    pub fn rate_per_s(&self) -> Option<f64> {
        match *self {
            LoadModel::Open { rate_per_s, .. } => Some(rate_per_s),
            LoadModel::Closed { .. } | LoadModel::Auto { .. } => None,
        }
    }
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
    /// Ctrl-C or SIGTERM. The driver turns it into a stop; once the run is finishing as
    /// planned (the duration or settle is over) the driver is done, and a signal still cuts
    /// the finishing loads short.
    pub signal: watch::Receiver<bool>,
}

/// What a run leaves for the judge: its facts, its recorded loads, and (when asked to keep
/// them) every observation.
pub struct RunOutcome {
    pub facts: RunFacts,
    pub recorded: Recorded,
    /// Every observation in arrival order, when `keep_observations` was set.
    pub observations: Vec<Observation>,
}

/// Runs the probe until `control.stop` says so (or `max_loads` is reached); `progress` receives
/// a snapshot after every load.
pub async fn run_workers(
    cfg: RunConfig,
    mut control: Control,
    progress: watch::Sender<Snapshot>,
) -> Result<RunOutcome> {
    let started_at = SystemTime::now();
    // Without a browser the run still ends with its reports: no load, no verdict but
    // inconclusive, and the reason in the notes. The driver is not told to go on, so a wrapped
    // deploy command does not start while nobody watches.
    let browser = start_browser(&cfg, &mut control).await?;
    if let (Ok(_), Some(ready)) = (&browser, control.ready.take()) {
        let _ = ready.send(());
    }
    let (cpu_stop, cpu_stop_rx) = watch::channel(false);
    let cpu_samples = tokio::spawn(cpu::sample(cpu_stop_rx));
    let t0 = std::time::Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<Observation>();
    let counters = Arc::new(Counters::default());
    let workers = match &browser {
        Ok(supervisor) => start_workers(&cfg, supervisor, &control, &counters, tx),
        Err(_) => {
            drop(tx);
            JoinSet::new()
        }
    };
    let (round_tx, mut round_rx) = mpsc::unbounded_channel::<TabRound>();
    let tabs = match (&browser, &cfg.open_tabs) {
        (Ok(supervisor), Some(plan)) => start_tabs(&cfg.load, plan, supervisor, &control, round_tx),
        _ => JoinSet::new(),
    };

    let first_phase = *control.phase.borrow_and_update();
    let mut collected = Collected::new(&cfg, first_phase, started_at);
    let interrupted = collect(
        &cfg,
        &mut control,
        (&mut rx, &mut round_rx),
        &mut collected,
        &progress,
    )
    .await
        || *control.stop.borrow() == Stop::Interrupt;
    // Whatever still runs after the grace period is abandoned, not waited for.
    let abandoned = counters.in_flight.load(Ordering::SeqCst);
    collected
        .last(&mut [workers, tabs], &mut rx, &mut round_rx)
        .await;
    let finished_at = SystemTime::now();
    collected.end_phase(clock::unix_ms(finished_at));
    cpu_stop.send_replace(true);
    let cpu = cpu_samples.await.unwrap_or_default();
    let browser = stop_browser(browser).await;
    let duration_s = t0.elapsed().as_secs_f64();
    let Collected {
        recorder,
        kept,
        phases,
        ..
    } = collected;
    Ok(RunOutcome {
        recorded: recorder.finish(duration_s, &phases),
        facts: RunFacts {
            started_at_ms: clock::unix_ms(started_at),
            finished_at_ms: clock::unix_ms(finished_at),
            duration_s,
            phases,
            interrupted,
            browser_outages: browser.outages,
            abandoned_in_flight: abandoned,
            skipped_starts: counters.skipped.load(Ordering::SeqCst),
            cpu,
            deploy: None,
            browser_fault: browser.fault,
            browser: browser.described,
            worker_steps: counters.ramp.steps(),
        },
        observations: kept,
    })
}

/// The workers, sharing the browser. Only they hold the shared state: the observation channel
/// closes when the last of them is done.
fn start_workers(
    cfg: &RunConfig,
    supervisor: &Arc<Supervisor>,
    control: &Control,
    counters: &Arc<Counters>,
    tx: mpsc::UnboundedSender<Observation>,
) -> JoinSet<()> {
    let shared = Arc::new(Shared {
        supervisor: supervisor.clone(),
        settings: cfg.load.clone(),
        users: Users::new(&cfg.load, cfg.model.max_in_flight()),
        max_loads: cfg.max_loads,
        counters: counters.clone(),
        phase: control.phase.clone(),
        stop: control.stop.clone(),
        tx,
    });
    spawn_workers(cfg.model, &shared)
}

fn recorder(cfg: &RunConfig) -> Recorder {
    let recorder = Recorder::new(&cfg.settings, cfg.limits, cfg.load.targets.several());
    match &cfg.open_tabs {
        Some(plan) => recorder.with_tabs(&cfg.settings, plan.count, plan.every.as_secs_f64()),
        None => recorder,
    }
}

/// The open tabs, each a user of its own with the app open until the run stops. A tab is on
/// the browser that was up when it opened: if that one dies, the tab is lost, as a user's
/// would be, and its last round books that as the prober's fault.
fn start_tabs(
    settings: &LoadSettings,
    plan: &TabPlan,
    supervisor: &Arc<Supervisor>,
    control: &Control,
    tx: mpsc::UnboundedSender<TabRound>,
) -> JoinSet<()> {
    let mut tabs = JoinSet::new();
    for tab in 0..plan.count {
        let (settings, plan) = (settings.clone(), plan.clone());
        let (supervisor, tx) = (supervisor.clone(), tx.clone());
        let (phase, mut stop) = (control.phase.clone(), control.stop.clone());
        tabs.spawn(async move {
            let Ok(chromium) = supervisor.get().await else {
                return;
            };
            let cx = TabContext {
                settings: &settings,
                plan: &plan,
                tab,
                phase,
            };
            let stopped = async move {
                let _ = stop.wait_for(|s| *s != Stop::Running).await;
            };
            probe::keep_open(chromium, cx, stopped, |round| tx.send(round).is_ok()).await;
        });
    }
    tabs
}

/// The browser the workers share, or why there is none: it could not start, or the run was
/// stopped (Ctrl-C, SIGTERM) while it was starting. Err: the browser refuses a setting.
async fn start_browser(
    cfg: &RunConfig,
    control: &mut Control,
) -> Result<Result<Arc<Supervisor>, String>> {
    let mut stop = control.stop.clone();
    let supervisor = tokio::select! {
        started = Supervisor::start(cfg.browser.clone()) => match started {
            Ok(supervisor) => Arc::new(supervisor),
            Err(e) => return Ok(Err(format!("{e:#}"))),
        },
        _ = stop.wait_for(|s| *s == Stop::Interrupt) => {
            return Ok(Err("stopped while Chromium was starting".to_string()));
        }
    };
    if let Err(e) = check_with_browser(cfg, &supervisor).await {
        supervisor.shutdown().await;
        return Err(e);
    }
    Ok(Ok(supervisor))
}

/// The user's settings the browser itself must accept, checked once before any load.
async fn check_with_browser(cfg: &RunConfig, supervisor: &Supervisor) -> Result<()> {
    let Some(selector) = &cfg.load.expect_selector else {
        return Ok(());
    };
    let chromium = supervisor.get().await?;
    crate::probe::check_selector(&chromium, selector, cfg.load.cdp_timeout)
        .await
        .map_err(|e| UsageError(e).into())
}

/// Shuts the browser down: which it was and its outages over the run, or why there was none.
async fn stop_browser(browser: Result<Arc<Supervisor>, String>) -> BrowserFacts {
    match browser {
        Ok(supervisor) => {
            let facts = BrowserFacts {
                described: supervisor.described().await,
                outages: supervisor.outages(),
                fault: None,
            };
            supervisor.shutdown().await;
            facts
        }
        Err(fault) => BrowserFacts {
            fault: Some(fault),
            ..BrowserFacts::default()
        },
    }
}

#[derive(Default)]
struct BrowserFacts {
    described: Option<String>,
    outages: Vec<Outage>,
    fault: Option<String>,
}

/// Takes observations and phase changes until the workers are done or the grace period after a
/// stop runs out; returns whether the run was interrupted.
async fn collect(
    cfg: &RunConfig,
    control: &mut Control,
    (rx, rounds): (
        &mut mpsc::UnboundedReceiver<Observation>,
        &mut mpsc::UnboundedReceiver<TabRound>,
    ),
    collected: &mut Collected,
    progress: &watch::Sender<Snapshot>,
) -> bool {
    let mut tabs_open = true;
    let mut interrupted = false;
    let mut signal = control.signal.clone();
    let mut stopping = false;
    let mut give_up_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            obs = rx.recv() => match obs {
                Some(obs) => {
                    collected.take(Observation { after_interrupt: interrupted, ..obs });
                    progress.send_replace(collected.recorder.snapshot().clone());
                }
                None => break,
            },
            round = rounds.recv(), if tabs_open => match round {
                Some(mut round) => {
                    round.observation.after_interrupt = interrupted;
                    collected.recorder.record_round(round);
                }
                None => tabs_open = false,
            },
            changed = control.phase.changed() => {
                if changed.is_ok() {
                    let now = clock::unix_ms(SystemTime::now());
                    collected.end_phase(now);
                    let phase = *control.phase.borrow_and_update();
                    collected.phases.push(PhaseSpan { phase, started_at_ms: now, ended_at_ms: 0 });
                }
            },
            changed = control.stop.changed(), if !interrupted => {
                let stop = if changed.is_ok() { *control.stop.borrow_and_update() } else { Stop::Finish };
                interrupted = stop == Stop::Interrupt;
                let grace = match stop {
                    Stop::Running => None,
                    // In-flight loads are bounded by their own timeout.
                    Stop::Finish if !stopping => Some(cfg.load.load_timeout + cfg.load.cdp_timeout),
                    Stop::Finish => None,
                    Stop::Interrupt => Some(cfg.grace),
                };
                if let Some(grace) = grace {
                    stopping = true;
                    let at = tokio::time::Instant::now() + grace;
                    give_up_at = Some(give_up_at.map_or(at, |g| g.min(at)));
                }
            },
            _ = signal.wait_for(|s| *s), if stopping && !interrupted => {
                interrupted = true;
                let at = tokio::time::Instant::now() + cfg.grace;
                give_up_at = Some(give_up_at.map_or(at, |g| g.min(at)));
            },
            _ = sleep_until_opt(give_up_at) => break,
        }
    }
    interrupted
}

fn spawn_workers(model: LoadModel, shared: &Arc<Shared>) -> JoinSet<()> {
    let mut workers = JoinSet::new();
    match model {
        LoadModel::Closed { workers: n } => {
            for worker in 0..n {
                let shared = shared.clone();
                workers.spawn(async move { while shared.one_load(worker).await {} });
            }
        }
        LoadModel::Auto { ceiling } => {
            let (users, gate) = watch::channel(0);
            let ramp = Ramp::new(defaults::AUTO_START, ceiling);
            workers.spawn(ramp::drive(ramp, shared.counters.ramp.clone(), users));
            for worker in 0..ceiling {
                let (shared, gate) = (shared.clone(), gate.clone());
                workers
                    .spawn(async move { while shared.gated_load(worker, gate.clone()).await {} });
            }
        }
        LoadModel::Open {
            rate_per_s,
            max_in_flight,
        } => {
            workers.spawn(arrivals(shared.clone(), rate_per_s, max_in_flight));
        }
    }
    workers
}

/// What the run keeps as it goes: the recorder's digest, the phases, and (when asked) every
/// observation.
struct Collected {
    recorder: Recorder,
    keep: bool,
    kept: Vec<Observation>,
    phases: Vec<PhaseSpan>,
}

impl Collected {
    fn new(cfg: &RunConfig, phase: Phase, started_at: SystemTime) -> Collected {
        Collected {
            recorder: recorder(cfg),
            keep: cfg.keep_observations,
            kept: Vec::new(),
            phases: vec![PhaseSpan {
                phase,
                started_at_ms: clock::unix_ms(started_at),
                ended_at_ms: 0,
            }],
        }
    }

    /// Stops what still runs, keeping the loads and rounds that completed in the same instant.
    async fn last(
        &mut self,
        tasks: &mut [JoinSet<()>],
        loads: &mut mpsc::UnboundedReceiver<Observation>,
        rounds: &mut mpsc::UnboundedReceiver<TabRound>,
    ) {
        for set in tasks {
            set.abort_all();
            while set.join_next().await.is_some() {}
        }
        while let Ok(obs) = loads.try_recv() {
            self.take(obs);
        }
        while let Ok(round) = rounds.try_recv() {
            self.recorder.record_round(round);
        }
    }

    fn take(&mut self, obs: Observation) {
        if self.keep {
            self.kept.push(obs.clone());
        }
        self.recorder.record(obs);
    }

    fn end_phase(&mut self, at_ms: u64) {
        if let Some(last) = self.phases.last_mut() {
            last.ended_at_ms = at_ms;
        }
    }
}

#[derive(Default)]
struct Counters {
    next_id: AtomicU64,
    in_flight: AtomicU64,
    skipped: AtomicU64,
    /// What `--workers auto` reads and decides.
    ramp: Arc<ramp::Tally>,
}

/// What every load of a run shares.
struct Shared {
    supervisor: Arc<Supervisor>,
    settings: LoadSettings,
    users: Users,
    max_loads: Option<u64>,
    counters: Arc<Counters>,
    phase: watch::Receiver<Phase>,
    stop: watch::Receiver<Stop>,
    tx: mpsc::UnboundedSender<Observation>,
}

impl Shared {
    /// `one_load` once the ramp lets `worker` in; false when no more loads should start.
    async fn gated_load(&self, worker: usize, mut gate: watch::Receiver<usize>) -> bool {
        let mut stop = self.stop.clone();
        // The guards wait_for hands back are not Send: only whether the gate opened is kept.
        let open = tokio::select! {
            open = gate.wait_for(|users| worker < *users) => open.is_ok(),
            _ = stop.wait_for(|s| *s != Stop::Running) => false,
        };
        open && self.one_load(worker).await
    }

    /// Makes one load and sends what it saw; false when no more loads should start.
    async fn one_load(&self, worker: usize) -> bool {
        if *self.stop.borrow() != Stop::Running {
            return false;
        }
        let id = self.counters.next_id.fetch_add(1, Ordering::SeqCst);
        if self.max_loads.is_some_and(|max| id >= max) {
            return false;
        }
        self.counters.in_flight.fetch_add(1, Ordering::SeqCst);
        let url = self.settings.targets.pick(id).to_string();
        let now = clock::unix_ms(SystemTime::now());
        let obs = Observation::start(id, worker, *self.phase.borrow(), url, now);
        let obs = match self.supervisor.get().await {
            Ok(chromium) => {
                // The last loads of a bounded run need nobody after them.
                let more = self
                    .max_loads
                    .is_none_or(|max| self.counters.next_id.load(Ordering::SeqCst) < max);
                probe::load_page(&chromium, &self.settings, &self.users, more, obs).await
            }
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
            phase: Phase::of_load(obs.phase, *self.phase.borrow()),
            ..obs
        };
        self.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.counters.ramp.add(obs.duration_ms);
        self.tx.send(obs).is_ok()
    }
}

/// The open model: users arrive on a clock, not when the previous one is done, so a slow site
/// does not slow the probe down. Arrivals past `max_in_flight` are counted, not queued.
async fn arrivals(shared: Arc<Shared>, rate_per_s: f64, max_in_flight: usize) {
    let mut clock = tokio::time::interval(Duration::from_secs_f64(1.0 / rate_per_s));
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut loads = JoinSet::new();
    let mut slot = 0;
    loop {
        let mut stop = shared.stop.clone();
        tokio::select! {
            _ = clock.tick() => {}
            _ = stop.wait_for(|s| *s != Stop::Running) => break,
        }
        while loads.try_join_next().is_some() {}
        if shared
            .max_loads
            .is_some_and(|max| shared.counters.next_id.load(Ordering::SeqCst) >= max)
        {
            break;
        }
        if loads.len() >= max_in_flight {
            shared.counters.skipped.fetch_add(1, Ordering::SeqCst);
            continue;
        }
        let (shared, worker) = (shared.clone(), slot % max_in_flight);
        slot += 1;
        loads.spawn(async move { shared.one_load(worker).await });
    }
    while loads.join_next().await.is_some() {}
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
