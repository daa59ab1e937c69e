//! A run's observations saved as they came (`run --save-observations`), and the report they give
//! when judged again: the recorded fixtures that keep the judge honest.

use serde::{Deserialize, Serialize};

use super::{DeployRecord, Report, Settings};
use crate::browser::Outage;
use crate::classify::Rules;
use crate::cpu;
use crate::filter::UrlFilter;
use crate::model::Observation;
use crate::recorder::{Limits, Recorder};
use crate::runner::{PhaseSpan, RunOutcome};

/// Everything a run saw before judging, and the settings it was judged by.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub target: String,
    /// Several start URLs: each load says which it opened.
    pub label_urls: bool,
    pub settings: Settings,
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
    /// From the browser being ready to the end, monotonic.
    pub duration_s: f64,
    pub phases: Vec<PhaseSpan>,
    pub interrupted: bool,
    pub browser_outages: Vec<Outage>,
    /// Loads still running when the grace period after an interrupt ran out.
    pub abandoned_in_flight: u64,
    pub skipped_starts: u64,
    pub cpu: Vec<cpu::Sample>,
    pub deploy: Option<DeployRecord>,
    /// In the order they arrived.
    pub observations: Vec<Observation>,
}

/// Judges the recorded observations again, as the run did.
pub fn replay(record: &RunRecord) -> Report {
    let s = &record.settings;
    let rules = Rules {
        ignore: UrlFilter::new(&s.ignore).unwrap_or_default(),
        fail_on_js_error: s.fail_on_js_error,
        counted: s.count.clone(),
    };
    let mut recorder = Recorder::new(rules, Limits::default(), record.label_urls);
    let mut abandoned = record.abandoned_in_flight;
    for obs in &record.observations {
        if obs.after_interrupt && obs.prober_error.is_some() {
            abandoned += 1;
            continue;
        }
        recorder.record(obs.clone());
    }
    let at = |ms: u64| std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    let outcome = RunOutcome {
        recorded: recorder.finish(record.duration_s, &record.phases),
        started_at: at(record.started_at_ms),
        finished_at: at(record.finished_at_ms),
        phases: record.phases.clone(),
        interrupted: record.interrupted,
        browser_outages: record.browser_outages.clone(),
        abandoned_loads: abandoned,
        skipped_starts: record.skipped_starts,
        cpu: record.cpu.clone(),
        duration_s: record.duration_s,
        observations: Vec::new(),
    };
    let settings = Settings {
        target: record.target.clone(),
        ..s.clone()
    };
    Report::new(settings, outcome, record.deploy.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: [&str; 5] = [
        "steady",
        "naive",
        "no-drain",
        "failed-step",
        "failing-baseline",
    ];

    fn fixture(name: &str, ext: &str) -> String {
        let path = format!("{}/tests/fixtures/{name}.{ext}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The reports each recorded run wrote itself are what judging its observations again gives.
    #[test]
    fn recorded_runs_judge_to_the_reports_they_wrote() {
        for name in FIXTURES {
            let record: RunRecord =
                serde_json::from_str(&fixture(name, "observations.json")).unwrap();
            let report = replay(&record);
            let json = serde_json::to_string_pretty(&report).unwrap() + "\n";
            assert_eq!(json, fixture(name, "report.json"), "{name}: JSON report");
            let xml = String::from_utf8(super::super::junit::render(&report).unwrap()).unwrap();
            assert_eq!(xml, fixture(name, "junit.xml"), "{name}: JUnit");
            assert_eq!(
                super::super::text::render(&report),
                fixture(name, "summary.txt"),
                "{name}: text summary"
            );
        }
    }
}
