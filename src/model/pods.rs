//! Which pod answered, when each pod came and went, and what the evidence says caused the
//! failures: the four causes of rollout downtime the field reports describe, each with its fix.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FailureClass;

/// One pod's life as its events told it, times in milliseconds since the Unix epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodLife {
    pub pod: String,
    /// Its app version: the simulator's, a Kubernetes pod's version label or image tag.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version: Option<String>,
    /// Its address (a Kubernetes pod's `podIP`): what an ingress's `$upstream_addr` names.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<String>,
    /// Created (scheduled, its process started).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created_at_ms: Option<u64>,
    /// Given traffic: added to the ingress's endpoints.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub routed_at_ms: Option<u64>,
    /// Able to serve: listening, or its Ready condition true.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ready_at_ms: Option<u64>,
    /// Told to stop: marked for deletion, sent SIGTERM, killed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub stopping_at_ms: Option<u64>,
    /// Taken out of the ingress's endpoints.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub removed_at_ms: Option<u64>,
    /// Its process gone.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gone_at_ms: Option<u64>,
}

impl PodLife {
    /// Whether an answer's pod header names this pod: by name, or by its address
    /// (`10.1.2.3:8080`, `[fd00::1]:80`; of several an ingress tried, the last answered).
    pub fn named_by(&self, said: &str) -> bool {
        let last = said.rsplit(',').next().unwrap_or(said).trim();
        let host = match last.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => last.rsplit_once(':').map_or(last, |(host, _)| host),
        };
        self.pod == said || self.ip.as_deref().is_some_and(|ip| ip == host)
    }
}

/// Where the pods' lives came from (`--pod-events`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodEvents {
    pub path: String,
    /// `simulator`, `kubectl events` or `kubectl pods`, when the file could be read.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub format: Option<String>,
    /// Why the file could not be read; the per-pod attribution goes on without it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    pub lives: Vec<PodLife>,
}

/// One pod in the report: its life (when known) and what it answered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PodReport {
    #[serde(flatten)]
    pub life: PodLife,
    /// Requests it answered (or failed to), as the pod header named it.
    pub answers: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_answer_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_answer_ms: Option<u64>,
    /// Its first and last answer that was not an error (below 400).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub first_served_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub last_served_ms: Option<u64>,
    /// Failures that count against the site, by class.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub failed: BTreeMap<FailureClass, u64>,
}

/// Every pod the run met or was told of.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pods {
    /// The header that named the pods (`--pod-header`, or the first common one seen).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub header: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub events: Option<PodEvents>,
    /// In the order they were created (or first answered).
    pub pods: Vec<PodReport>,
}

/// What caused a cluster of failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    /// Hashed assets missing on the other version's pods.
    VersionSkew,
    /// Pods given traffic before they could serve.
    NotReady,
    /// Pods dying with requests in flight.
    NoDrain,
    /// Pods still sent traffic after they stopped serving.
    RoutedAfterStop,
}

impl CauseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CauseKind::VersionSkew => "version_skew",
            CauseKind::NotReady => "not_ready",
            CauseKind::NoDrain => "no_drain",
            CauseKind::RoutedAfterStop => "routed_after_stop",
        }
    }

    /// The cause in words, and the fix the field reports give.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            CauseKind::VersionSkew => (
                "hashed assets missing on the other version's pods",
                "keep the previous build's assets: shared assets, N-1 assets in the image, or skew protection",
            ),
            CauseKind::NotReady => (
                "pods took traffic before they could serve",
                "a readiness probe that passes only once the app serves",
            ),
            CauseKind::NoDrain => (
                "pods died with requests in flight",
                "graceful shutdown: on SIGTERM, stop accepting and finish the requests in flight",
            ),
            CauseKind::RoutedAfterStop => (
                "the ingress still sent traffic to pods that had stopped",
                "a preStop sleep longer than the ingress takes to drop a pod (its reload), then graceful shutdown",
            ),
        }
    }
}

/// How sure a diagnosis is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sure {
    /// The pods' own events line up with every failure of the cluster.
    Certain,
    /// The answers and their timing point there; no pod event says so.
    Likely,
}

impl Sure {
    pub fn as_str(self) -> &'static str {
        match self {
            Sure::Certain => "certain",
            Sure::Likely => "likely",
        }
    }
}

/// A cluster of failures, its cause and its fix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub cause: CauseKind,
    /// The cause, in words.
    pub what: String,
    pub fix: String,
    pub sure: Sure,
    /// The evidence: `7 of 7 502s came from web-v2-0 within 1.8 s after it started and before
    /// it was ready`.
    pub why: String,
    /// Failures in the cluster.
    pub failures: u64,
    /// The pods involved, when known.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub pods: Vec<String>,
}
