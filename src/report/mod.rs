//! The results model every output is rendered from, and one exporter file per format.
//! The JSON report is this model serialized; `docs/report-schema.md` documents it.

pub mod json;
pub mod junit;
pub mod text;
pub mod write;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Failure, FailureClass, Load, LoadDetail};
use crate::verdict::Verdict;

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
    pub verdict: Verdict,
    pub summary: Summary,
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
pub struct Settings {
    pub workers: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub duration_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_loads: Option<u64>,
    pub idle_ms: u64,
    pub load_timeout_ms: u64,
    pub ignore: Vec<String>,
    pub fail_on_js_error: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_header: Option<String>,
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
    pub duration_s: f64,
    pub loads_per_s: f64,
    /// Load time of completed loads (ok and failed), milliseconds.
    pub load_ms: Percentiles,
    /// The resources that failed most, most frequent first.
    pub failing_resources: Vec<FailingResource>,
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
            (Some(status), _) => status.to_string(),
            (None, Some(error)) => error.clone(),
            (None, None) => self.class.to_string(),
        }
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ProberStats {
    /// Times Chromium died and was started again.
    pub browser_relaunches: u32,
    /// Loads still running when the run was interrupted and the grace period ran out.
    pub abandoned_loads: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Truncation {
    pub max_failures: usize,
    pub failures_dropped: u64,
    pub max_detailed_loads: usize,
    pub detailed_loads_dropped: u64,
}

impl Report {
    /// Whether failures of this class counted against the site in this run.
    pub fn counts(&self, class: FailureClass) -> bool {
        crate::classify::counts(class, self.settings.fail_on_js_error)
    }
}

impl Report {
    /// Assembles the report of a finished run and decides its verdict.
    pub fn new(target: &str, settings: Settings, outcome: crate::runner::RunOutcome) -> Report {
        let recorded = outcome.recorded;
        Report {
            schema_version: SCHEMA_VERSION,
            tool: format!("rollprobe {}", env!("CARGO_PKG_VERSION")),
            target: target.to_string(),
            settings,
            started_at_ms: crate::clock::unix_ms(outcome.started_at),
            finished_at_ms: crate::clock::unix_ms(outcome.finished_at),
            interrupted: outcome.interrupted,
            verdict: crate::verdict::decide(&recorded.summary),
            summary: recorded.summary,
            prober: ProberStats {
                browser_relaunches: outcome.browser_relaunches,
                abandoned_loads: outcome.abandoned_loads,
            },
            loads: recorded.loads,
            failures: recorded.failures,
            failed_load_details: recorded.details,
            truncated: recorded.truncated,
        }
    }
}
