//! One resolved plan for a run: the command line's options and the scenario file merged once,
//! defaults (see [`crate::defaults`]) applied once. Every part of the run reads its part of the
//! plan: the workers `run`, the judge `settings`, the driver `stop`.

mod artifacts;
mod block;
mod resolve;
mod trust;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

pub use block::Block;

use crate::browser::{self, BrowserOptions};
use crate::defaults;
use crate::error::UsageError;
use crate::filter::UrlFilter;
use crate::judge::recorder::Limits;
use crate::model::{Phase, Settings, Slo};
use crate::probe::{LoadSettings, TabPlan};
use crate::retention::RetentionPlan;
use crate::runner::{LoadModel, RunConfig};
use crate::scenario::{self, Scenario};
use crate::target::Targets;

/// What the command line (or the demo) asks for. `None` and empty mean "not said": the
/// scenario file, then the default, decides.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub url: Option<String>,
    pub scenario: Option<PathBuf>,
    /// A deploy command to wrap in baseline, rollout and settle phases.
    pub deploy_command: Vec<String>,
    pub deploy_log: Option<PathBuf>,
    pub workers: Option<Workers>,
    /// `--workers auto`: the most users it ramps to.
    pub workers_ceiling: Option<usize>,
    pub rate_per_s: Option<f64>,
    pub max_workers: Option<usize>,
    pub duration: Option<Duration>,
    pub until_signal: bool,
    pub max_loads: Option<u64>,
    pub baseline: Option<Duration>,
    pub settle: Option<Duration>,
    pub idle: Option<Duration>,
    pub long_request: Option<Duration>,
    pub load_timeout: Option<Duration>,
    pub block: Vec<Block>,
    pub ignore: Vec<String>,
    pub fail_on_js_error: bool,
    pub expect_selector: Option<String>,
    /// Extra users who keep the app open across the deploy (`--open-tabs`).
    pub open_tabs: Option<usize>,
    /// How often they make a round (`--open-tabs-every`), over the scenario's `every`.
    pub open_tabs_every: Option<Duration>,
    pub slo_percent: Option<f64>,
    pub max_failed_loads: Option<u64>,
    pub version_header: Option<String>,
    pub version_meta: Option<String>,
    pub version_js: Option<String>,
    pub expect_version: Option<String>,
    pub chromium: Option<PathBuf>,
    /// `--browser`: the headless shell or full Chromium; None: the shell when installed.
    pub browser: Option<browser::BrowserKind>,
    /// Accept any server certificate (`--insecure`); false leaves it to the scenario file.
    pub insecure: bool,
    /// Also accept these certificates (`--trust-cert`, PEM files).
    pub trust_certs: Vec<PathBuf>,
    /// `--resolve HOST:PORT:ADDRESS` entries, as given.
    pub resolve: Vec<String>,
    /// `--artifacts DIR`, `--max-artifacts N`, and the first report written to a regular file
    /// (the evidence goes beside it by default).
    pub artifacts: Option<PathBuf>,
    pub max_artifacts: Option<usize>,
    pub first_report_file: Option<PathBuf>,
    /// Check old-asset retention after probing (`--check-retention`); always on around a
    /// deploy command.
    pub check_retention: bool,
    /// Whether gone assets fail the run (`--retention-required`); None: the default.
    pub retention_required: Option<bool>,
    pub save_observations: Option<PathBuf>,
}

/// How the run ends.
#[derive(Clone, Debug)]
pub enum Stop {
    /// After this long, or on a signal only (`--until-signal`).
    After(Option<Duration>),
    /// Around a deploy command: baseline, the command, settle.
    Deploy {
        argv: Vec<String>,
        log: Option<PathBuf>,
    },
}

pub struct Plan {
    /// What the workers and the browser need, and what the loads are judged by (`settings`,
    /// which the report shows).
    pub run: RunConfig,
    pub stop: Stop,
    pub baseline: Duration,
    pub settle: Duration,
    /// The old-asset retention check after probing, when it runs.
    pub retention: Option<RetentionPlan>,
    pub save_observations: Option<PathBuf>,
}

impl Plan {
    /// Checks everything (the scenario file included) before anything starts, so a typo costs
    /// no browser launch. Options override the file; the file overrides the defaults.
    pub fn resolve(o: &Options) -> Result<Plan> {
        let file = o.scenario.as_deref().map(scenario::load).transpose()?;
        let file = file.as_ref();
        let max_loads = max_loads(o)?;
        let targets = targets(o, file)?;
        let certs = trust::resolve(o, file)?;
        let pins = resolve::Pins::parse(&o.resolve)?;
        let browser = browser_options(o, certs.trust, pins.addresses())?;
        let (ignore, ignore_filter) = ignores(o, file)?;
        let spec = file.map(|f| f.load.clone()).unwrap_or_default();
        let model = load_model(o, &spec)?;
        let time = timing(o, &spec)?;
        let expect_selector = expect_selector(o, file)?;
        let stop = stop_rule(o, time.duration)?;
        let version = versions(o, file)?;
        let (slo, slo_by_phase) = slos(o, file)?;
        let settings = Settings {
            target: targets.describe(),
            scenario: o.scenario.as_ref().map(|p| p.display().to_string()),
            workers: model.max_in_flight(),
            workers_auto: matches!(model, LoadModel::Auto { .. }),
            rate_per_s: model.rate_per_s(),
            duration_s: matches!(stop, Stop::After(Some(_))).then_some(time.duration.as_secs_f64()),
            max_loads,
            idle_ms: time.idle.as_millis() as u64,
            long_request_ms: Some(time.long_request.as_millis() as u64),
            load_timeout_ms: time.load_timeout.as_millis() as u64,
            expect_selector: expect_selector.clone(),
            ignore,
            fail_on_js_error: o.fail_on_js_error
                || file.and_then(|f| f.fail_on_js_error).unwrap_or(false),
            version_source: version.described,
            expect_version: version.expect,
            count: file.and_then(|f| f.count.clone()),
            slo,
            slo_by_phase,
            slo_open_tabs: file.and_then(|f| f.slo.open_tabs),
            certificates: certs.certificates,
            trusted_certs: certs.trusted,
            resolve: pins.described(),
        };
        let (headers, cookies) = file.map(request).unwrap_or_default();
        let load = LoadSettings {
            targets,
            headers,
            cookies,
            idle: time.idle,
            long_request: time.long_request,
            load_timeout: time.load_timeout,
            cdp_timeout: defaults::CDP_TIMEOUT,
            ignore: ignore_filter,
            version_header: version.header,
            version_expr: version.page_expr,
            steps: file.map(|f| f.steps.clone()).unwrap_or_default(),
            block: o.block.iter().flat_map(|b| b.patterns()).collect(),
            expect_selector,
            evidence: artifacts::evidence(o, &settings)?,
        };
        let retention = retention(o, &stop, &load, &browser)?;
        Ok(Plan {
            run: RunConfig {
                load,
                settings,
                model,
                max_loads,
                browser,
                grace: defaults::GRACE.min(time.load_timeout),
                limits: Limits::default(),
                keep_observations: o.save_observations.is_some(),
                open_tabs: open_tabs(o, file)?,
            },
            stop,
            baseline: o.baseline.unwrap_or(defaults::BASELINE),
            settle: o.settle.unwrap_or(defaults::SETTLE),
            retention,
            save_observations: o.save_observations.clone(),
        })
    }
}

impl Plan {
    /// The caller drives the deployment itself (the demo's simulated rollout): its phases, not
    /// a duration, end the run, so the report shows no duration; old-asset retention is
    /// checked once it is over.
    pub fn around_own_deploy(mut self) -> Plan {
        self.run.settings.duration_s = None;
        let plan = self.retention.take().unwrap_or_else(|| {
            retention_plan(
                defaults::RETENTION_REQUIRED,
                &self.run.load,
                &self.run.browser,
                &self.stop,
            )
        });
        self.retention = Some(RetentionPlan {
            after_deploy: true,
            ..plan
        });
        self
    }
}

/// The retention check, when it runs (around a deploy command, or asked for).
fn retention(
    o: &Options,
    stop: &Stop,
    load: &LoadSettings,
    browser: &BrowserOptions,
) -> Result<Option<RetentionPlan>> {
    let wanted = o.check_retention || matches!(stop, Stop::Deploy { .. });
    if !wanted && o.retention_required.is_some() {
        return Err(UsageError(
            "--retention-required says what a retention check's gone assets mean, and none runs: add --check-retention, or wrap a deploy command after `--`".into(),
        )
        .into());
    }
    let required = o.retention_required.unwrap_or(defaults::RETENTION_REQUIRED);
    Ok(wanted.then(|| retention_plan(required, load, browser, stop)))
}

/// The retention check sends what the browser sent, trusts what it trusted and goes where
/// `--resolve` sent it.
fn retention_plan(
    required: bool,
    load: &LoadSettings,
    browser: &BrowserOptions,
    stop: &Stop,
) -> RetentionPlan {
    RetentionPlan {
        required,
        attempts: defaults::RETENTION_ATTEMPTS,
        time_limit: defaults::RETENTION_TIME_LIMIT,
        request_timeout: defaults::RETENTION_REQUEST_TIMEOUT,
        concurrency: defaults::RETENTION_CONCURRENCY,
        headers: load.headers.clone(),
        cookies: load.cookies.clone(),
        cookie_hosts: hosts(&load.targets),
        trust: browser.trust.clone(),
        host_map: browser.host_map.clone(),
        version_header: load.version_header.clone(),
        after_signal: matches!(stop, Stop::After(None)),
        after_deploy: matches!(stop, Stop::Deploy { .. }),
    }
}

/// The start URLs' hosts: the probe's cookies are theirs.
fn hosts(targets: &Targets) -> Vec<String> {
    let mut hosts: Vec<String> = targets
        .urls()
        .iter()
        .filter_map(|u| url::Url::parse(u).ok()?.host_str().map(str::to_string))
        .collect();
    hosts.dedup();
    hosts
}

fn max_loads(o: &Options) -> Result<Option<u64>> {
    if o.max_loads == Some(0) {
        return Err(UsageError(
            "--loads 0 would measure nothing: give at least 1, or leave it out to probe for --duration".into(),
        )
        .into());
    }
    Ok(o.max_loads)
}

/// The browser to launch, which certificates it accepts, and where `--resolve` sends it.
fn browser_options(
    o: &Options,
    trust: browser::Trust,
    host_map: Vec<(String, std::net::SocketAddr)>,
) -> Result<BrowserOptions> {
    Ok(BrowserOptions {
        executable: browser::resolve_executable(o.chromium.as_deref(), o.browser)?,
        cdp_timeout: defaults::CDP_TIMEOUT,
        trust,
        host_map,
    })
}

/// URLs not judged or waited for: the flags' patterns, then the file's.
fn ignores(o: &Options, file: Option<&Scenario>) -> Result<(Vec<String>, UrlFilter)> {
    let mut ignore = o.ignore.clone();
    ignore.extend(file.iter().flat_map(|f| f.ignore.iter().cloned()));
    let filter = UrlFilter::new(&ignore).map_err(|e| UsageError(format!("{e:#}")))?;
    Ok((ignore, filter))
}

/// The open tabs: how many from the flag, then the file; their rounds from the file.
fn open_tabs(o: &Options, file: Option<&Scenario>) -> Result<Option<TabPlan>> {
    let spec = file.and_then(|f| f.open_tabs.clone());
    let count = o
        .open_tabs
        .or(spec.as_ref().and_then(|s| s.count))
        .unwrap_or(0);
    if count > defaults::MAX_USERS {
        return Err(UsageError(format!(
            "--open-tabs {count}: give at most {} (each tab is a browser user)",
            defaults::MAX_USERS
        ))
        .into());
    }
    let every = positive(
        o.open_tabs_every.or(spec.as_ref().and_then(|s| s.every)),
        "--open-tabs-every",
        defaults::OPEN_TAB_EVERY,
    )?;
    let steps = spec.map(|s| s.steps).unwrap_or_default();
    // A tab that navigates is a fresh load of the new version, not a user still on the old one.
    if steps
        .iter()
        .any(|s| matches!(s, scenario::Step::Goto { .. }))
    {
        return Err(UsageError(
            "[[open_tabs.step]] cannot goto: an open tab stays on the page it opened (click to a route instead)".into(),
        )
        .into());
    }
    Ok((count > 0).then_some(TabPlan {
        count,
        every,
        steps,
    }))
}

/// The render check's selector: the flag, then the file.
fn expect_selector(o: &Options, file: Option<&Scenario>) -> Result<Option<String>> {
    if o.expect_selector
        .as_deref()
        .is_some_and(|s| s.trim().is_empty())
    {
        return Err(UsageError(
            "--expect-selector is empty: give a CSS selector such as '#app *'".into(),
        )
        .into());
    }
    Ok(o.expect_selector
        .clone()
        .or_else(|| file.and_then(|f| f.expect_selector.clone())))
}

/// How long things take: flags, then the file, then the defaults.
struct Timing {
    idle: Duration,
    load_timeout: Duration,
    long_request: Duration,
    duration: Duration,
}

fn timing(o: &Options, spec: &scenario::LoadSpec) -> Result<Timing> {
    let load_timeout = positive(
        o.load_timeout.or(spec.load_timeout),
        "--load-timeout",
        defaults::LOAD_TIMEOUT,
    )?;
    let long_request = o.long_request.or(spec.long_request);
    let timing = Timing {
        idle: o.idle.or(spec.idle).unwrap_or(defaults::IDLE),
        load_timeout,
        // Unless given, a short load timeout shortens it: a long poll must still end the load.
        long_request: positive(
            long_request,
            "--long-request",
            defaults::LONG_REQUEST.min(load_timeout / 2),
        )?,
        duration: positive(
            o.duration.or(spec.duration),
            "--duration",
            defaults::DURATION,
        )?,
    };
    // Every load would wait out its idle window (or every long poll) past its own deadline:
    // all of them timeouts.
    if timing.long_request >= timing.load_timeout {
        return Err(UsageError(format!(
            "a long-request threshold of {} cannot end a long-polling load within its {} timeout: give a shorter --long-request or a longer --load-timeout",
            defaults::shown(timing.long_request),
            defaults::shown(timing.load_timeout)
        ))
        .into());
    }
    if timing.idle >= timing.load_timeout {
        return Err(UsageError(format!(
            "an idle window of {} cannot end a load within its {} timeout: give a shorter --idle or a longer --load-timeout",
            defaults::shown(timing.idle),
            defaults::shown(timing.load_timeout)
        ))
        .into());
    }
    Ok(timing)
}

/// How many users loop: a count, or as many as the machine can run (`auto`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workers {
    Count(usize),
    Auto,
}

/// Closed (workers loop, a fixed count or a ramp) or open (users arrive on a clock): the flags
/// decide, then the file.
fn load_model(o: &Options, spec: &scenario::LoadSpec) -> Result<LoadModel> {
    let model = match (o.rate_per_s, o.workers, spec.rate_per_s) {
        (Some(rate_per_s), _, _) | (None, None, Some(rate_per_s)) => LoadModel::Open {
            rate_per_s,
            max_in_flight: o
                .max_workers
                .or(spec.max_workers)
                .unwrap_or(defaults::MAX_WORKERS),
        },
        (None, Some(Workers::Auto), _) => LoadModel::Auto {
            ceiling: o.workers_ceiling.unwrap_or(defaults::AUTO_CEILING),
        },
        (None, Some(Workers::Count(workers)), _) => LoadModel::Closed { workers },
        (None, None, _) => LoadModel::Closed {
            workers: spec.workers.unwrap_or(defaults::WORKERS),
        },
    };
    if o.workers_ceiling.is_some() && !matches!(model, LoadModel::Auto { .. }) {
        return Err(UsageError(
            "--workers-ceiling only applies to --workers auto: drop it, or give --workers auto"
                .into(),
        )
        .into());
    }
    Ok(model)
}

/// A deploy command's phases, a signal, or the duration end the run.
fn stop_rule(o: &Options, duration: Duration) -> Result<Stop> {
    Ok(if !o.deploy_command.is_empty() {
        crate::deploy::check_command(&o.deploy_command)?;
        Stop::Deploy {
            argv: o.deploy_command.clone(),
            log: o.deploy_log.clone(),
        }
    } else if o.until_signal {
        Stop::After(None)
    } else {
        Stop::After(Some(duration))
    })
}

fn targets(o: &Options, file: Option<&Scenario>) -> Result<Targets> {
    match (&o.url, file) {
        (Some(text), _) => {
            crate::target::check_url(text).map_err(|bad| UsageError(bad.explain("URL", text)))?;
            Ok(Targets::single(text))
        }
        (None, Some(f)) if !f.targets.is_empty() => Ok(Targets::new(
            &f.targets
                .iter()
                .map(|t| (t.url.clone(), t.weight))
                .collect::<Vec<_>>(),
        )),
        _ => Err(UsageError(
            "give the URL to probe, or [[target]] entries in the scenario file".into(),
        )
        .into()),
    }
}

/// A duration that must be above zero: a zero load timeout would fail every load as the site's.
fn positive(given: Option<Duration>, flag: &str, default: Duration) -> Result<Duration> {
    match given {
        Some(d) if d.is_zero() => Err(UsageError(format!(
            "{flag} 0s: give a duration above zero, like {}",
            defaults::shown(default)
        ))
        .into()),
        given => Ok(given.unwrap_or(default)),
    }
}

/// The SLO of every phase, and the phases with one of their own. Flags apply to every phase;
/// the file's per-phase SLOs only where no flag says otherwise.
fn slos(
    o: &Options,
    file: Option<&Scenario>,
) -> Result<(Slo, std::collections::BTreeMap<Phase, Slo>)> {
    let cli_slo = (o.slo_percent.is_some() || o.max_failed_loads.is_some()).then(|| Slo {
        min_success_percent: o.slo_percent.unwrap_or(Slo::default().min_success_percent),
        max_failed_loads: o.max_failed_loads,
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
    let by_phase = match (cli_slo, file) {
        (None, Some(f)) => [Phase::Baseline, Phase::Rollout, Phase::Settle]
            .into_iter()
            .filter_map(|p| f.slo.for_phase(p).map(|slo| (p, slo)))
            .collect(),
        _ => Default::default(),
    };
    Ok((slo, by_phase))
}

/// Where the app version is read from.
struct VersionPlan {
    header: Option<String>,
    /// JavaScript that yields the page's own version (from meta or js).
    page_expr: Option<String>,
    /// Every source, for the report.
    described: Option<String>,
    expect: Option<String>,
}

fn versions(o: &Options, file: Option<&Scenario>) -> Result<VersionPlan> {
    let version = file.map(|f| f.version.clone()).unwrap_or_default();
    let header = o.version_header.clone().or(version.header);
    let (meta, js) = if o.version_meta.is_some() || o.version_js.is_some() {
        (o.version_meta.clone(), o.version_js.clone())
    } else {
        (version.meta, version.js)
    };
    let page_expr = match (&meta, &js) {
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
    let expect = o.expect_version.clone().or(version.expect);
    if expect.is_some() && described.is_empty() {
        return Err(UsageError(
            "--expect-version needs to know where the version is: add --version-header, --version-meta or --version-js".into(),
        )
        .into());
    }
    Ok(VersionPlan {
        header,
        page_expr,
        described: (!described.is_empty()).then(|| described.join(", ")),
        expect,
    })
}

/// The scenario's request headers (basic auth as the Authorization header it becomes) and
/// cookies, values resolved.
type Pairs = Vec<(String, String)>;

fn request(file: &Scenario) -> (Pairs, Pairs) {
    use base64::Engine;
    let exposed = |pairs: &[(String, crate::scenario::Secret)]| -> Pairs {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), value.expose().to_string()))
            .collect()
    };
    let mut headers = exposed(&file.headers);
    if let Some(auth) = &file.basic_auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            auth.username,
            auth.password.expose()
        ));
        headers.push(("Authorization".into(), format!("Basic {token}")));
    }
    (headers, exposed(&file.cookies))
}
