//! The recorded runs under tests/fixtures (see record.sh there), for fast tests of the judge and
//! the exporters.

use crate::model::{Report, RunRecord};

pub const NAMES: [&str; 7] = [
    "steady",
    "naive",
    "no-drain",
    "no-readiness",
    "spa-fallback",
    "failed-step",
    "failing-baseline",
];

/// A fixture file's text: `name.ext` under tests/fixtures.
pub fn text(name: &str, ext: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}.{ext}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn record(name: &str) -> RunRecord {
    serde_json::from_str(&text(name, "observations.json")).unwrap()
}

/// The report the judge gives for a recorded run.
pub fn report(name: &str) -> Report {
    super::judge_record(&record(name))
}

/// The report the judge gives with every failure counted, pre-existing ones too.
pub fn absolute_report(name: &str) -> Report {
    let mut record = record(name);
    record.settings.count_pre_existing = true;
    super::judge_record(&record)
}
