//! What a deployment changed: each later phase's failures set against the baseline's. Deciding
//! it is the judge's job.

use serde::{Deserialize, Serialize};

use super::{FailureClass, Phase};

/// The comparison a verdict against the baseline rests on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The statistical test that tells a rate that rose from chance, and its threshold.
    pub test: String,
    /// Baseline loads that said something about the site (prober errors aside).
    pub baseline_loads: u64,
    /// Why the baseline cannot vouch for the site, when it cannot: the run is then
    /// inconclusive unless the deployment changed something for the worse.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cannot_vouch: Option<String>,
    /// Every resource and class that failed in any phase, the pre-existing ones first.
    pub failures: Vec<Compared>,
}

/// One resource failing one way, in the baseline and after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Compared {
    pub class: FailureClass,
    /// The resource, without its query string (cache busters would make every load's differ).
    pub url: String,
    /// Baseline loads that had it.
    pub baseline: u64,
    /// Each phase after the baseline: how often it failed there, and what that means.
    pub phases: Vec<ComparedPhase>,
}

impl Compared {
    /// The baseline had it: a failure from before the deployment.
    pub fn pre_existing(&self) -> bool {
        self.baseline > 0
    }

    /// The deployment made it appear, or made it more frequent, in some phase.
    pub fn changed(&self) -> bool {
        self.phases.iter().any(|p| p.change.counts())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparedPhase {
    pub phase: Phase,
    /// Loads of this phase that had it.
    pub failed: u64,
    /// Loads of this phase that said something about the site.
    pub of: u64,
    /// The one-sided test's p-value, for a pre-existing failure.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub p_value: Option<f64>,
    pub change: Change,
}

/// What a phase's rate of one failure says against the baseline's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// The baseline never had it: the deployment brought it.
    New,
    /// More frequent than the baseline's rate, beyond what chance explains.
    Rose,
    /// At least twice as frequent as in the baseline, but not beyond chance: too few loads
    /// to tell.
    Unclear,
    /// Not clearly more frequent than in the baseline.
    Same,
}

impl Change {
    /// Whether loads with it count against the phase.
    pub fn counts(self) -> bool {
        matches!(self, Change::New | Change::Rose)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Rose => "rose",
            Change::Unclear => "twice as frequent or more, within chance",
            Change::Same => "as before",
        }
    }
}

impl Comparison {
    /// The entry for a resource failing so, the URL as any failure names it.
    pub fn find(&self, class: FailureClass, url: &str) -> Option<&Compared> {
        let resource = resource(url);
        self.failures
            .iter()
            .find(|c| c.class == class && c.url == resource)
    }

    /// Whether failing so counted against `phase` (any phase: None): what the deployment
    /// changed does, what the baseline already had at the same rate does not. A failure the
    /// baseline never had counts in every phase, also one where the fresh loads no longer
    /// meet it (an open tab asking for a file gone after the rollout).
    pub fn counts(&self, phase: Option<Phase>, class: FailureClass, url: &str) -> bool {
        self.find(class, url).is_none_or(|c| {
            !c.pre_existing()
                || c.phases
                    .iter()
                    .any(|p| phase.is_none_or(|ph| ph == p.phase) && p.change.counts())
        })
    }
}

impl Compared {
    /// Its figures, as every report prints them: `network_error http://…/a.js: baseline 20 of
    /// 20 loads; rollout 30 of 30, as before (p = 1.00)`.
    pub fn figures(&self, baseline_loads: u64) -> String {
        let phases: Vec<String> = self
            .phases
            .iter()
            .map(|p| {
                let how = match (p.change, p.p_value) {
                    (Change::Same, _) if p.failed == 0 => String::new(),
                    (change, Some(pv)) => format!(", {} ({})", change.as_str(), p_shown(pv)),
                    (change, None) => format!(", {}", change.as_str()),
                };
                format!("{} {} of {}{how}", p.phase, p.failed, p.of)
            })
            .collect();
        format!(
            "{} {}: baseline {} of {baseline_loads} loads; {}",
            self.class,
            self.url,
            self.baseline,
            phases.join("; ")
        )
    }
}

/// A p-value as people read one: `p < 0.001`, `p = 0.042`, `p = 0.74`.
pub fn p_shown(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else if p < 0.1 {
        format!("p = {p:.3}")
    } else {
        format!("p = {p:.2}")
    }
}

/// The resource a URL names, without query and fragment: a cache buster or a tracking
/// parameter changes every load, while the resource failing is the same.
pub fn resource(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or(url).to_string(),
    }
}
