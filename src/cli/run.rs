//! `rollprobe run`: probe a URL, print the summary, write the reports, exit with the verdict.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::sync::watch;

use tokio::sync::oneshot;

use super::Outputs;
use crate::browser::{self, BrowserOptions};
use crate::deploy::{self, DeployPlan, Deployment};
use crate::error::UsageError;
use crate::filter::UrlFilter;
use crate::judge::{
    self,
    recorder::{Limits, Snapshot},
};
use crate::model::{Phase, Report, RunRecord, Settings, Slo};
use crate::probe::LoadSettings;
use crate::progress::{self, Console};
use crate::report;
use crate::runner::{self, Control, LoadModel, RunConfig, Stop};
use crate::scenario::{self, Scenario};
use crate::signals;
use crate::target::Targets;

const EXAMPLES: &str = "\
Examples:
  # Probe staging for two minutes with 4 browser users, reports for CI:
  rollprobe run https://staging.example.com/ --workers 4 --duration 2m --json report.json --junit report.xml

  # Wrap the deployment: 10 s baseline, probe while it rolls out, 15 s settle, check the final version:
  rollprobe run https://staging.example.com/ --workers 4 --version-header X-App-Version --expect-version 2.4.1 \
    -- sh -c 'kubectl apply -f k8s/ && kubectl rollout status deploy/web --timeout=5m'

  # Deploy runs in another pipeline step: probe in the background until told to stop:
  rollprobe run https://staging.example.com/ --until-signal --json report.json & PROBE=$!
  ./deploy.sh
  kill -TERM $PROBE; wait $PROBE

  # Ignore analytics, fail on uncaught JS errors too, allow 0.1 % failed loads:
  rollprobe run https://staging.example.com/ --ignore googletagmanager.com --fail-on-js-error --slo 99.9";

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

    /// Browser users loading the page at once, each looping, or `auto`: one per CPU core [default: 2]
    #[arg(short, long, value_parser = parse_workers, conflicts_with = "rate")]
    pub workers: Option<u16>,

    /// Open model instead: new users per second ("5/s", "30/m"), whatever the site's speed
    #[arg(long, value_parser = crate::clock::parse_rate)]
    pub rate: Option<f64>,

    /// Open model: most users at once; arrivals past it are counted as skipped [default: 8]
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64), requires = "rate")]
    pub max_workers: Option<u16>,

    /// How long to probe, without a deploy command (30s, 2m, 90 = seconds) [default: 30s]
    #[arg(short, long, value_parser = crate::clock::parse_duration, conflicts_with = "until_signal")]
    pub duration: Option<Duration>,

    /// Probe until SIGINT or SIGTERM, then write the reports (for a deploy in another step)
    #[arg(long)]
    pub until_signal: bool,

    /// Stop after this many loads
    #[arg(long)]
    pub loads: Option<u64>,

    /// With a deploy command: probe this long before starting it
    #[arg(long, default_value = "10s", value_parser = crate::clock::parse_duration)]
    pub baseline: Duration,

    /// With a deploy command: keep probing this long after it exits
    #[arg(long, default_value = "15s", value_parser = crate::clock::parse_duration)]
    pub settle: Duration,

    /// Write the deploy command's output here instead of the terminal
    #[arg(long, value_name = "FILE")]
    pub deploy_log: Option<PathBuf>,

    /// Network idle: no request in flight for this long after the load event ends a load [default: 500ms]
    #[arg(long, value_parser = crate::clock::parse_duration)]
    pub idle: Option<Duration>,

    /// A load that is not idle by then fails as `timeout` [default: 30s]
    #[arg(long, value_parser = crate::clock::parse_duration)]
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

    /// Percent of loads that must succeed in every phase [default: 100]
    #[arg(long, value_name = "PERCENT")]
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

    #[command(flatten)]
    pub outputs: Outputs,

    /// Chromium or Chrome executable [default: /usr/bin/chromium]
    #[arg(long, env = "CHROMIUM", value_name = "PATH")]
    pub chromium: Option<PathBuf>,

    /// No live progress output
    #[arg(short, long)]
    pub quiet: bool,

    /// Save every observation of the run here, to judge it again as a test fixture
    #[arg(long, value_name = "FILE", hide = true)]
    pub save_observations: Option<PathBuf>,
}

/// `auto` is one user per CPU core. Each fresh-context load costs Chromium 0.6-0.8 CPU-seconds
/// (see the README's benchmark); past one user per core, loads queue for the CPU and the
/// prober's own slowness starts to look like the site's.
fn parse_workers(text: &str) -> Result<u16, String> {
    let n = if text == "auto" {
        std::thread::available_parallelism().map_or(1, |n| n.get()) as u16
    } else {
        text.parse()
            .map_err(|_| format!("{text:?} is not a number of workers or `auto`"))?
    };
    if (1..=64).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} workers: give 1 to 64, or `auto`"))
    }
}

/// Resource kinds `--block` can keep the browser from fetching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Block {
    Images,
    Fonts,
    Media,
}

impl Block {
    /// URLPattern strings by file extension: cheap (no interception round trip per request),
    /// at the price of missing extension-less URLs.
    fn patterns(self) -> Vec<String> {
        let extensions: &[&str] = match self {
            Block::Images => &[
                "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp",
            ],
            Block::Fonts => &["woff", "woff2", "ttf", "otf", "eot"],
            Block::Media => &[
                "mp4", "webm", "ogg", "ogv", "mp3", "wav", "m4a", "m3u8", "mpd",
            ],
        };
        extensions
            .iter()
            .flat_map(|ext| [format!("*://*:*/*.{ext}"), format!("*://*:*/*.{ext}?*")])
            .collect()
    }
}

/// How a run is driven: a timer, a signal, or a deploy command's phases.
pub enum Driver {
    For(Option<Duration>),
    Deploy(DeployPlan),
}

pub async fn run(args: RunArgs) -> Result<i32> {
    let (cfg, settings) = configure(&args)?;
    let driver = if !args.command.is_empty() {
        deploy::check_command(&args.command)?;
        Driver::Deploy(DeployPlan {
            deployment: Deployment::Command {
                argv: args.command.clone(),
                log: args.deploy_log.clone(),
            },
            baseline: args.baseline,
            settle: args.settle,
        })
    } else if args.until_signal {
        Driver::For(None)
    } else {
        Driver::For(settings.duration_s.map(Duration::from_secs_f64))
    };
    let signal = signals::stop_on_signals()?;
    let report = probe_and_report(
        cfg,
        settings,
        driver,
        signal,
        !args.quiet,
        args.save_observations.as_deref(),
    )
    .await?;
    args.outputs.write(&report)?;
    print!("{}", report::text::render(&report));
    Ok(report.verdict.exit_code)
}

/// Checks the arguments (and the scenario file, when given) before anything starts, so a typo
/// costs no browser launch. Flags override the file; the file overrides the defaults.
pub fn configure(args: &RunArgs) -> Result<(RunConfig, Settings)> {
    let file = args.scenario.as_deref().map(scenario::load).transpose()?;
    let file = file.as_ref();
    let targets = match (&args.url, file) {
        (Some(url), _) => {
            check_url(url)?;
            Targets::single(url)
        }
        (None, Some(f)) if !f.targets.is_empty() => Targets::new(
            &f.targets
                .iter()
                .map(|t| (t.url.clone(), t.weight))
                .collect::<Vec<_>>(),
        ),
        _ => {
            return Err(UsageError(
                "give the URL to probe, or [[target]] entries in the scenario file".into(),
            )
            .into());
        }
    };
    let executable = browser::resolve_executable(args.chromium.as_deref())?;
    let mut ignore_patterns = args.ignore.clone();
    if let Some(f) = file {
        ignore_patterns.extend(f.ignore.iter().cloned());
    }
    let ignore = UrlFilter::new(&ignore_patterns).map_err(|e| UsageError(format!("{e:#}")))?;
    args.outputs.check()?;

    let spec = file.map(|f| f.load.clone()).unwrap_or_default();
    let cli_slo = (args.slo.is_some() || args.max_failed_loads.is_some()).then(|| Slo {
        min_success_percent: args.slo.unwrap_or(100.0),
        max_failed_loads: args.max_failed_loads,
    });
    let slo = cli_slo
        .or(file.and_then(|f| f.slo.default))
        .unwrap_or_default();
    if !(0.0..=100.0).contains(&slo.min_success_percent) {
        return Err(UsageError(format!(
            "--slo {} is not a percentage between 0 and 100",
            slo.min_success_percent
        ))
        .into());
    }
    // Flags apply to every phase; the file's per-phase SLOs only where no flag says otherwise.
    let slo_by_phase = match (cli_slo, file) {
        (None, Some(f)) => [Phase::Baseline, Phase::Rollout, Phase::Settle]
            .into_iter()
            .filter_map(|p| f.slo.for_phase(p).map(|slo| (p, slo)))
            .collect(),
        _ => Default::default(),
    };

    let version = file.map(|f| f.version.clone()).unwrap_or_default();
    let version_header = args.version_header.clone().or(version.header);
    let (version_meta, version_js) = if args.version_meta.is_some() || args.version_js.is_some() {
        (args.version_meta.clone(), args.version_js.clone())
    } else {
        (version.meta, version.js)
    };
    let (version_expr, version_source) =
        version_source(&version_header, &version_meta, &version_js);
    let expect_version = args.expect_version.clone().or(version.expect);
    if expect_version.is_some() && version_source.is_none() {
        return Err(UsageError(
            "--expect-version needs to know where the version is: add --version-header, --version-meta or --version-js".into(),
        )
        .into());
    }

    let model = match (args.rate, args.workers, spec.rate_per_s) {
        (Some(rate_per_s), _, _) | (None, None, Some(rate_per_s)) => LoadModel::Open {
            rate_per_s,
            max_in_flight: args
                .max_workers
                .map(usize::from)
                .or(spec.max_workers)
                .unwrap_or(8),
        },
        (None, workers, _) => LoadModel::Closed {
            workers: workers.map(usize::from).or(spec.workers).unwrap_or(2),
        },
    };
    let idle = args
        .idle
        .or(spec.idle)
        .unwrap_or(Duration::from_millis(500));
    let load_timeout = args
        .load_timeout
        .or(spec.load_timeout)
        .unwrap_or(Duration::from_secs(30));
    let duration = args
        .duration
        .or(spec.duration)
        .unwrap_or(Duration::from_secs(30));
    let fail_on_js_error =
        args.fail_on_js_error || file.and_then(|f| f.fail_on_js_error).unwrap_or(false);
    let counted = file.and_then(|f| f.count.clone());
    // A CDP call slower than this means the browser is wedged, not that the site is slow.
    let cdp_timeout = Duration::from_secs(15);
    let settings = Settings {
        target: targets.describe(),
        scenario: args.scenario.as_ref().map(|p| p.display().to_string()),
        workers: model.max_in_flight(),
        rate_per_s: match model {
            LoadModel::Open { rate_per_s, .. } => Some(rate_per_s),
            LoadModel::Closed { .. } => None,
        },
        duration_s: (args.command.is_empty() && !args.until_signal)
            .then_some(duration.as_secs_f64()),
        max_loads: args.loads,
        idle_ms: idle.as_millis() as u64,
        load_timeout_ms: load_timeout.as_millis() as u64,
        ignore: ignore_patterns,
        fail_on_js_error,
        version_source,
        expect_version,
        count: counted.clone(),
        slo,
        slo_by_phase,
    };
    let load = LoadSettings {
        targets,
        headers: file.map(request_headers).unwrap_or_default(),
        cookies: file
            .map(|f| {
                f.cookies
                    .iter()
                    .map(|(name, value)| (name.clone(), value.expose().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        idle,
        load_timeout,
        cdp_timeout,
        ignore: ignore.clone(),
        version_header,
        version_expr,
        steps: file.map(|f| f.steps.clone()).unwrap_or_default(),
        block: args.block.iter().flat_map(|b| b.patterns()).collect(),
    };
    let cfg = RunConfig {
        load,
        settings: settings.clone(),
        model,
        max_loads: args.loads,
        browser: BrowserOptions {
            executable,
            cdp_timeout,
        },
        grace: Duration::from_secs(5).min(load_timeout),
        limits: Limits::default(),
        keep_observations: args.save_observations.is_some(),
    };
    Ok((cfg, settings))
}

/// The scenario's headers, with basic auth as the Authorization header it becomes.
fn request_headers(file: &Scenario) -> Vec<(String, String)> {
    use base64::Engine;
    let mut headers: Vec<(String, String)> = file
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.expose().to_string()))
        .collect();
    if let Some(auth) = &file.basic_auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            auth.username,
            auth.password.expose()
        ));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    headers
}

/// The page-side version expression and a description of every source, for the report.
fn version_source(
    header: &Option<String>,
    meta: &Option<String>,
    js: &Option<String>,
) -> (Option<String>, Option<String>) {
    let expr = match (meta, js) {
        (Some(name), _) => Some(format!(
            "document.querySelector('meta[name=\"{}\"]')?.getAttribute('content') ?? null",
            name.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\'', "\\'")
        )),
        (None, Some(js)) => Some(js.clone()),
        (None, None) => None,
    };
    let described: Vec<String> = [
        header.as_ref().map(|h| format!("header {h}")),
        meta.as_ref().map(|m| format!("meta {m}")),
        js.as_ref().map(|j| format!("js {j}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (expr, (!described.is_empty()).then(|| described.join(", ")))
}

/// Runs the probe with live progress, driven by `driver`, and assembles the report.
pub async fn probe_and_report(
    cfg: RunConfig,
    settings: Settings,
    driver: Driver,
    signal: watch::Receiver<bool>,
    show_progress: bool,
    save_observations: Option<&std::path::Path>,
) -> Result<Report> {
    let first_phase = match driver {
        Driver::For(_) => Phase::Run,
        Driver::Deploy(_) => Phase::Baseline,
    };
    // A deployment's phases, not a duration, decide how long it runs.
    let settings = Settings {
        duration_s: settings.duration_s.filter(|_| first_phase == Phase::Run),
        ..settings
    };
    let (phase_tx, phase_rx) = watch::channel(first_phase);
    let (stop_tx, stop_rx) = watch::channel(Stop::Running);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (progress_tx, progress_rx) = watch::channel(Snapshot::default());
    let console = Console::new(show_progress);
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
    let label_urls = cfg.load.targets.urls().len() > 1;
    let run = runner::run(cfg, control, progress_tx);
    tokio::pin!(run);
    tokio::pin!(drive);
    let (outcome, deploy) = tokio::select! {
        outcome = &mut run => (outcome, None),
        deploy = &mut drive => (run.await, deploy),
    };
    let _ = display.await;
    let mut outcome = outcome?;
    outcome.facts.deploy = deploy;
    if let Some(path) = save_observations {
        let record = RunRecord {
            target: settings.target.clone(),
            label_urls,
            settings: settings.clone(),
            facts: outcome.facts.clone(),
            observations: outcome.observations,
        };
        report::write::atomically(path, |out| Ok(serde_json::to_writer_pretty(out, &record)?))?;
    }
    Ok(judge::run_report(settings, outcome.facts, outcome.recorded))
}

/// Ports Chromium will not connect to (its "restricted ports" list): probing one would report
/// the browser's refusal as the site's downtime.
const UNSAFE_PORTS: [u16; 79] = [
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
    103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
    512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
    995, 1719, 1720, 1723, 2049, 3659, 4045, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669,
    10080,
];

fn check_url(text: &str) -> Result<(), UsageError> {
    let bad = |why: String| {
        UsageError(format!(
            "bad URL {text:?}: {why}. Give a full http(s) URL, like https://staging.example.com/"
        ))
    };
    let url = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
    if let Some(port) = url.port().filter(|p| UNSAFE_PORTS.contains(p)) {
        return Err(UsageError(format!(
            "{text}: Chromium refuses port {port} (net::ERR_UNSAFE_PORT) whatever the site does; serve the site on another port"
        )));
    }
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(()),
        "http" | "https" => Err(bad("no host".into())),
        other => Err(bad(format!("scheme {other:?} is not http or https"))),
    }
}
