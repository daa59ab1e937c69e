//! `rollprobe run`: probe a URL, print the summary, write the reports, exit with the verdict.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::sync::watch;

use tokio::sync::oneshot;

use super::Outputs;
use crate::config::Config;
use crate::deploy::{self, DeployPlan, Deployment};
use crate::judge::{self, recorder::Snapshot};
use crate::model::{Phase, Report, Retention, RunRecord};
use crate::plan::{Invocation, Plan, Stop};
use crate::progress::{self, Console};
use crate::report;
use crate::retention::{self, RetentionPlan};
use crate::runner::{self, Control, RunOutcome};
use crate::signals;

const EXAMPLES: &str = "\
Examples:
  # Probe staging for two minutes with 4 browser users, reports for CI:
  rollprobe run https://staging.example.com/ --workers 4 --duration 2m --json report.json --junit report.xml

  # Wrap the deployment: 10 s baseline, probe while it rolls out, 15 s settle, check the final version:
  rollprobe run https://staging.example.com/ --workers 4 --version-header X-App-Version --expect-version 2.4.1 \
    -- sh -c 'kubectl apply -f k8s/ && kubectl rollout status deploy/web --timeout=5m'

  # As many users as this machine can run (ramped up while loads per second rise), at most 8:
  rollprobe run https://staging.example.com/ --workers auto --workers-ceiling 8 --duration 2m

  # Deploy runs in another pipeline step: probe in the background until told to stop:
  rollprobe run https://staging.example.com/ --until-signal --json report.json & PROBE=$!
  ./deploy.sh
  kill -TERM $PROBE; wait $PROBE

  # Ignore analytics, fail on uncaught JS errors too, allow 0.1 % failed loads:
  rollprobe run https://staging.example.com/ --ignore googletagmanager.com --fail-on-js-error --slo 99.9

  # The app must mount into #app; a live dashboard long-polls, so stop waiting for fetches after 3 s:
  rollprobe run https://staging.example.com/ --expect-selector '#app *' --long-request 3s

  # Deploy in another step; when told to stop, check the old version's assets are still served:
  rollprobe run https://staging.example.com/ --until-signal --check-retention --json report.json";

#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct RunArgs {
    /// The page to load, e.g. https://staging.example.com/ (overrides the scenario's targets)
    #[arg(required_unless_present = "scenario")]
    pub url: Option<String>,

    /// Scenario file (TOML): targets, journey steps, and any setting below by its key; flags
    /// override it
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Deploy command to wrap (after `--`): probe before, during and after it
    #[arg(last = true, value_name = "DEPLOY COMMAND")]
    pub command: Vec<String>,

    #[command(flatten)]
    pub outputs: Outputs,

    /// No live progress output
    #[arg(short, long)]
    pub quiet: bool,

    /// Save every observation of the run here, to judge it again as a test fixture
    #[arg(long, value_name = "FILE", hide = true)]
    pub save_observations: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Config,
}

/// How a run is driven: a timer, a signal, or a deploy command's phases.
pub enum Driver {
    For(Option<Duration>),
    Deploy(DeployPlan),
}

pub async fn probe(args: RunArgs) -> Result<i32> {
    // First of all: a signal at any later moment, even while Chromium starts, ends the run with
    // its reports instead of killing it.
    let signal = signals::stop_on_signals()?;
    let destinations = args.outputs.check()?;
    let plan = Plan::resolve(&Invocation {
        url: args.url,
        scenario: args.scenario,
        deploy_command: args.command,
        flags: args.settings,
        first_report_file: destinations.first_file(),
        save_observations: args.save_observations,
    })?;
    let driver = match &plan.stop {
        Stop::Deploy { argv, log } => Driver::Deploy(DeployPlan {
            deployment: Deployment::Command {
                argv: argv.clone(),
                log: log.clone(),
            },
            baseline: plan.baseline,
            settle: plan.settle,
        }),
        Stop::After(duration) => Driver::For(*duration),
    };
    let report = probe_and_report(plan, driver, signal, !args.quiet).await?;
    Ok(destinations.finish(&report, report.verdict.exit_code))
}

/// Runs the probe with live progress, driven by `driver`, and assembles the report.
pub async fn probe_and_report(
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
    let (stop_tx, stop_rx) = watch::channel(runner::Stop::Running);
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
                runner::drive_for(duration, ready_rx, signal, stop_tx).await;
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
    let run = runner::run_workers(cfg, control, progress_tx);
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
    Some(retention::check(plan, old, next_signal).await)
}
