//! The drivers: what moves a run through its phases and tells it to stop. A timer or a signal
//! ([`drive_for`]) for a plain run; a deploy command's baseline, rollout and settle
//! ([`super::deploy::drive`]) around one.

use std::time::Duration;

use tokio::sync::watch;

use super::Stop;
use super::deploy::{DeployPlan, Deployment};
use crate::clock::sleep_until_opt;
use crate::plan::{self, Plan};

/// How a run is driven: a timer, a signal, or a deploy command's phases.
pub enum Driver {
    For(Option<Duration>),
    Deploy(DeployPlan),
}

impl Driver {
    /// The driver the plan asks for: its deploy command's phases, or a timer.
    pub fn planned(plan: &Plan) -> Driver {
        match &plan.ending {
            plan::Ending::Deploy { argv, log } => Driver::Deploy(DeployPlan {
                deployment: Deployment::Command {
                    argv: argv.clone(),
                    log: log.clone(),
                },
                baseline: plan.baseline,
                settle: plan.settle,
            }),
            plan::Ending::After(duration) => Driver::For(*duration),
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    /// A timed run stops as planned its duration after the browser is ready, not before.
    #[tokio::test(start_paused = true)]
    async fn a_timer_counts_from_the_browser_being_ready() {
        let (ready_tx, ready) = oneshot::channel();
        let (_signal_tx, signal) = watch::channel(false);
        let (stop_tx, mut stop) = watch::channel(Stop::Running);
        let started = tokio::time::Instant::now();
        let driver = tokio::spawn(drive_for(
            Some(Duration::from_secs(5)),
            ready,
            signal,
            stop_tx,
        ));
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(
            *stop.borrow(),
            Stop::Running,
            "the browser is still starting"
        );
        ready_tx.send(()).unwrap();
        stop.wait_for(|s| *s != Stop::Running).await.unwrap();
        assert_eq!(*stop.borrow(), Stop::Finish);
        assert_eq!(started.elapsed(), Duration::from_secs(8));
        driver.await.unwrap();
    }

    /// A signal cuts the run short, whether the browser is up or not.
    #[tokio::test(start_paused = true)]
    async fn a_signal_interrupts_before_and_after_the_start() {
        for up_first in [false, true] {
            let (ready_tx, ready) = oneshot::channel();
            let (signal_tx, signal) = watch::channel(false);
            let (stop_tx, mut stop) = watch::channel(Stop::Running);
            let driver = tokio::spawn(drive_for(None, ready, signal, stop_tx));
            if up_first {
                ready_tx.send(()).unwrap();
                tokio::time::sleep(Duration::from_secs(60)).await;
                assert_eq!(*stop.borrow(), Stop::Running, "no duration: until a signal");
            }
            signal_tx.send_replace(true);
            stop.wait_for(|s| *s != Stop::Running).await.unwrap();
            assert_eq!(*stop.borrow(), Stop::Interrupt, "up first: {up_first}");
            driver.await.unwrap();
        }
    }
}
