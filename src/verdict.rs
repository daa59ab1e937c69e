//! Pass, fail or inconclusive, and the exit code a pipeline acts on.

use serde::{Deserialize, Serialize};

use crate::report::Summary;

pub const EXIT_PASS: i32 = 0;
pub const EXIT_SITE_FAILED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_INCONCLUSIVE: i32 = 3;

/// Above this share of loads lost to the prober's own faults, a clean result proves little.
const MAX_PROBER_ERROR_SHARE: f64 = 0.2;

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

pub fn decide(summary: &Summary) -> Verdict {
    let verdict = |status, exit_code, reason: String| Verdict {
        status,
        exit_code,
        reason,
    };
    if summary.failed > 0 {
        let classes = summary
            .failed_loads_by_class
            .iter()
            .map(|(class, n)| format!("{class}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        return verdict(
            Status::Fail,
            EXIT_SITE_FAILED,
            format!(
                "{} of {} loads failed ({classes})",
                summary.failed, summary.loads
            ),
        );
    }
    if summary.ok == 0 {
        return verdict(
            Status::Inconclusive,
            EXIT_INCONCLUSIVE,
            if summary.loads == 0 {
                "no load completed".to_string()
            } else {
                format!("the prober failed on all {} loads", summary.loads)
            },
        );
    }
    if summary.prober_errors as f64 > summary.loads as f64 * MAX_PROBER_ERROR_SHARE {
        return verdict(
            Status::Inconclusive,
            EXIT_INCONCLUSIVE,
            format!(
                "the prober failed on {} of {} loads (over {:.0} %): too few good probes to vouch for the site",
                summary.prober_errors,
                summary.loads,
                MAX_PROBER_ERROR_SHARE * 100.0
            ),
        );
    }
    verdict(
        Status::Pass,
        EXIT_PASS,
        format!("all {} loads succeeded", summary.ok),
    )
}
