//! `rollprobe run`: probe a URL, print the summary, write the reports, exit with the verdict.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use tokio::sync::watch;

use crate::browser::{self, BrowserOptions};
use crate::classify::Rules;
use crate::error::UsageError;
use crate::filter::UrlFilter;
use crate::probe::LoadSettings;
use crate::recorder::{Limits, Snapshot};
use crate::report::{self, Report, Settings};
use crate::runner::{self, RunConfig};
use crate::{progress, signals};

const EXAMPLES: &str = "\
Examples:
  # Probe staging for two minutes with 4 browser users, reports for CI:
  rollprobe run https://staging.example.com/ --workers 4 --duration 2m --json report.json --junit report.xml

  # Ignore analytics, fail on uncaught JS errors too:
  rollprobe run https://staging.example.com/ --ignore googletagmanager.com --ignore '*/beacon*' --fail-on-js-error

  # Attribute failures to app versions by a response header:
  rollprobe run https://staging.example.com/ --version-header X-App-Version";

#[derive(Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct RunArgs {
    /// The page to load, e.g. https://staging.example.com/
    pub url: String,

    /// Browser users loading the page at once
    #[arg(short, long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub workers: u16,

    /// How long to keep starting loads (30s, 2m, 90 = seconds)
    #[arg(short, long, default_value = "30s", value_parser = super::parse_duration)]
    pub duration: Duration,

    /// Stop after this many loads (whichever of --duration and --loads comes first)
    #[arg(long)]
    pub loads: Option<u64>,

    /// Network idle: no request in flight for this long after the load event ends a load
    #[arg(long, default_value = "500ms", value_parser = super::parse_duration)]
    pub idle: Duration,

    /// A load that is not idle by then fails as `timeout`
    #[arg(long, default_value = "30s", value_parser = super::parse_duration)]
    pub load_timeout: Duration,

    /// Do not judge (or wait for) URLs containing this text, or matching this glob; repeatable
    #[arg(long, value_name = "PATTERN")]
    pub ignore: Vec<String>,

    /// Count uncaught JS exceptions and console errors as failed loads (always recorded)
    #[arg(long)]
    pub fail_on_js_error: bool,

    /// Response header carrying the app version of the backend (e.g. X-App-Version)
    #[arg(long, value_name = "NAME")]
    pub version_header: Option<String>,

    /// Write the JSON report here
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write a JUnit XML report here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,

    /// Chromium or Chrome executable [default: /usr/bin/chromium]
    #[arg(long, env = "CHROMIUM", value_name = "PATH")]
    pub chromium: Option<PathBuf>,

    /// No live progress output
    #[arg(short, long)]
    pub quiet: bool,
}

pub async fn run(args: RunArgs) -> Result<i32> {
    let (cfg, settings) = configure(&args)?;
    let stop = signals::stop_on_signals()?;
    let report = probe_and_report(&args.url, cfg, settings, stop, !args.quiet).await?;
    write_reports(&report, args.json.as_deref(), args.junit.as_deref())?;
    print!("{}", report::text::render(&report));
    Ok(report.verdict.exit_code)
}

/// Checks the arguments before anything starts, so a typo costs no browser launch.
pub fn configure(args: &RunArgs) -> Result<(RunConfig, Settings)> {
    check_url(&args.url)?;
    let executable = browser::resolve_executable(args.chromium.as_deref())?;
    let ignore = UrlFilter::new(&args.ignore).map_err(|e| UsageError(format!("{e:#}")))?;
    for path in [&args.json, &args.junit].into_iter().flatten() {
        check_writable(path)?;
    }
    // A CDP call slower than this means the browser is wedged, not that the site is slow.
    let cdp_timeout = Duration::from_secs(15);
    let load = LoadSettings {
        url: args.url.clone(),
        idle: args.idle,
        load_timeout: args.load_timeout,
        cdp_timeout,
        ignore: ignore.clone(),
        version_header: args.version_header.clone(),
    };
    let cfg = RunConfig {
        load,
        rules: Rules {
            ignore,
            fail_on_js_error: args.fail_on_js_error,
        },
        workers: args.workers as usize,
        duration: Some(args.duration),
        max_loads: args.loads,
        browser: BrowserOptions {
            executable,
            cdp_timeout,
        },
        grace: Duration::from_secs(5).min(args.load_timeout),
        limits: Limits::default(),
    };
    let settings = Settings {
        workers: cfg.workers,
        duration_s: Some(args.duration.as_secs_f64()),
        max_loads: args.loads,
        idle_ms: args.idle.as_millis() as u64,
        load_timeout_ms: args.load_timeout.as_millis() as u64,
        ignore: args.ignore.clone(),
        fail_on_js_error: args.fail_on_js_error,
        version_header: args.version_header.clone(),
    };
    Ok((cfg, settings))
}

/// Runs the probe with live progress and assembles the report.
pub async fn probe_and_report(
    target: &str,
    cfg: RunConfig,
    settings: Settings,
    stop: watch::Receiver<bool>,
    show_progress: bool,
) -> Result<Report> {
    let (progress_tx, progress_rx) = watch::channel(Snapshot::default());
    let display = tokio::spawn(progress::show(progress_rx, show_progress));
    let outcome = runner::run(cfg, stop, progress_tx).await;
    let _ = display.await;
    Ok(Report::new(target, settings, outcome?))
}

pub fn write_reports(
    report: &Report,
    json: Option<&std::path::Path>,
    junit: Option<&std::path::Path>,
) -> Result<()> {
    if let Some(path) = json {
        report::json::write(report, path)?;
    }
    if let Some(path) = junit {
        report::junit::write(report, path)?;
    }
    Ok(())
}

fn check_url(text: &str) -> Result<(), UsageError> {
    let bad = |why: String| {
        UsageError(format!(
            "bad URL {text:?}: {why}. Give a full http(s) URL, like https://staging.example.com/"
        ))
    };
    let url = url::Url::parse(text).map_err(|e| bad(e.to_string()))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(()),
        "http" | "https" => Err(bad("no host".into())),
        other => Err(bad(format!("scheme {other:?} is not http or https"))),
    }
}

fn check_writable(path: &std::path::Path) -> Result<(), UsageError> {
    if path.is_dir() {
        return Err(UsageError(format!(
            "report path {} is a directory; give a file name",
            path.display()
        )));
    }
    Ok(())
}
