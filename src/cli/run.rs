//! `rollprobe run`: probe a URL, print the summary, write the reports, exit with the verdict.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::sync::watch;

use tokio::sync::oneshot;

use super::Outputs;
use crate::defaults;
use crate::deploy::{self, DeployPlan, Deployment};
use crate::judge::{self, recorder::Snapshot};
use crate::model::{Phase, Report, Retention, RunRecord};
use crate::plan::{Block, Options, Plan, Stop, Workers};
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

    /// Scenario file (TOML): targets, load model, journey steps, SLOs; flags override it
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,

    /// Deploy command to wrap (after `--`): probe before, during and after it
    #[arg(last = true, value_name = "DEPLOY COMMAND")]
    pub command: Vec<String>,

    #[arg(short, long, value_parser = parse_workers, conflicts_with = "rate", help = format!(
        "Browser users loading the page at once, each looping, or `auto`: as many as this machine can run, ramped up while loads per second rise [default: {}]",
        defaults::WORKERS
    ))]
    pub workers: Option<Workers>,

    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=defaults::MAX_USERS as i64), help = format!(
        "With --workers auto: the most users it ramps to, to stay polite to the site [default: {}]",
        defaults::AUTO_CEILING
    ))]
    pub workers_ceiling: Option<u16>,

    /// Open model instead: new users per second ("5/s", "30/m"), whatever the site's speed
    #[arg(long, value_parser = crate::clock::parse_rate)]
    pub rate: Option<f64>,

    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=defaults::MAX_USERS as i64), requires = "rate", help = format!(
        "Open model: most users at once; arrivals past it are counted as skipped [default: {}]",
        defaults::MAX_WORKERS
    ))]
    pub max_workers: Option<u16>,

    #[arg(short, long, value_parser = crate::clock::parse_duration, conflicts_with = "until_signal", help = format!(
        "How long to probe, without a deploy command (30s, 2m, 90 = seconds) [default: {}]",
        defaults::shown(defaults::DURATION)
    ))]
    pub duration: Option<Duration>,

    /// Probe until SIGINT or SIGTERM, then write the reports (for a deploy in another step)
    #[arg(long)]
    pub until_signal: bool,

    /// Stop after this many loads
    #[arg(long)]
    pub loads: Option<u64>,

    #[arg(long, value_parser = crate::clock::parse_duration, help = format!(
        "With a deploy command: probe this long before starting it [default: {}]",
        defaults::shown(defaults::BASELINE)
    ))]
    pub baseline: Option<Duration>,

    #[arg(long, value_parser = crate::clock::parse_duration, help = format!(
        "With a deploy command: keep probing this long after it exits [default: {}]",
        defaults::shown(defaults::SETTLE)
    ))]
    pub settle: Option<Duration>,

    /// Write the deploy command's output here instead of the terminal
    #[arg(long, value_name = "FILE")]
    pub deploy_log: Option<PathBuf>,

    #[arg(long, value_parser = crate::clock::parse_duration, help = format!(
        "Network idle: no request in flight for this long after the load event ends a load [default: {}]",
        defaults::shown(defaults::IDLE)
    ))]
    pub idle: Option<Duration>,

    #[arg(long, value_parser = crate::clock::parse_duration, value_name = "DURATION", help = format!(
        "A fetch or XHR still open after this long is a long poll: the load stops waiting for it (as for an event stream once open, and any WebSocket) [default: {}, at most half the load timeout]",
        defaults::shown(defaults::LONG_REQUEST)
    ))]
    pub long_request: Option<Duration>,

    #[arg(long, value_parser = crate::clock::parse_duration, help = format!(
        "A load that is not idle by then fails as `timeout` [default: {}]",
        defaults::shown(defaults::LOAD_TIMEOUT)
    ))]
    pub load_timeout: Option<Duration>,

    /// Do not fetch these resource kinds, to spend the budget on what breaks deployments
    /// (matched by file extension: images, fonts, media)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "KINDS")]
    pub block: Vec<Block>,

    /// Do not judge (or wait for) URLs containing this text, or matching this glob; repeatable
    #[arg(long, value_name = "PATTERN")]
    pub ignore: Vec<String>,

    /// Count uncaught JS exceptions and console errors as failed loads (always recorded)
    #[arg(long)]
    pub fail_on_js_error: bool,

    /// Extra users who open the app during the baseline and keep it open across the deploy,
    /// fetching its scripts and stylesheets again (or taking the scenario's `[[open_tabs.step]]`)
    /// every few seconds: the old build's files going away breaks them
    #[arg(long, value_name = "N")]
    pub open_tabs: Option<usize>,

    #[arg(long, value_parser = crate::clock::parse_duration, value_name = "DURATION", help = format!(
        "How often each open tab makes a round (over the scenario's `[open_tabs] every`) [default: {}]",
        defaults::shown(defaults::OPEN_TAB_EVERY)
    ))]
    pub open_tabs_every: Option<Duration>,

    /// After each load (and its journey), a visible element must match this CSS selector, or
    /// the load fails as `not_rendered`; without it, pages that end blank fail as `blank_page`
    #[arg(long, value_name = "CSS")]
    pub expect_selector: Option<String>,

    #[arg(long, value_name = "PERCENT", help = format!(
        "Percent of loads that must succeed in every phase [default: {}]",
        crate::model::Slo::default().min_success_percent
    ))]
    pub slo: Option<f64>,

    /// Failed loads a phase may have and still pass (besides --slo)
    #[arg(long, value_name = "N")]
    pub max_failed_loads: Option<u64>,

    /// Response header carrying the app version of the backend (e.g. X-App-Version)
    #[arg(long, value_name = "NAME")]
    pub version_header: Option<String>,

    /// <meta name=NAME> tag carrying the app version of the page
    #[arg(long, value_name = "NAME", conflicts_with = "version_js")]
    pub version_meta: Option<String>,

    /// JavaScript expression yielding the app version of the page (e.g. window.APP_VERSION)
    #[arg(long, value_name = "EXPR")]
    pub version_js: Option<String>,

    /// The version the last phase must serve exclusively (needs a --version-* source)
    #[arg(long, value_name = "VERSION")]
    pub expect_version: Option<String>,

    /// Accept any server certificate (a staging site's self-signed one): certificate errors
    /// are then not `tls_error`, and the report says certificates were not checked
    #[arg(long, conflicts_with = "trust_cert")]
    pub insecure: bool,

    /// Also accept this certificate (PEM, one or more per file): a self-signed staging
    /// certificate, or the one a private CA issued the server. Matched by public key; repeatable
    #[arg(long, value_name = "FILE")]
    pub trust_cert: Vec<PathBuf>,

    /// Send the browser's (and the retention check's) requests for HOST on PORT to ADDRESS, as
    /// curl's --resolve: an environment before its DNS points at it. URLs, cookies and
    /// certificates keep HOST; repeatable, e.g. --resolve staging.example.com:443:10.0.0.5
    #[arg(long, value_name = "HOST:PORT:ADDRESS")]
    pub resolve: Vec<String>,

    /// Save a screenshot (PNG) and a HAR file of the first failed loads of each failure class
    /// and failing URL here [default: beside the first report file of --json, --junit, --html, as
    /// <report name>-artifacts/; without one, ./rollprobe-artifacts/]. A passing run writes nothing
    #[arg(long, value_name = "DIR")]
    pub artifacts: Option<PathBuf>,

    #[arg(long, value_name = "N", help = format!(
        "Failed loads whose evidence is saved, at most; 0: none [default: {}]",
        defaults::MAX_ARTIFACTS
    ))]
    pub max_artifacts: Option<usize>,

    #[arg(long, help = format!(
        "After probing, request every static asset the first loads got from the old version again ({} times each, {} in all): still served, or gone? Always on around a deploy command; a signal skips it",
        defaults::RETENTION_ATTEMPTS,
        defaults::shown(defaults::RETENTION_TIME_LIMIT)
    ))]
    pub check_retention: bool,

    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set, help = format!(
        "Whether old assets gone after the deployment fail the run; false: a warning only [default: {}]",
        defaults::RETENTION_REQUIRED
    ))]
    pub retention_required: Option<bool>,

    #[command(flatten)]
    pub outputs: Outputs,

    #[arg(long, env = "CHROMIUM", value_name = "PATH", help = format!(
        "Chromium or Chrome executable [default: {}]",
        crate::browser::DEFAULT_SHOWN
    ))]
    pub chromium: Option<PathBuf>,

    /// Which Chromium build: the headless shell (the default when installed: a fraction of
    /// full Chromium's CPU per fresh user), or full Chromium
    #[arg(long, value_enum, value_name = "KIND")]
    pub browser: Option<crate::browser::BrowserKind>,

    /// No live progress output
    #[arg(short, long)]
    pub quiet: bool,

    /// Save every observation of the run here, to judge it again as a test fixture
    #[arg(long, value_name = "FILE", hide = true)]
    pub save_observations: Option<PathBuf>,
}

fn parse_workers(text: &str) -> Result<Workers, String> {
    if text == "auto" {
        return Ok(Workers::Auto);
    }
    let n: usize = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of workers or `auto`"))?;
    if (1..=defaults::MAX_USERS).contains(&n) {
        Ok(Workers::Count(n))
    } else {
        Err(format!(
            "{n} workers: give 1 to {}, or `auto`",
            defaults::MAX_USERS
        ))
    }
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
    let options = Options {
        first_report_file: destinations.first_file(),
        ..args.options()
    };
    let plan = Plan::resolve(&options)?;
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

impl RunArgs {
    /// What the flags say, for the plan to merge with the scenario file.
    pub fn options(&self) -> Options {
        Options {
            url: self.url.clone(),
            scenario: self.scenario.clone(),
            deploy_command: self.command.clone(),
            deploy_log: self.deploy_log.clone(),
            workers: self.workers,
            workers_ceiling: self.workers_ceiling.map(usize::from),
            rate_per_s: self.rate,
            max_workers: self.max_workers.map(usize::from),
            duration: self.duration,
            until_signal: self.until_signal,
            max_loads: self.loads,
            baseline: self.baseline,
            settle: self.settle,
            idle: self.idle,
            long_request: self.long_request,
            load_timeout: self.load_timeout,
            block: self.block.clone(),
            ignore: self.ignore.clone(),
            fail_on_js_error: self.fail_on_js_error,
            expect_selector: self.expect_selector.clone(),
            open_tabs: self.open_tabs,
            open_tabs_every: self.open_tabs_every,
            slo_percent: self.slo,
            max_failed_loads: self.max_failed_loads,
            version_header: self.version_header.clone(),
            version_meta: self.version_meta.clone(),
            version_js: self.version_js.clone(),
            expect_version: self.expect_version.clone(),
            chromium: self.chromium.clone(),
            browser: self.browser,
            insecure: self.insecure,
            trust_certs: self.trust_cert.clone(),
            resolve: self.resolve.clone(),
            artifacts: self.artifacts.clone(),
            max_artifacts: self.max_artifacts,
            first_report_file: None,
            check_retention: self.check_retention,
            retention_required: self.retention_required,
            save_observations: self.save_observations.clone(),
        }
    }
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
            crate::defaults::shown(plan.time_limit)
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
