//! One resolved plan for a run: the flags' settings over the scenario file's, merged once
//! ([`crate::config`]), defaults applied once. Every part of the run reads its part of the
//! plan: the workers `run`, the judge `settings`, the driver `ending`.

mod artifacts;
mod block;
mod resolve;
mod trust;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;

use crate::browser::{self, BrowserOptions};
use crate::config::{Config, DialogAnswer, Rate, Workers};
use crate::defaults;
use crate::error::UsageError;
use crate::filter::UrlFilter;
use crate::judge::recorder::Limits;
use crate::model::{FailureClass, Kind, Phase, Settings, Slo};
use crate::pod_events::PodSource;
use crate::probe::{Console, ContextLife, Dialogs, EvidencePlan, LoadSettings, TabPlan};
use crate::retention::RetentionPlan;
use crate::scenario::{self, Scenario};
use crate::start::Targets;

/// What one invocation asks for besides its settings: the URL, the scenario file, the deploy
/// command, and where the first report goes (the evidence goes beside it by default).
#[derive(Clone, Debug, Default)]
pub struct Invocation {
    pub url: Option<String>,
    pub scenario: Option<PathBuf>,
    /// A deploy command to wrap in baseline, rollout and settle phases.
    pub deploy_command: Vec<String>,
    /// The settings the flags (or the demo) give; the scenario file's go under them.
    pub flags: Config,
    pub first_report_file: Option<PathBuf>,
    pub save_observations: Option<PathBuf>,
}

/// What the run needs to start its browser and users, and what their loads are judged by.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub load: LoadSettings,
    /// What the loads are judged by.
    pub settings: Settings,
    pub model: LoadModel,
    /// No new load starts once this many have started.
    pub max_loads: Option<u64>,
    pub browser: BrowserOptions,
    /// How long in-flight loads may finish after an interrupt (Ctrl-C, SIGTERM).
    pub grace: Duration,
    pub limits: Limits,
    /// Keep every observation for the outcome (`--save-observations`), not only the digest.
    pub keep_observations: bool,
    /// Users who stay across the deploy: open tabs, returning users.
    pub stay: Vec<TabPlan>,
    /// Where the pods' lives come from: `--pod-events`, read once probing is over (the deploy
    /// command has finished writing it), or `--kubectl`, watched while probing.
    pub pods: Option<PodSource>,
    /// Where failed loads' screenshots and HAR files go (`--artifacts`); None: nowhere.
    pub evidence: Option<EvidencePlan>,
}

/// How loads are started.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LoadModel {
    /// Each of `workers` users loads the page again as soon as the last load ended.
    Closed { workers: usize },
    /// Closed, with as many users as the machine can run (`--workers auto`, see `ramp`), at
    /// most `ceiling`.
    Auto { ceiling: usize },
    /// New users arrive at `rate_per_s` whatever the site does, at most `max_in_flight` at once.
    Open {
        rate_per_s: f64,
        max_in_flight: usize,
    },
}

impl LoadModel {
    pub fn max_in_flight(&self) -> usize {
        match *self {
            LoadModel::Closed { workers } => workers,
            LoadModel::Auto { ceiling } => ceiling,
            LoadModel::Open { max_in_flight, .. } => max_in_flight,
        }
    }

    /// Open model: new users per second.
    pub fn rate_per_s(&self) -> Option<f64> {
        match *self {
            LoadModel::Open { rate_per_s, .. } => Some(rate_per_s),
            LoadModel::Closed { .. } | LoadModel::Auto { .. } => None,
        }
    }
}

/// How the run ends.
#[derive(Clone, Debug)]
pub enum Ending {
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
    pub ending: Ending,
    pub baseline: Duration,
    pub settle: Duration,
    /// The old-asset retention check after probing, when it runs.
    pub retention: Option<RetentionPlan>,
    pub save_observations: Option<PathBuf>,
}

impl Plan {
    /// Checks everything (the scenario file included) before anything starts, so a typo costs
    /// no browser launch. Flags override the file; the file overrides the defaults.
    pub fn resolve(inv: &Invocation) -> Result<Plan> {
        let file = inv.scenario.as_deref().map(scenario::load).transpose()?;
        let file = file.as_ref();
        let c = inv
            .flags
            .clone()
            .over(file.map(|f| f.settings.clone()).unwrap_or_default());
        c.check()?;
        let targets = targets(inv, file)?;
        let certs = trust::resolve(&c.request)?;
        let pins = resolve::Pins::parse(c.request.resolve.as_deref().unwrap_or_default())?;
        pins.check_ports(targets.urls())?;
        let browser = browser_options(&c, certs.trust, pins.addresses())?;
        let ignore = c.judge.ignore.clone().unwrap_or_default();
        let model = load_model(&c);
        let ending = ending(inv, &c)?;
        let version = versions(&c);
        let (slo, slo_by_phase) = slos(&c, &inv.flags, file);
        let settings = Settings {
            target: targets.describe(),
            scenario: inv.scenario.as_ref().map(|p| p.display().to_string()),
            workers: model.max_in_flight(),
            workers_auto: matches!(model, LoadModel::Auto { .. }),
            context_per_worker: c.load.context() == ContextLife::PerWorker,
            rate_per_s: model.rate_per_s(),
            duration_s: matches!(ending, Ending::After(Some(_)))
                .then_some(c.load.duration().as_secs_f64()),
            max_loads: c.load.loads,
            idle_ms: c.load.idle().as_millis() as u64,
            long_request_ms: Some(c.long_request().as_millis() as u64),
            load_timeout_ms: c.load.load_timeout().as_millis() as u64,
            expect_selector: c.judge.expect_selector.clone(),
            ignore: ignore.clone(),
            fail_on_js_error: c.judge.fail_on_js_error(),
            version_source: version.described.clone(),
            expect_version: c.version.expect.clone(),
            pod_header: c.pods.header.clone(),
            count: file.and_then(|f| f.count.clone()),
            count_pre_existing: c.judge.count_pre_existing(),
            slo,
            slo_by_phase,
            slo_open_tabs: file.and_then(|f| f.slo.open_tabs),
            slo_returning_users: file.and_then(|f| f.slo.returning_users),
            certificates: certs.certificates,
            trusted_certs: certs.trusted,
            resolve: pins.described(),
            all: c.values(&inv.flags),
        };
        let load = load_settings(&c, file, targets, version.page_expr, &ignore)?;
        let retention = retention(&c, &ending, &load, &browser)?;
        Ok(Plan {
            run: RunConfig {
                load,
                settings,
                model,
                max_loads: c.load.loads,
                browser,
                grace: defaults::GRACE.min(c.load.load_timeout()),
                limits: Limits::default(),
                keep_observations: inv.save_observations.is_some(),
                stay: stay(&c, file),
                pods: pod_source(&c)?,
                evidence: artifacts::evidence(&c.evidence, inv.first_report_file.as_deref())?,
            },
            ending,
            baseline: c.deploy.baseline(),
            settle: c.deploy.settle(),
            retention,
            save_observations: inv.save_observations.clone(),
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
                &self.ending,
            )
        });
        self.retention = Some(RetentionPlan {
            after_deploy: true,
            ..plan
        });
        self
    }
}

/// What every load of the run shares.
fn load_settings(
    c: &Config,
    file: Option<&Scenario>,
    targets: Targets,
    version_expr: Option<String>,
    ignore: &[String],
) -> Result<LoadSettings> {
    let (headers, cookies) = file.map(request).unwrap_or_default();
    Ok(LoadSettings {
        targets,
        headers,
        cookies,
        idle: c.load.idle(),
        long_request: c.long_request(),
        load_timeout: c.load.load_timeout(),
        cdp_timeout: defaults::CDP_TIMEOUT,
        ignore: UrlFilter::new(ignore).map_err(|e| UsageError(format!("{e:#}")))?,
        version_header: c.version.header.clone(),
        pod_header: c.pods.header.clone(),
        version_expr,
        steps: file.map(|f| f.steps.clone()).unwrap_or_default(),
        block: c
            .load
            .block
            .iter()
            .flatten()
            .flat_map(|b| b.patterns())
            .collect(),
        expect_selector: c.judge.expect_selector.clone(),
        dialogs: match c.load.dialogs() {
            DialogAnswer::Dismiss => Dialogs::Dismiss,
            DialogAnswer::Accept => Dialogs::Accept {
                prompt_text: c.load.prompt_text.clone(),
            },
        },
        context: c.load.context(),
        console: if FailureClass::JsError.counts(
            c.judge.fail_on_js_error(),
            file.and_then(|f| f.count.as_deref()),
        ) {
            Console::FromStart
        } else {
            Console::AfterLoad
        },
    })
}

fn pod_source(c: &Config) -> Result<Option<PodSource>> {
    Ok(match (&c.pods.events, &c.pods.kubectl) {
        (Some(path), _) => Some(PodSource::File(path.clone())),
        (None, Some(spec)) => Some(PodSource::kubectl(spec)?),
        (None, None) => None,
    })
}

/// The retention check, when it runs (around a deploy command, or asked for).
fn retention(
    c: &Config,
    ending: &Ending,
    load: &LoadSettings,
    browser: &BrowserOptions,
) -> Result<Option<RetentionPlan>> {
    let wanted = c.retention.check() || matches!(ending, Ending::Deploy { .. });
    if !wanted && c.retention.required.is_some() {
        return Err(UsageError(format!(
            "{} says what a retention check's gone assets mean, and none runs: add {}, or wrap a deploy command after `--`",
            Config::name("required"),
            Config::name("check")
        ))
        .into());
    }
    Ok(wanted.then(|| retention_plan(c.retention.required(), load, browser, ending)))
}

/// The retention check sends what the browser sent, trusts what it trusted and goes where
/// `--resolve` sent it.
fn retention_plan(
    required: bool,
    load: &LoadSettings,
    browser: &BrowserOptions,
    ending: &Ending,
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
        after_signal: matches!(ending, Ending::After(None)),
        after_deploy: matches!(ending, Ending::Deploy { .. }),
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

/// The browser to launch, which certificates it accepts, and where `--resolve` sends it.
fn browser_options(
    c: &Config,
    trust: browser::Trust,
    host_map: Vec<(String, std::net::SocketAddr)>,
) -> Result<BrowserOptions> {
    browser::check_temp_dir()?;
    Ok(BrowserOptions {
        executable: browser::resolve_executable(c.browser.chromium.as_deref(), c.browser.kind)?,
        cdp_timeout: defaults::CDP_TIMEOUT,
        trust,
        host_map,
        shared_renderers: c.load.context() == ContextLife::PerWorker,
    })
}

/// The users who stay: how many and how often from the settings, the open tabs' rounds from
/// the file.
fn stay(c: &Config, file: Option<&Scenario>) -> Vec<TabPlan> {
    let steps = file.map(|f| f.open_tab_steps.clone()).unwrap_or_default();
    let plans = [
        TabPlan {
            kind: Kind::OpenTabs,
            count: c.open_tabs.count(),
            every: c.open_tabs.every(),
            steps,
        },
        TabPlan {
            kind: Kind::ReturningUsers,
            count: c.returning_users.count(),
            every: c.returning_users.every(),
            steps: Vec::new(),
        },
    ];
    plans.into_iter().filter(|p| p.count > 0).collect()
}

/// Closed (workers loop, a fixed count or a ramp) or open (users arrive on a clock).
fn load_model(c: &Config) -> LoadModel {
    match (c.load.rate, c.load.workers()) {
        (Some(Rate(rate_per_s)), _) => LoadModel::Open {
            rate_per_s,
            max_in_flight: c.load.max_workers().0,
        },
        (None, Workers::Auto) => LoadModel::Auto {
            ceiling: c.load.workers_ceiling().0,
        },
        (None, Workers::Count(workers)) => LoadModel::Closed { workers },
    }
}

/// A deploy command's phases, a signal, or the duration end the run.
fn ending(inv: &Invocation, c: &Config) -> Result<Ending> {
    Ok(if !inv.deploy_command.is_empty() {
        check_command(&inv.deploy_command)?;
        Ending::Deploy {
            argv: inv.deploy_command.clone(),
            log: c.deploy.log.clone(),
        }
    } else if c.load.until_signal() {
        Ending::After(None)
    } else {
        Ending::After(Some(c.load.duration()))
    })
}

fn targets(inv: &Invocation, file: Option<&Scenario>) -> Result<Targets> {
    match (&inv.url, file) {
        (Some(text), _) => {
            crate::start::check_url(text).map_err(|bad| UsageError(bad.explain("URL", text)))?;
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

/// The SLO of every phase, and the phases with one of their own. The settings' SLO applies to
/// every phase; the file's per-phase SLOs only where no flag says otherwise.
fn slos(
    c: &Config,
    flags: &Config,
    file: Option<&Scenario>,
) -> (Slo, std::collections::BTreeMap<Phase, Slo>) {
    let slo = Slo {
        min_success_percent: c.slo.min_success_percent().0,
        max_failed_loads: c.slo.max_failed_loads,
    };
    let flags_say = flags.slo.min_success_percent.is_some() || flags.slo.max_failed_loads.is_some();
    let by_phase = match file {
        Some(f) if !flags_say => [Phase::Baseline, Phase::Rollout, Phase::Settle]
            .into_iter()
            .filter_map(|p| f.slo.for_phase(p).map(|slo| (p, slo)))
            .collect(),
        _ => Default::default(),
    };
    (slo, by_phase)
}

/// Where the app version is read from.
struct VersionPlan {
    /// JavaScript that yields the page's own version (from meta or js).
    page_expr: Option<String>,
    /// Every source, for the report.
    described: Option<String>,
}

fn versions(c: &Config) -> VersionPlan {
    let v = &c.version;
    let page_expr = match (&v.meta, &v.js) {
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
        v.header.as_ref().map(|h| format!("header {h}")),
        v.meta.as_ref().map(|m| format!("meta {m}")),
        v.js.as_ref().map(|j| format!("js {j}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    VersionPlan {
        page_expr,
        described: (!described.is_empty()).then(|| described.join(", ")),
    }
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

/// Fails early, before any browser starts, when the command cannot be found.
pub fn check_command(command: &[String]) -> Result<(), UsageError> {
    let program = command
        .first()
        .ok_or_else(|| UsageError("the deploy command after `--` is empty".into()))?;
    let found = if program.contains('/') {
        Path::new(program).is_file()
    } else {
        std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|dir| dir.join(program).is_file())
        })
    };
    if found {
        Ok(())
    } else {
        Err(UsageError(format!("deploy command not found: {program}")))
    }
}
