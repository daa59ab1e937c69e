//! The users who stay across the deploy, each population judged on its own: open tabs (the app
//! kept open, used without reloading) and returning users (a browser that remembers: its HTTP
//! cache, its service worker, its storage).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{FailureClass, Observation, Phase, Source, Verdict};

/// Which population a user belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The app kept open across the deploy, used without reloading (`--open-tabs`).
    OpenTabs,
    /// A browser that remembers, coming back to the app (`--returning-users`).
    ReturningUsers,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::OpenTabs, Kind::ReturningUsers];

    /// The population, in words: `open tabs`, `returning users`.
    pub fn title(self) -> &'static str {
        match self {
            Kind::OpenTabs => "open tabs",
            Kind::ReturningUsers => "returning users",
        }
    }

    /// One of its users: `tab`, `user`.
    pub fn user(self) -> &'static str {
        match self {
            Kind::OpenTabs => "tab",
            Kind::ReturningUsers => "user",
        }
    }

    /// What one of its users does after the first time: `round`, `visit`.
    pub fn round(self) -> &'static str {
        match self {
            Kind::OpenTabs => "round",
            Kind::ReturningUsers => "visit",
        }
    }

    /// The user's first time, which is not a round: `opening`, `first visit`.
    pub fn opening(self) -> &'static str {
        match self {
            Kind::OpenTabs => "opening",
            Kind::ReturningUsers => "first visit",
        }
    }

    /// What its user did first: `opened`, `first came`.
    pub fn opened(self) -> &'static str {
        match self {
            Kind::OpenTabs => "opened",
            Kind::ReturningUsers => "first came",
        }
    }

    /// The check the verdict includes.
    pub fn check(self) -> &'static str {
        match self {
            Kind::OpenTabs => "open tabs keep working across the deploy",
            Kind::ReturningUsers => "users who come back still get a working app",
        }
    }
}

/// One round of a user who stays (a tab's opening or a later round of its steps; a returning
/// user's first visit or a later one), as observed: the observation holds the round's requests
/// and errors like a load's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    pub population: Kind,
    pub tab: usize,
    /// 0 is the tab's opening, or the user's first visit.
    pub round: u32,
    /// When the tab opened (the user first came), and the app version its document came from.
    pub opened_at_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub opened_on: Option<String>,
    pub observation: Observation,
}

/// One population of a run, in every report. The JSON keeps the open tabs' names for both: a
/// returning user is a `tab` that comes back, each visit a `round`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Population {
    /// Users (`--open-tabs`, `--returning-users`).
    pub tabs: usize,
    /// Seconds between rounds.
    pub every_s: f64,
    /// Rounds still running when probing ended that the stop cut short (Ctrl-C, SIGTERM):
    /// what they would have seen is not known.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub cut: u64,
    /// Rounds per phase, in phase order.
    pub phases: Vec<PopulationPhase>,
    /// The failures of failed rounds, up to the report's bound, in the order they happened.
    pub failures: Vec<PopulationFailure>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationPhase {
    pub phase: Phase,
    /// Tabs opened, users' first visits, in this phase: judged like rounds, not counted as
    /// rounds.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub openings: u64,
    /// Rounds after the opening.
    pub rounds: u64,
    /// Openings and rounds whose document a service worker answered: the users' browsers
    /// remembered the app.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub from_service_worker: u64,
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

/// One way a round failed, with the story: which version the page runs, what it asked for,
/// who answered and from where.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PopulationFailure {
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
    /// The version the tab opened on, or the user got on the first visit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub opened_on: Option<String>,
    /// The version of the page that asked, when not `opened_on`: a returning user's visit to
    /// a newer build.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub runs: Option<String>,
    /// The version of the backend that answered.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub answered_by: Option<String>,
    /// Where the answer came from, when not the network (a cache, a service worker).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<Source>,
    pub message: String,
}

impl PopulationFailure {
    /// What came back: the status, else the browser's error.
    pub fn answer(&self) -> Option<String> {
        self.status
            .map(|s| s.to_string())
            .or_else(|| self.error.clone())
    }

    /// The version the page runs, in words.
    pub fn runs(&self) -> &str {
        self.runs
            .as_deref()
            .or(self.opened_on.as_deref())
            .unwrap_or("an unknown version")
    }
}
