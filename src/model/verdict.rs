//! The verdict's types and the exit codes a pipeline acts on. Deciding them is the judge's job.

use serde::{Deserialize, Serialize};

pub const EXIT_PASS: i32 = 0;
pub const EXIT_SITE_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_INCONCLUSIVE: i32 = 3;
pub const EXIT_DEPLOY_FAILED: i32 = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Inconclusive,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub status: Status,
    pub exit_code: i32,
    pub reason: String,
}

/// How many failed loads a phase may have and still pass. The default is none at all.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    /// Percent of loads (prober errors aside) that must succeed.
    pub min_success_percent: f64,
    /// An absolute allowance of failed loads, on top of the percentage.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_failed_loads: Option<u64>,
}

impl Default for Slo {
    fn default() -> Slo {
        Slo {
            min_success_percent: 100.0,
            max_failed_loads: None,
        }
    }
}
