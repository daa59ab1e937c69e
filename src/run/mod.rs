//! A run, from plan to report: the browser and its users ([`probing`], the load models in
//! [`workers`], the open [`tabs`], the [`collect`]or), the drivers that move it through its
//! phases ([`drive`], [`deploy`]), `--workers auto`'s [`ramp`], the live [`progress`] line, and the
//! old-asset retention check after probing. The plan is plain data; this module turns it into
//! live objects (a browser, workers, evidence of failed loads) and back into a report.

mod browser;
mod collect;
mod deploy;
mod drive;
mod probing;
mod progress;
mod ramp;
mod tabs;
mod workers;

use anyhow::Result;
use tokio::sync::{oneshot, watch};

pub use deploy::{DeployPlan, Deployment};
pub use drive::Driver;
pub use probing::RunOutcome;

use crate::judge::{self, recorder::Snapshot};
use crate::model::{Phase, Report, Retention, RunRecord};
use crate::plan::Plan;
use crate::report;
use crate::retention::{self, RetentionPlan};
use progress::Console;

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

/// A whole run: probing with live progress, driven by `driver`, the retention check after it,
/// and the judged report. `rollprobe run` and the demo both run this.
pub async fn run(
    plan: Plan,
    driver: Driver,
    signal: watch::Receiver<bool>,
    show_progress: bool,
) -> Result<Report> {
    let (cfg, save_observations) = (plan.run, plan.save_observations);
    let settings = cfg.settings.clone();
    let retention_signal = signal.clone();
    let first_phase = match driver {
        Driver::For(_) => Phase::Run,
        Driver::Deploy(_) => Phase::Baseline,
    };
    let (phase_tx, phase_rx) = watch::channel(first_phase);
    let (stop_tx, stop_rx) = watch::channel(Stop::Running);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (progress_tx, progress_rx) = watch::channel(Snapshot::default());
    let console = Console::new(show_progress);
    let retention_console = show_progress.then(|| console.clone());
    let display = tokio::spawn(progress::show(
        console.clone(),
        progress_rx,
        phase_rx.clone(),
        show_progress,
    ));
    let control = Control {
        phase: phase_rx,
        stop: stop_rx,
        ready: Some(ready_tx),
        signal: signal.clone(),
    };
    let drive = async {
        match driver {
            Driver::For(duration) => {
                drive::drive_for(duration, ready_rx, signal, stop_tx).await;
                None
            }
            Driver::Deploy(plan) => {
                deploy::drive(plan, ready_rx, phase_tx, stop_tx, signal, console).await
            }
        }
    };
    // The runner ends on its own (max loads) or when the driver says stop; either way the
    // driver's record is taken if it finished, and it is dropped (stopping it) if not.
    let label_urls = cfg.load.targets.several();
    let run = probing::run_workers(cfg, control, progress_tx);
    tokio::pin!(run);
    tokio::pin!(drive);
    let (outcome, deploy) = tokio::select! {
        outcome = &mut run => (outcome, None),
        deploy = &mut drive => (run.await, deploy),
    };
    let _ = display.await;
    let mut outcome = outcome?;
    outcome.facts.deploy = deploy;
    let retention = old_assets_retained(
        plan.retention.as_ref(),
        &mut outcome,
        retention_signal,
        retention_console,
    )
    .await;
    if let Some(path) = &save_observations {
        let record = RunRecord {
            target: settings.target.clone(),
            label_urls,
            settings: settings.clone(),
            facts: outcome.facts.clone(),
            observations: outcome.observations,
            retention: retention.clone(),
        };
        report::write::atomically(path, |out| Ok(serde_json::to_writer_pretty(out, &record)?))?;
    }
    Ok(judge::run_report(
        settings,
        outcome.facts,
        outcome.recorded,
        retention,
    ))
}

/// The old-asset retention check, once probing is over (the deploy command has exited and the
/// settle phase ended), when the plan has one. Skipped when a signal cut the run short, unless
/// a signal is how it ends (`--until-signal`); then only a further signal stops it. Bounded by
/// its time limit.
async fn old_assets_retained(
    plan: Option<&RetentionPlan>,
    outcome: &mut RunOutcome,
    mut signal: watch::Receiver<bool>,
    console: Option<Console>,
) -> Option<Retention> {
    let plan = plan?;
    let old = std::mem::take(&mut outcome.recorded.old_assets);
    let suspects = std::mem::take(&mut outcome.recorded.past_cache);
    let skip = if outcome.facts.interrupted && !plan.after_signal {
        Some("the run was interrupted")
    } else if plan.after_deploy && outcome.facts.deploy.is_none() {
        Some("probing ended before the deployment did")
    } else {
        None
    };
    if let Some(why) = skip {
        return Some(retention::not_checked(plan, &old, why));
    }
    if let (Some(console), false) = (console, old.assets.is_empty()) {
        console.line(&format!(
            "checking that the {} assets of the first loads are still served ({} requests each, at most {})",
            old.assets.len(),
            plan.attempts,
            crate::model::shown(plan.time_limit)
        ));
    }
    // The signal that ended the run has been seen: only the next one stops the check.
    signal.borrow_and_update();
    let next_signal = async move {
        if signal.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    // A few requests at most, before the check's many.
    let past_cache = retention::past_cache(plan, suspects).await;
    let retention = retention::check(plan, old, next_signal).await;
    Some(Retention {
        past_cache,
        ..retention
    })
}
