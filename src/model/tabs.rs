//! Open tabs: users who had the app open before the deploy and keep using it across it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FailureClass, Observation, Phase, Verdict};

/// One round of an open tab (its opening, or a later round of its steps), as observed: the
/// observation holds the round's requests and errors like a load's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TabRound {
    pub tab: usize,
    /// 0 is the tab's opening.
    pub round: u32,
    /// When the tab opened, and the app version its document came from.
    pub opened_at_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub opened_on: Option<String>,
    pub observation: Observation,
}

/// The open tabs of a run, in every report.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OpenTabs {
    /// Tabs opened (`--open-tabs`).
    pub tabs: usize,
    /// Seconds between rounds.
    pub every_s: f64,
    /// Rounds per phase, in phase order.
    pub phases: Vec<TabPhase>,
    /// The failures of failed rounds, up to the report's bound, in the order they happened.
    pub failures: Vec<TabFailure>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TabPhase {
    pub phase: Phase,
    pub rounds: u64,
    pub ok: u64,
    pub failed: u64,
    pub prober_errors: u64,
    /// Failed rounds per failure class; a round failing two ways counts under both.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub failed_rounds_by_class: BTreeMap<FailureClass, u64>,
    /// Judged against the open tabs' SLO (`[slo.open_tabs]`; default: no round may fail).
    pub verdict: Verdict,
    /// Judged against the baseline: failed rounds whose every failure the baseline's loads
    /// already had, which the verdict did not count.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub pre_existing_only: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One way a round of an open tab failed, with the story: which version the tab runs, what it
/// asked for and who answered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TabFailure {
    pub tab: usize,
    pub round: u32,
    pub phase: Phase,
    pub class: FailureClass,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    pub at_unix_ms: u64,
    pub opened_at_ms: u64,
    /// The version the tab runs.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub opened_on: Option<String>,
    /// The version of the backend that answered.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub answered_by: Option<String>,
    pub message: String,
}

impl TabFailure {
    /// The version the tab runs, in words.
    pub fn runs(&self) -> &str {
        self.opened_on.as_deref().unwrap_or("an unknown version")
    }
}
