//! The results model every output is rendered from. The JSON report is this model serialized;
//! `docs/report-schema.md` documents it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    Cause, Comparison, Failure, FailureClass, Kind, Load, LoadDetail, Outage, Phase, Pods,
    Population, Retention, Slo, Verdict, Versions, WorkerStep,
};

/// Bumped whenever a field changes meaning or goes away; additions keep it.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    /// `rollprobe <version>`.
    pub tool: String,
    pub target: String,
    pub settings: Settings,
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
    /// True when the run was cut short by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    /// The run's verdict: it decides the exit code.
    pub verdict: Verdict,
    /// The whole run.
    pub summary: Summary,
    /// Each phase with loads, in order: `run` for a plain run; `baseline`, `rollout`, `settle`
    /// around a deploy command.
    pub phases: Vec<PhaseReport>,
    /// Checks beyond page loads (final version, ...); a failed one fails the run.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub checks: Vec<Check>,
    /// Things worth knowing that do not decide the verdict on their own.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub deploy: Option<DeployRecord>,
    /// App versions served over time, when a version source was set.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub versions: Option<Versions>,
    /// Tabs opened before the deploy and used across it (`--open-tabs`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub open_tabs: Option<Population>,
    /// Users whose browser remembers, coming back across the deploy (`--returning-users`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub returning_users: Option<Population>,
    /// Around a deploy command, unless `count_pre_existing`: each failure set against the
    /// baseline's, which decides what the later phases count. Absent: every failure counted.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub baseline: Option<Comparison>,
    /// Whether the old version's assets were still served after the deployment, when checked.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retention: Option<Retention>,
    /// Which pod answered, and when each came and went, when an answer named one or
    /// `--pod-events` told of them.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pods: Option<Pods>,
    /// What caused the failures, from the evidence, and the fix for each.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub causes: Vec<Cause>,
    pub prober: ProberStats,
    /// Every load, good or bad, in the order they finished.
    pub loads: Vec<Load>,
    /// Every failure, up to `truncated.max_failures`.
    pub failures: Vec<Failure>,
    /// Request-level detail of the first failed loads, up to `truncated.max_detailed_loads`.
    pub failed_load_details: Vec<LoadDetail>,
    pub truncated: Truncation,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PhaseReport {
    pub phase: Phase,
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
    pub verdict: Verdict,
    pub summary: Summary,
    /// Judged against the baseline: failed loads whose every failure the baseline already had
    /// at the same rate, which the verdict did not count.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub pre_existing_only: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub passed: bool,
    pub message: String,
    /// Not passed, but only a warning: it does not fail the run (`--retention-required false`).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub warning: bool,
}

impl Check {
    /// A check that did not pass and fails the run.
    pub fn fails_run(&self) -> bool {
        !self.passed && !self.warning
    }
}

/// The wrapped deploy command and how it ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeployRecord {
    pub command: Vec<String>,
    /// None when it could not be started or was killed by a signal.
    pub exit_code: Option<i32>,
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
    /// Where its output went, when not to the terminal.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub log: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    /// The start URL(s), as the report's `target` names them.
    #[serde(skip)]
    pub target: String,
    /// The scenario file the run followed, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub scenario: Option<String>,
    /// Browser users at once (open model and `--workers auto`: the most at once).
    pub workers: usize,
    /// `--workers auto`: the count ramped up to what the machine can run, at most `workers`.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub workers_auto: bool,
    /// `--context per-worker`: each worker's loads shared one browser context (and renderer),
    /// cleared between them.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub context_per_worker: bool,
    /// Open model: new users per second.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rate_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_loads: Option<u64>,
    pub idle_ms: u64,
    /// A fetch or XHR open this long no longer holds a load open; absent in reports written
    /// before the setting existed, when every request was waited for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub long_request_ms: Option<u64>,
    pub load_timeout_ms: u64,
    pub ignore: Vec<String>,
    pub fail_on_js_error: bool,
    /// The render check's selector; without it, blank pages are flagged.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expect_selector: Option<String>,
    /// Where the app version was read from, e.g. `header X-App-Version`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub expect_version: Option<String>,
    /// The response header naming the pod that answered (`--pod-header`); None: the common ones.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pod_header: Option<String>,
    /// Failures the baseline already had count too: the absolute verdict around a deploy.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub count_pre_existing: bool,
    /// Classes that count against the SLO, when not all of the site's do.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub count: Option<Vec<FailureClass>>,
    /// The SLO of every phase without one of its own.
    pub slo: Slo,
    /// Phases with an SLO of their own (from a scenario file).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub slo_by_phase: BTreeMap<Phase, Slo>,
    /// The open tabs' SLO (`[slo.open_tabs]`), when not the default: no round may fail.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub slo_open_tabs: Option<Slo>,
    /// The returning users' SLO (`[slo.returning_users]`), when not the default: no visit
    /// may fail.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub slo_returning_users: Option<Slo>,
    /// How server certificates were checked; omitted when like a browser.
    #[serde(skip_serializing_if = "Certificates::is_checked", default)]
    pub certificates: Certificates,
    /// With `certificates: trusted`: each certificate accepted besides those the system trusts.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub trusted_certs: Vec<String>,
    /// `--resolve` entries, `HOST:PORT:ADDRESS`: where requests for a host went instead of
    /// where DNS would have sent them.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub resolve: Vec<String>,
    /// Every setting of the run, as `scenario check` and the flags name them: its key, the value
    /// it took and where that came from. Absent in reports written before it existed.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub all: Vec<SettingValue>,
}

/// One setting of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingValue {
    /// The scenario file's key: `load.idle` is `idle` in `[load]`.
    pub key: String,
    /// The flag that sets it, e.g. `--idle`.
    pub flag: String,
    /// The value it took; absent when not set and without a default.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub value: Option<String>,
    pub from: SettingSource,
}

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingSource {
    Flag,
    File,
    Default,
    /// Not set, and no default: the setting is off.
    Unset,
}

impl SettingSource {
    pub fn as_str(self) -> &'static str {
        match self {
            SettingSource::Flag => "flag",
            SettingSource::File => "file",
            SettingSource::Default => "default",
            SettingSource::Unset => "unset",
        }
    }
}

/// How a run checked server certificates, strictest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Certificates {
    /// Like a user's browser: a certificate it refuses is a `tls_error`.
    #[default]
    Checked,
    /// Checked, but the `--trust-cert` certificates were accepted too.
    Trusted,
    /// Any certificate accepted (`--insecure`): certificate errors went unseen.
    Insecure,
}

impl Certificates {
    pub fn is_checked(&self) -> bool {
        *self == Certificates::Checked
    }
}

impl Settings {
    /// The SLO a population's rounds are judged against, when not the default (none may fail).
    pub fn slo_of(&self, kind: Kind) -> Option<Slo> {
        match kind {
            Kind::OpenTabs => self.slo_open_tabs,
            Kind::ReturningUsers => self.slo_returning_users,
        }
    }

    /// Whether failures of this class counted against the site in a run with these settings.
    pub fn counts(&self, class: FailureClass) -> bool {
        // One render check runs: the selector's, or the blank-page check without one.
        let checked = match class {
            FailureClass::NotRendered => self.expect_selector.is_some(),
            FailureClass::BlankPage => self.expect_selector.is_none(),
            _ => true,
        };
        checked && class.counts(self.fail_on_js_error, self.count.as_deref())
    }

    pub fn slo_for(&self, phase: Phase) -> Slo {
        self.slo_by_phase.get(&phase).copied().unwrap_or(self.slo)
    }

    /// A line for people when certificates were not fully checked, as the summary and the
    /// HTML report say it; None when they were checked like a browser.
    pub fn certificate_caveat(&self) -> Option<String> {
        let n = self.trusted_certs.len();
        match self.certificates {
            Certificates::Checked => None,
            Certificates::Insecure => Some(
                "NOT checked: any certificate was accepted (insecure), certificate errors went unseen"
                    .to_string(),
            ),
            Certificates::Trusted => Some(format!(
                "checked, also trusting {n} certificate{} (--trust-cert): {}",
                if n == 1 { "" } else { "s" },
                self.trusted_certs.join("; ")
            )),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Summary {
    /// Loads started and finished (prober errors included).
    pub loads: u64,
    pub ok: u64,
    /// Loads that failed because of the site.
    pub failed: u64,
    /// Loads the prober could not complete; not the site's fault.
    pub prober_errors: u64,
    /// Loads per failure class; a load with two classes counts under both.
    pub failed_loads_by_class: BTreeMap<FailureClass, u64>,
    /// Individual failures per class (a load with three missing assets counts three).
    pub failures_by_class: BTreeMap<FailureClass, u64>,
    pub requests: u64,
    /// Event streams, WebSockets and long polls seen, which loads did not wait for.
    #[serde(default)]
    pub long_lived_requests: u64,
    pub duration_s: f64,
    pub loads_per_s: f64,
    /// Load time of completed loads (ok and failed), milliseconds.
    pub load_ms: Percentiles,
    /// The resources that failed most, most frequent first.
    pub failing_resources: Vec<FailingResource>,
}

impl Summary {
    /// The loads a verdict rests on: those that said something about the site.
    pub fn judged(&self) -> u64 {
        self.ok + self.failed
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(mut values: Vec<f64>) -> Percentiles {
        if values.is_empty() {
            return Percentiles::default();
        }
        values.sort_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Percentiles {
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: values[values.len() - 1],
        }
    }
}

/// One URL that failed the same way, how often and when.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct FailingResource {
    pub url: String,
    pub class: FailureClass,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    pub count: u64,
    pub first_unix_ms: u64,
    pub last_unix_ms: u64,
    /// App versions of the backends that answered, where known.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub versions: Vec<String>,
}

impl FailingResource {
    /// `404`, or the net error text: how the resource failed, in one word.
    pub fn how(&self) -> String {
        match (&self.status, &self.error) {
            // A body cut after a 200 is a network error: the error is what happened (and a
            // certificate error has no answer at all).
            (_, Some(error))
                if matches!(
                    self.class,
                    FailureClass::NetworkError | FailureClass::TlsError
                ) =>
            {
                error.clone()
            }
            // `200 text/html`: the status alone would look like success.
            (Some(status), Some(what)) if self.class == FailureClass::WrongContent => {
                format!("{status} {what}")
            }
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => self.class.to_string(),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProberStats {
    /// Which browser ran: the executable and the product it reports.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub browser: Option<String>,
    /// Times Chromium died and was started again.
    pub browser_relaunches: u32,
    /// When the browser was gone, each from the broken connection to the relaunched browser:
    /// the prober's downtime, never counted as the site's.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub browser_outages: Vec<Outage>,
    /// Loads still running when the run was interrupted and the grace period ran out.
    pub abandoned_loads: u64,
    /// Open load model: arrivals not started because `max_workers` loads were running, i.e.
    /// the requested rate was not reached.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub skipped_starts: u64,
    /// Seconds the prober's machine had its CPU saturated (>= 95 % of all cores busy): load
    /// times then say as much about the prober as about the site.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub cpu_saturated_s: u64,
    /// `--workers auto`: the user count over time, the start first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub worker_steps: Vec<WorkerStep>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Truncation {
    pub max_failures: usize,
    pub failures_dropped: u64,
    pub max_detailed_loads: usize,
    pub detailed_loads_dropped: u64,
}

impl Report {
    /// The users of one population who stayed across the deploy, when the run had them.
    pub fn population(&self, kind: Kind) -> Option<&Population> {
        match kind {
            Kind::OpenTabs => self.open_tabs.as_ref(),
            Kind::ReturningUsers => self.returning_users.as_ref(),
        }
    }

    /// The dialogs the pages opened, each distinct one once with how it was answered and how
    /// many loads met it: `alert 'Welcome back' dismissed (12 loads)`. None failed a load.
    pub fn dialogs(&self) -> Vec<String> {
        let mut seen: Vec<(String, usize)> = Vec::new();
        for d in self.loads.iter().flat_map(|l| &l.dialogs) {
            let answer = d.answer.as_deref().unwrap_or("dismissed");
            let said = format!("{} '{}' {answer}", d.kind, d.message);
            match seen.iter_mut().find(|(s, _)| *s == said) {
                Some((_, n)) => *n += 1,
                None => seen.push((said, 1)),
            }
        }
        seen.into_iter()
            .map(|(said, n)| format!("{said} ({n} load{})", if n == 1 { "" } else { "s" }))
            .collect()
    }

    /// Which verdict the report gives, as its first line says: judged against the baseline
    /// (what the deployment changed), or absolute (every failure counted).
    pub fn basis(&self) -> &'static str {
        if self.baseline.is_some() {
            "against the baseline"
        } else {
            "absolute"
        }
    }

    /// Whether failing so counted against `phase` (the whole run: None): every counted class
    /// does in an absolute verdict; against the baseline, only what the deployment changed.
    pub fn counted(&self, phase: Option<Phase>, class: FailureClass, url: &str) -> bool {
        self.settings.counts(class)
            && self
                .baseline
                .as_ref()
                .is_none_or(|b| b.counts(phase, class, url))
    }

    /// Each distinct diagnosis once: a rollout can miss assets in both directions.
    pub fn diagnoses(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self
            .failures
            .iter()
            .filter_map(|f| f.diagnosis.as_deref())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}
