//! The collector: takes the workers' observations, the open tabs' rounds and the phase changes
//! until the run is over, into the recorder's bounded digest.

use std::time::SystemTime;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::tabs::Staying;
use super::{Control, Stop};
use crate::clock::{self, sleep_until_opt};
use crate::judge::recorder::{Recorder, Snapshot};
use crate::model::{Observation, Phase, PhaseSpan, Round};
use crate::plan::RunConfig;

/// Takes observations and phase changes until the workers are done or the grace period after a
/// stop runs out; returns whether the run was interrupted.
pub(super) async fn collect(
    cfg: &RunConfig,
    control: &mut Control,
    (rx, rounds): (
        &mut mpsc::UnboundedReceiver<Observation>,
        &mut mpsc::UnboundedReceiver<Round>,
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

/// What the run keeps as it goes: the recorder's digest, the phases, and (when asked) every
/// observation.
pub(super) struct Collected {
    pub(super) recorder: Recorder,
    keep: bool,
    pub(super) kept: Vec<Observation>,
    pub(super) phases: Vec<PhaseSpan>,
}

impl Collected {
    pub(super) fn new(cfg: &RunConfig, phase: Phase, started_at: SystemTime) -> Collected {
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
    /// The users who stay (told to stop already) end their round in flight first, within its
    /// deadline (after an interrupt, the grace period); a round still running then is cut, and
    /// counted as such.
    pub(super) async fn last(
        &mut self,
        cfg: &RunConfig,
        interrupted: bool,
        (mut workers, mut tabs): (JoinSet<()>, Staying),
        (loads, rounds): (
            &mut mpsc::UnboundedReceiver<Observation>,
            &mut mpsc::UnboundedReceiver<Round>,
        ),
    ) {
        let rounds_may_take = match interrupted {
            true => cfg.grace,
            false => cfg.load.load_timeout + cfg.load.cdp_timeout,
        };
        tabs.stop();
        workers.abort_all();
        while workers.join_next().await.is_some() {}
        while let Ok(obs) = loads.try_recv() {
            self.take(obs);
        }
        let give_up = tokio::time::sleep(rounds_may_take);
        tokio::pin!(give_up);
        loop {
            tokio::select! {
                round = rounds.recv() => match round {
                    Some(round) => self.recorder.record_round(round),
                    None => break,
                },
                _ = &mut give_up => break,
            }
        }
        tabs.tasks.abort_all();
        while let Some(ended) = tabs.tasks.join_next().await {
            if let Err(cut) = ended
                && cut.is_cancelled()
                && let Some(kind) = tabs.kind(cut.id())
            {
                self.recorder.cut_rounds(kind, 1);
            }
        }
        while let Ok(round) = rounds.try_recv() {
            self.recorder.record_round(round);
        }
    }

    pub(super) fn take(&mut self, obs: Observation) {
        if self.keep {
            self.kept.push(obs.clone());
        }
        self.recorder.record(obs);
    }

    pub(super) fn end_phase(&mut self, at_ms: u64) {
        if let Some(last) = self.phases.last_mut() {
            last.ended_at_ms = at_ms;
        }
    }
}

fn recorder(cfg: &RunConfig) -> Recorder {
    let recorder = Recorder::new(&cfg.settings, cfg.limits, cfg.load.targets.several());
    cfg.stay.iter().fold(recorder, |recorder, plan| {
        let every_s = plan.every.as_secs_f64();
        recorder.with_population(&cfg.settings, plan.kind, plan.count, every_s)
    })
}
