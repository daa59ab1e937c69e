//! Every setting of a run, declared once (see [`setting`]): the same type is `run`'s flags and
//! the scenario file's tables, so a setting has one flag, one key, one default and one line in
//! the reports. Flags are merged over the file once ([`Config::over`]); the plan reads the
//! merged settings and checks what they must meet together.
//!
//! The scenario file's structured parts (targets, steps, secrets, per-phase SLOs) have no flag:
//! they are read here as written ([`raw`]) and checked by `scenario`.

pub mod raw;
mod rules;
mod setting;
pub mod value;

use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use crate::defaults;
use crate::error::UsageError;
use raw::{RawBasicAuth, RawSlo, RawStep, RawTarget, SecretMap};
use setting::settings;
pub use value::{Block, DialogAnswer, Percent, Rate, Users, Workers};

use crate::browser::BrowserKind;
use crate::model::{SettingSource, SettingValue};
use crate::probe::ContextLife;

/// One setting as the reports and `scenario check` show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its key in the scenario file: `load.idle` is `idle` in `[load]`.
    pub key: &'static str,
    /// Its flag's clap id (`--long-request` is `long_request`).
    pub id: &'static str,
    pub given: Option<String>,
    pub default: Option<String>,
}

settings! {
    /// How hard to probe and for how long (`[load]`).
    #[command(next_help_heading = "Load")]
    pub struct Load in "load" {
        /// Browser users loading the page at once, each looping, or `auto`: as many as this
        /// machine can run, ramped up while loads per second rise
        #[arg(short, long, value_name = "N|auto")]
        workers: Workers = Workers::Count(defaults::WORKERS),
        /// With `workers = auto`: the most users it ramps to, to stay polite to the site
        #[arg(long, value_name = "N")]
        workers_ceiling: Users = Users(defaults::AUTO_CEILING),
        /// Open model instead: new users per second ("5/s", "30/m"), whatever the site's speed
        #[arg(long)]
        rate: Rate,
        /// Open model: most users at once; arrivals past it are counted as skipped
        #[arg(long, value_name = "N")]
        max_workers: Users = Users(defaults::MAX_WORKERS),
        /// How long to probe, without a deploy command (30s, 2m, 90 = seconds)
        #[arg(short, long)]
        duration: Duration = defaults::DURATION,
        /// Probe until SIGINT or SIGTERM, then write the reports (for a deploy in another step)
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        until_signal: bool = false,
        /// Stop after this many loads
        #[arg(long, value_name = "N")]
        loads: u64,
        /// Network idle: no request in flight for this long after the load event ends a load
        #[arg(long, value_name = "DURATION")]
        idle: Duration = defaults::IDLE,
        /// A fetch or XHR still open after this long is a long poll: the load stops waiting for
        /// it (as for an event stream once open, and any WebSocket); unless given, at most half
        /// the load timeout
        #[arg(long, value_name = "DURATION")]
        long_request: Duration = defaults::LONG_REQUEST,
        /// A load that is not idle by then fails as `timeout`
        #[arg(long, value_name = "DURATION")]
        load_timeout: Duration = defaults::LOAD_TIMEOUT,
        /// Do not fetch these resource kinds, to spend the budget on what breaks deployments
        /// (matched by file extension: images, fonts, media)
        #[arg(long, value_delimiter = ',', value_name = "KINDS")]
        block: Vec<Block>,
        /// `per-load`: each load a first visit (a new browser context: its own renderer and
        /// connections). `per-worker`: each worker keeps one context, cleared of tabs, cookies,
        /// storage, service workers and cache between its loads: a sixth to a half less CPU per
        /// load, but its renderer and open connections carry over, so a balancer that picks a
        /// pod per connection keeps sending a worker's loads to the pods that got its last one.
        /// Not with `rate` (the open model's users each arrive once)
        #[arg(long, value_name = "per-load|per-worker")]
        context: ContextLife = ContextLife::PerLoad,
        /// How a user answers the page's alert, confirm and prompt dialogs: `dismiss` (a user
        /// who wants to get on) or `accept`; a page asking whether it may be left is left
        #[arg(long, value_name = "dismiss|accept")]
        dialogs: DialogAnswer = DialogAnswer::Dismiss,
        /// With `dialogs = accept`: what the user types into a prompt() (without it, the
        /// prompt's own default)
        #[arg(long, value_name = "TEXT")]
        prompt_text: String,
    }
}

settings! {
    /// The phases around a deploy command (`[deploy]`).
    #[command(next_help_heading = "Deploy")]
    pub struct Deploy in "deploy" {
        /// With a deploy command: probe this long before starting it
        #[arg(long, value_name = "DURATION")]
        baseline: Duration = defaults::BASELINE,
        /// With a deploy command: keep probing this long after it exits
        #[arg(long, value_name = "DURATION")]
        settle: Duration = defaults::SETTLE,
        /// Write the deploy command's output here instead of the terminal
        #[arg(long = "deploy-log", value_name = "FILE")]
        log: PathBuf,
    }
}

settings! {
    /// What counts against the site (`[judge]`).
    #[command(next_help_heading = "Judge")]
    pub struct Judge in "judge" {
        /// Do not judge (or wait for) URLs containing this text, or matching this glob;
        /// repeatable (given here, it replaces the file's list)
        #[arg(long, value_name = "PATTERN")]
        ignore: Vec<String>,
        /// Count uncaught JS exceptions and console errors as failed loads (always recorded)
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        fail_on_js_error: bool = false,
        /// After each load (and its journey), a visible element must match this CSS selector, or
        /// the load fails as `not_rendered`; without it, pages that end blank fail as `blank_page`
        #[arg(long, value_name = "CSS")]
        expect_selector: String,
        /// Around a deploy command, count failures the baseline already had (at the same rate)
        /// against the later phases too: the absolute verdict. Without it, only what the
        /// deployment changed fails them
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        count_pre_existing: bool = false,
    }
    file only {
        /// Classes that count against the SLO; none: every class of the site's.
        count: Option<Spanned<Vec<Spanned<String>>>>,
    }
}

settings! {
    /// Which version answered (`[version]`).
    #[command(next_help_heading = "Versions")]
    pub struct Version in "version" {
        /// Response header carrying the app version of the backend (e.g. X-App-Version)
        #[arg(long = "version-header", value_name = "NAME")]
        header: String,
        /// <meta name=NAME> tag carrying the app version of the page
        #[arg(long = "version-meta", value_name = "NAME")]
        meta: String,
        /// JavaScript expression yielding the app version of the page (e.g. window.APP_VERSION)
        #[arg(long = "version-js", value_name = "EXPR")]
        js: String,
        /// The version the last phase must serve exclusively (needs a version source)
        #[arg(long = "expect-version", value_name = "VERSION")]
        expect: String,
    }
}

settings! {
    /// Which pod answered, and when pods came and went (`[pods]`).
    #[command(next_help_heading = "Pods")]
    pub struct Pods in "pods" {
        /// Response header naming the pod that answered [default: the first of X-Pod,
        /// X-Backend-Server, X-Upstream, X-Served-By an answer has]
        #[arg(long = "pod-header", value_name = "NAME")]
        header as "pod_header": String,
        /// When pods were created, became ready, were told to stop and were gone, read once
        /// probing is over: the simulator's --events file, or what `kubectl get events --watch
        /// -o json` or `kubectl get pods --watch -o json` wrote
        #[arg(long = "pod-events", value_name = "FILE")]
        events as "pod_events": PathBuf,
        /// Or watch the pods around the run with kubectl (on the PATH): NAMESPACE:SELECTOR,
        /// e.g. shop:app=web, for `kubectl get pods -n shop -l app=web --watch -o json`
        #[arg(long = "kubectl", value_name = "NAMESPACE:SELECTOR")]
        kubectl as "pod_kubectl": String,
    }
}

settings! {
    /// What every phase must meet (`[slo]`; `[slo.rollout]` and the others per phase).
    #[command(next_help_heading = "SLO")]
    pub struct Slo in "slo" {
        /// Percent of loads that must succeed in every phase
        #[arg(long = "slo", value_name = "PERCENT")]
        min_success_percent: Percent = Percent(crate::model::Slo::default().min_success_percent),
        /// Failed loads a phase may have and still pass (besides the percentage)
        #[arg(long, value_name = "N")]
        max_failed_loads: u64,
    }
    file only {
        baseline: Option<RawSlo>,
        rollout: Option<RawSlo>,
        settle: Option<RawSlo>,
        open_tabs: Option<RawSlo>,
        returning_users: Option<RawSlo>,
    }
}

settings! {
    /// How the browser reaches the site (`[request]`).
    #[command(next_help_heading = "Requests")]
    pub struct Request in "request" {
        /// Accept any server certificate (a staging site's self-signed one): certificate errors
        /// are then not `tls_error`, and the report says certificates were not checked
        #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        insecure: bool = false,
        /// Also accept this certificate (PEM, one or more per file): a self-signed staging
        /// certificate, or the one a private CA issued the server. Matched by public key; repeatable
        #[arg(long, value_name = "FILE")]
        trust_cert: Vec<PathBuf>,
        /// Send the browser's (and the retention check's) requests for HOST on PORT to ADDRESS, as
        /// curl's --resolve: an environment before its DNS points at it. URLs, cookies and
        /// certificates keep HOST; repeatable, e.g. --resolve staging.example.com:443:10.0.0.5
        #[arg(long, value_name = "HOST:PORT:ADDRESS")]
        resolve: Vec<String>,
    }
    file only {
        headers: SecretMap,
        cookies: SecretMap,
        basic_auth: Option<Spanned<RawBasicAuth>>,
    }
}

settings! {
    /// Users who keep the app open across the deploy (`[open_tabs]`).
    #[command(next_help_heading = "Open tabs")]
    pub struct OpenTabs in "open_tabs" {
        /// Extra users who open the app during the baseline and keep it open across the deploy,
        /// fetching its scripts and stylesheets again (or taking the scenario's
        /// `[[open_tabs.step]]`) every few seconds: the old build's files going away breaks them
        #[arg(long = "open-tabs", value_name = "N")]
        count: usize = 0,
        /// How often each open tab makes a round
        #[arg(long = "open-tabs-every", value_name = "DURATION")]
        every: Duration = defaults::OPEN_TAB_EVERY,
    }
    file only {
        step: Vec<Spanned<RawStep>>,
    }
}

settings! {
    /// Users whose browser remembers, coming back across the deploy (`[returning_users]`).
    #[command(next_help_heading = "Returning users")]
    pub struct ReturningUsers in "returning_users" {
        /// Extra users whose browser keeps its HTTP cache, service workers and storage: each
        /// visits during the baseline and comes back (a navigation, then a reload) every few
        /// seconds: a service worker or a cache that kept a broken answer breaks them
        #[arg(long = "returning-users", value_name = "N")]
        count as "returning_users": usize = 0,
        /// How often each returning user comes back
        #[arg(long = "returning-every", value_name = "DURATION")]
        every as "returning_every": Duration = defaults::RETURNING_EVERY,
    }
}

settings! {
    /// Screenshots and HAR files of failed loads (`[evidence]`).
    #[command(next_help_heading = "Evidence")]
    pub struct Evidence in "evidence" {
        /// Save a screenshot (PNG) and a HAR file of the first failed loads of each failure class
        /// and failing URL here [default: beside the first report file of --json, --junit, --html,
        /// as <report name>-artifacts/; without one, ./rollprobe-artifacts/]. A passing run
        /// writes nothing
        #[arg(long, value_name = "DIR")]
        artifacts: PathBuf,
        /// Failed loads whose evidence is saved, at most; 0: none
        #[arg(long, value_name = "N")]
        max_artifacts: usize = defaults::MAX_ARTIFACTS,
    }
}

settings! {
    /// Whether the old version's assets are still served after probing (`[retention]`).
    #[command(next_help_heading = "Retention")]
    pub struct Retention in "retention" {
        /// After probing, request every static asset the first loads got from the old version
        /// again: still served, or gone? Always on around a deploy command; a signal skips it
        #[arg(long = "check-retention", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
        check: bool = false,
        /// Whether old assets gone after the deployment fail the run; false: a warning only
        #[arg(long = "retention-required", value_name = "BOOL")]
        required: bool = defaults::RETENTION_REQUIRED,
    }
}

settings! {
    /// Which browser runs the users (`[browser]`).
    #[command(next_help_heading = "Browser")]
    pub struct Browser in "browser" {
        /// Chromium or Chrome executable (the CHROMIUM variable counts as this flag) [default:
        /// the headless shell or Chromium where Debian and others install them]
        #[arg(long, env = "CHROMIUM", value_name = "PATH")]
        chromium: PathBuf,
        /// Which Chromium build: `shell`, the headless shell (the default when installed: a
        /// fraction of full Chromium's CPU per fresh user), or `full` Chromium
        #[arg(long = "browser", value_name = "KIND")]
        kind: BrowserKind,
    }
}

/// Every setting: `run`'s flags, and the scenario file (whose top level also holds its
/// `[[target]]` and `[[step]]` lists).
#[derive(Clone, Debug, Default, clap::Args, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[arg(skip)]
    #[serde(default)]
    pub target: Option<Spanned<Vec<RawTarget>>>,
    #[arg(skip)]
    #[serde(default)]
    pub step: Vec<Spanned<RawStep>>,
    #[command(flatten)]
    #[serde(default)]
    pub load: Load,
    #[command(flatten)]
    #[serde(default)]
    pub deploy: Deploy,
    #[command(flatten)]
    #[serde(default)]
    pub judge: Judge,
    #[command(flatten)]
    #[serde(default)]
    pub version: Version,
    #[command(flatten)]
    #[serde(default)]
    pub pods: Pods,
    #[command(flatten)]
    #[serde(default)]
    pub slo: Slo,
    #[command(flatten)]
    #[serde(default)]
    pub request: Request,
    #[command(flatten)]
    #[serde(default)]
    pub open_tabs: OpenTabs,
    #[command(flatten)]
    #[serde(default)]
    pub returning_users: ReturningUsers,
    #[command(flatten)]
    #[serde(default)]
    pub evidence: Evidence,
    #[command(flatten)]
    #[serde(default)]
    pub retention: Retention,
    #[command(flatten)]
    #[serde(default)]
    pub browser: Browser,
}

impl Config {
    /// The flags (`self`) over the file. Settings that exclude each other go as a group: a
    /// flag of one side drops what the file said on the other (`--rate` drops the file's
    /// `workers`, `--workers 2` its `rate` and `max_workers`, `--duration` its `until_signal`,
    /// `--insecure` its `trust_cert`, `--version-js` its `meta`), so a flag never collides with
    /// the file, and the merged settings meet the same rules as the flags alone.
    pub fn over(self, mut file: Config) -> Config {
        let (l, f) = (&self.load, &mut file.load);
        if l.rate.is_some() {
            (f.workers, f.workers_ceiling) = (None, None);
        }
        if let Some(workers) = l.workers {
            (f.rate, f.max_workers) = (None, None);
            if workers != Workers::Auto {
                f.workers_ceiling = None;
            }
        }
        if l.duration.is_some() {
            f.until_signal = None;
        }
        if l.until_signal == Some(true) {
            f.duration = None;
        }
        if self.version.meta.is_some() || self.version.js.is_some() {
            (file.version.meta, file.version.js) = (None, None);
        }
        if self.request.insecure == Some(true) {
            file.request.trust_cert = None;
        }
        if self
            .request
            .trust_cert
            .as_ref()
            .is_some_and(|c| !c.is_empty())
        {
            file.request.insecure = None;
        }
        Config {
            target: file.target,
            step: file.step,
            load: self.load.over(file.load),
            deploy: self.deploy.over(file.deploy),
            judge: self.judge.over(file.judge),
            version: self.version.over(file.version),
            pods: self.pods.over(file.pods),
            slo: self.slo.over(file.slo),
            request: self.request.over(file.request),
            open_tabs: self.open_tabs.over(file.open_tabs),
            returning_users: self.returning_users.over(file.returning_users),
            evidence: self.evidence.over(file.evidence),
            retention: self.retention.over(file.retention),
            browser: self.browser.over(file.browser),
        }
    }

    /// Every setting, table by table, in the order declared.
    pub fn entries(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        self.load.entries(&mut out);
        self.deploy.entries(&mut out);
        self.judge.entries(&mut out);
        self.version.entries(&mut out);
        self.pods.entries(&mut out);
        self.slo.entries(&mut out);
        self.request.entries(&mut out);
        self.open_tabs.entries(&mut out);
        self.returning_users.entries(&mut out);
        self.evidence.entries(&mut out);
        self.retention.entries(&mut out);
        self.browser.entries(&mut out);
        out
    }

    /// Every setting of these (merged) settings, the value it took and where from: the flags
    /// that were given, else the file, else the default.
    pub fn values(&self, flags: &Config) -> Vec<SettingValue> {
        let flag_names = flag_names();
        self.entries()
            .into_iter()
            .zip(flags.entries())
            .map(|(mut e, flag)| {
                if e.id == "long_request" {
                    // Its default gives way to a short load timeout: show what applied.
                    e.default = Some(value::Setting::show(&self.long_request()));
                }
                let (value, from) = match (e.given, e.default) {
                    (Some(v), _) if flag.given.is_some() => (Some(v), SettingSource::Flag),
                    (Some(v), _) => (Some(v), SettingSource::File),
                    (None, Some(d)) => (Some(d), SettingSource::Default),
                    (None, None) => (None, SettingSource::Unset),
                };
                SettingValue {
                    key: e.key.to_string(),
                    flag: flag_names(e.id),
                    value,
                    from,
                }
            })
            .collect()
    }

    /// How a message names a setting: its flag and its key, `--idle` (`[load] idle`).
    pub fn name(id: &str) -> String {
        let flag = flag_names()(id);
        match Config::default().entries().into_iter().find(|e| e.id == id) {
            Some(e) => {
                let (table, key) = e.key.split_once('.').unwrap_or(("", e.key));
                format!("{flag} (`[{table}] {key}`)")
            }
            None => flag,
        }
    }
}

/// Each setting's flag, `--long-request`, by clap id, from clap's view of the settings.
fn flag_names() -> impl Fn(&str) -> String {
    use clap::Args;
    let cmd = Config::augment_args(clap::Command::new("settings"));
    move |id: &str| {
        let long = cmd
            .get_arguments()
            .find(|a| a.get_id() == id)
            .and_then(|a| a.get_long().map(str::to_string));
        format!("--{}", long.unwrap_or_else(|| id.replace('_', "-")))
    }
}

/// The help of every setting's flag names its key in the scenario file and its default:
/// `[file: load.idle] [default: 500ms]`.
pub fn keys_and_defaults_in_help(cmd: clap::Command) -> clap::Command {
    Config::default().entries().into_iter().fold(cmd, |cmd, e| {
        let tail = match e.default {
            Some(default) => format!(" [file: {}] [default: {default}]", e.key),
            None => format!(" [file: {}]", e.key),
        };
        cmd.mut_arg(e.id, |arg| {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let arg = arg.help(format!("{help}{tail}"));
            match arg.get_long_help().map(|h| h.to_string()) {
                Some(long) => arg.long_help(format!("{long}{tail}")),
                None => arg,
            }
        })
    })
}

/// A scenario file as written, and its text (the scenario's validator points into it).
pub fn read(path: &Path) -> Result<(Config, String), UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("scenario file {}: {e}", path.display())))?;
    let config = parse(path, &text)?;
    Ok((config, text))
}

/// The file's text as settings; a mistake names the line and column.
pub fn parse(path: &Path, text: &str) -> Result<Config, UsageError> {
    toml::from_str(text).map_err(|e| UsageError(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests;
