//! What the users who stay across the deploy share (open tabs in `tab.rs`, returning users in
//! `returning.rs`): their plan, their context, the run's stop heard between
//! rounds, and how a round starts and ends.

use std::pin::Pin;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use super::session::{Halt, Session};
use super::{LoadSettings, Step};
use crate::clock;
use crate::model::{Kind, Observation, Phase, Round};

/// The open tabs, or the returning users, of a run.
#[derive(Clone, Debug)]
pub struct TabPlan {
    pub kind: Kind,
    pub count: usize,
    pub every: Duration,
    /// Each round's steps; empty: fetch the tab's scripts and stylesheets again.
    pub steps: Vec<Step>,
}

/// What a user who stays needs besides its browser.
pub struct TabContext<'a> {
    pub settings: &'a LoadSettings,
    pub plan: &'a TabPlan,
    pub tab: usize,
    pub phase: watch::Receiver<Phase>,
}

/// The run's stop, heard only between rounds.
pub(super) struct Stopped<'a>(pub(super) Pin<&'a mut (dyn Future<Output = ()> + Send)>);

impl Stopped<'_> {
    /// Waits out `gap` while the page lives on, unless the run stops first. Ok(false): it
    /// stopped; Err: the page was lost.
    pub(super) async fn wait(
        &mut self,
        session: &mut Session<'_>,
        gap: Duration,
    ) -> Result<bool, Halt> {
        let stopped = &mut self.0;
        session
            .during(async {
                tokio::select! {
                    _ = tokio::time::sleep(gap) => true,
                    _ = stopped => false,
                }
            })
            .await
    }

    /// Waits out `gap` with no page open, unless the run stops first; false: it stopped.
    pub(super) async fn idle(&mut self, gap: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(gap) => true,
            _ = &mut self.0 => false,
        }
    }
}

/// When a round started, and in which phase.
pub(super) struct Started {
    phase: Phase,
    clock: Instant,
}

impl TabContext<'_> {
    pub(super) fn round(
        &self,
        round: u32,
        opened_at_ms: u64,
        opened_on: Option<String>,
        observation: Observation,
    ) -> Round {
        Round {
            population: self.plan.kind,
            tab: self.tab,
            round,
            opened_at_ms,
            opened_on,
            observation,
        }
    }

    /// The observation of round `n`, starting now.
    pub(super) fn observe(&self, n: u32, url: &str) -> (Observation, Started) {
        let phase = *self.phase.borrow();
        let obs = Observation::start(n.into(), self.tab, phase, url.into(), now());
        let started = Started {
            phase,
            clock: Instant::now(),
        };
        (obs, started)
    }

    /// The round is over: how long it took, and the phase it belongs to.
    pub(super) fn ended(&self, obs: &mut Observation, started: &Started) {
        obs.duration_ms = started.clock.elapsed().as_secs_f64() * 1000.0;
        obs.phase = Phase::of_load(started.phase, *self.phase.borrow());
    }

    /// A message for a page lost between rounds.
    pub(super) fn lost(&self, n: u32, url: &str) -> Round {
        let (mut lost, _) = self.observe(n, url);
        lost.prober_error = Some(format!(
            "the {}'s page was lost (crashed, or its browser went away)",
            self.plan.kind.user()
        ));
        self.round(n, lost.started_at_ms, None, lost)
    }
}

pub(super) fn now() -> u64 {
    clock::unix_ms(SystemTime::now())
}

/// A deadline that does not bound the wait between rounds (the round's own deadline does).
pub(super) fn far_away() -> Instant {
    Instant::now() + Duration::from_secs(365 * 24 * 3600)
}
