//! The load models: closed (a fixed count of users, each looping), `auto` (as many as the
//! machine can run, see [`super::ramp`]) and open (users arriving on a clock), all sharing one
//! supervised Chromium and sending what they observe to the collector.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::ramp::{self, Ramp};
use super::{Control, Stop};
use crate::browser::Supervisor;
use crate::clock;
use crate::defaults;
use crate::judge::classify::Rules;
use crate::model::{Observation, Phase};
use crate::plan::{LoadModel, RunConfig};
use crate::probe::{self, Evidence, LoadSettings, Users, Worker};

/// The workers, sharing the browser. Only they hold the shared state: the observation channel
/// closes when the last of them is done.
pub(super) fn start_workers(
    cfg: &RunConfig,
    supervisor: &Arc<Supervisor>,
    control: &Control,
    counters: &Arc<Counters>,
    tx: mpsc::UnboundedSender<Observation>,
) -> JoinSet<()> {
    let shared = Arc::new(Shared {
        supervisor: supervisor.clone(),
        settings: cfg.load.clone(),
        // The evidence a run takes is judged as the run is.
        evidence: cfg
            .evidence
            .clone()
            .map(|plan| Evidence::new(plan, Rules::of(&cfg.settings))),
        users: Users::new(&cfg.load, cfg.model.max_in_flight()),
        max_loads: cfg.max_loads,
        counters: counters.clone(),
        phase: control.phase.clone(),
        stop: control.stop.clone(),
        tx,
    });
    spawn_workers(cfg.model, &shared)
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

#[derive(Default)]
pub(super) struct Counters {
    next_id: AtomicU64,
    pub(super) in_flight: AtomicU64,
    pub(super) skipped: AtomicU64,
    /// What `--workers auto` reads and decides.
    pub(super) ramp: Arc<ramp::Tally>,
}

/// What every load of a run shares.
struct Shared {
    supervisor: Arc<Supervisor>,
    settings: LoadSettings,
    evidence: Option<Evidence>,
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
        // The ramp reads a user's whole cycle: the load, its evidence, the tab closed, a
        // relaunch that failed and its back-off.
        let (window, began) = (self.counters.ramp.window(), Instant::now());
        // A worker's kept context is cleared before its next load starts its clock.
        self.users.ready(worker).await;
        let url = self.settings.targets.pick(id).to_string();
        let now = clock::unix_ms(SystemTime::now());
        let obs = Observation::start(id, worker, *self.phase.borrow(), url, now);
        let obs = match self.supervisor.get().await {
            Ok(chromium) => {
                // The last loads of a bounded run need nobody after them.
                let more = self
                    .max_loads
                    .is_none_or(|max| self.counters.next_id.load(Ordering::SeqCst) < max);
                let worker = Worker {
                    settings: &self.settings,
                    evidence: self.evidence.as_ref(),
                    users: &self.users,
                    phase: &self.phase,
                };
                probe::load_page(&chromium, &worker, more, obs).await
            }
            Err(e) => {
                // Relaunch failed: the prober's fault. Back off so a broken browser does not spin.
                tokio::time::sleep(Duration::from_secs(1)).await;
                Observation {
                    prober_error: Some(format!("relaunching Chromium: {e:#}")),
                    phase: Phase::of_load(obs.phase, *self.phase.borrow()),
                    ..obs
                }
            }
        };
        self.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        let cycle_ms = began.elapsed().as_secs_f64() * 1000.0;
        self.counters.ramp.add(window, cycle_ms);
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
