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
                    let phase = *control.phase.borrow_and_update();
                    collected.enter(phase, clock::unix_ms(SystemTime::now()));
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

    /// The run is in `phase` from `at_ms`. The watch keeps only the latest phase, so a deploy
    /// over before this loop's next turn (`-- true`) skips the rollout; the loads in flight
    /// across it still count in it, so it gets its span all the same: an empty one.
    fn enter(&mut self, phase: Phase, at_ms: u64) {
        let from = self.phases.last().map(|s| s.phase);
        self.end_phase(at_ms);
        let skipped = Phase::ALL
            .into_iter()
            .filter(|p| from.is_some_and(|from| from < *p) && *p < phase);
        for skipped in skipped {
            self.phases.push(PhaseSpan {
                phase: skipped,
                started_at_ms: at_ms,
                ended_at_ms: at_ms,
            });
        }
        self.phases.push(PhaseSpan {
            phase,
            started_at_ms: at_ms,
            ended_at_ms: 0,
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::{fixtures, recorder::Limits};

    /// A deploy over before the collector's next turn: the watch shows settle after baseline,
    /// and the rollout its loads were in still gets a span, an empty one where it was skipped.
    #[test]
    fn a_skipped_phase_gets_an_empty_span_between_its_neighbours() {
        let settings = fixtures::record("steady").settings;
        let mut collected = Collected {
            recorder: Recorder::new(&settings, Limits::default(), false),
            keep: false,
            kept: Vec::new(),
            phases: vec![PhaseSpan {
                phase: Phase::Baseline,
                started_at_ms: 1_000,
                ended_at_ms: 0,
            }],
        };
        collected.enter(Phase::Settle, 5_000);
        collected.end_phase(9_000);
        let spans: Vec<_> = (collected.phases.iter())
            .map(|s| (s.phase, s.started_at_ms, s.ended_at_ms))
            .collect();
        assert_eq!(
            spans,
            [
                (Phase::Baseline, 1_000, 5_000),
                (Phase::Rollout, 5_000, 5_000),
                (Phase::Settle, 5_000, 9_000),
            ]
        );
    }
}
