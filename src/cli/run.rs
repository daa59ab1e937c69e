//! `rollprobe run`: its arguments; the run itself is [`crate::run::run`].

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::config::Config;
use crate::plan::{Invocation, Plan};
use crate::report::Outputs;
use crate::run::{self, Driver};
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
    let driver = Driver::planned(&plan);
    let report = run::run(plan, driver, signal, !args.quiet).await?;
    Ok(destinations.finish(&report, report.verdict.exit_code))
}
