//! What a run saw besides its page loads: when it ran, its phases, the prober's own troubles and
//! the deploy command. With the observations, this is everything the judge reads.

use serde::{Deserialize, Serialize};

use super::{DeployRecord, Observation, Phase, PodEvents, Retention, Settings};

/// When a phase began and ended, wall clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseSpan {
    pub phase: Phase,
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
}

/// A time the browser was gone: from the moment its connection broke to the moment a new one
/// was up. Loads lost in it are the prober's fault, not the site's downtime.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outage {
    pub from_unix_ms: u64,
    pub to_unix_ms: u64,
}

/// How busy the prober's machine was in one second.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CpuSample {
    pub unix_s: u64,
    /// Share of all cores busy over the second before, 0.0 to 1.0.
    pub busy: f64,
}

/// `--workers auto` changed the user count: from `at_ms` on, `workers` users, after a window
/// with these loads per second and this share of all cores busy (absent for the start).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerStep {
    pub at_ms: u64,
    pub workers: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub loads_per_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cpu_busy: Option<f64>,
}

/// Everything about a run but its loads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFacts {
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
    /// From the browser being ready to the end, monotonic.
    pub duration_s: f64,
    pub phases: Vec<PhaseSpan>,
    pub interrupted: bool,
    pub browser_outages: Vec<Outage>,
    /// Loads still running when the grace period after an interrupt ran out.
    pub abandoned_in_flight: u64,
    /// Open model: arrivals dropped because `max_workers` loads were running.
    pub skipped_starts: u64,
    pub cpu: Vec<CpuSample>,
    pub deploy: Option<DeployRecord>,
    /// Why there was no browser at all: it could not start, or the run was stopped first.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub browser_fault: Option<String>,
    /// Which browser ran, e.g. `chromium-headless-shell (HeadlessChrome/156.0.8078.114)`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub browser: Option<String>,
    /// `--workers auto`: the user count over time, the start first.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub worker_steps: Vec<WorkerStep>,
    /// `--pod-events`: the pods' lives, read once probing was over.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pod_events: Option<PodEvents>,
}

/// A run saved before judging (`run --save-observations`): the judge's whole input. The
/// recorded fixtures the judge is tested on are these.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub target: String,
    /// Several start URLs: each load says which it opened.
    pub label_urls: bool,
    pub settings: Settings,
    #[serde(flatten)]
    pub facts: RunFacts,
    /// In the order they arrived.
    pub observations: Vec<Observation>,
    /// What the retention check found after probing (it requests URLs itself, so its answers
    /// are part of the judge's input).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub retention: Option<Retention>,
}

/// Each phase's span from possibly several spans of it (several runs, several shards): the
/// earliest start to the latest end, in phase order.
pub fn phase_spans<'a>(spans: impl IntoIterator<Item = &'a PhaseSpan>) -> Vec<PhaseSpan> {
    let mut union: std::collections::BTreeMap<Phase, (u64, u64)> = Default::default();
    for s in spans {
        let span = union.entry(s.phase).or_insert((u64::MAX, 0));
        span.0 = span.0.min(s.started_at_ms);
        span.1 = span.1.max(s.ended_at_ms);
    }
    union
        .into_iter()
        .map(|(phase, (started_at_ms, ended_at_ms))| PhaseSpan {
            phase,
            started_at_ms,
            ended_at_ms,
        })
        .collect()
}
