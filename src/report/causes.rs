//! The pods that failed and the causes of the failures, in words: shared by the text summary,
//! the HTML report and the demo, so all say the same.

use crate::model::{Cause, PodReport, Report};

/// `not ready (certain): 14 of 15 502s came from v2-a …`.
pub fn cause_line(c: &Cause) -> String {
    format!("{} ({}): {}", c.what, c.sure.as_str(), c.why)
}

/// `v2-a (v2) http_error 5`, for each pod that gave failures, most failures first.
pub fn failed_pods(report: &Report) -> Vec<String> {
    let Some(pods) = &report.pods else {
        return Vec::new();
    };
    let mut failed: Vec<&PodReport> = pods.pods.iter().filter(|p| !p.failed.is_empty()).collect();
    failed.sort_by_key(|p| std::cmp::Reverse(p.failed.values().sum::<u64>()));
    failed
        .iter()
        .map(|p| {
            let classes: Vec<String> = p.failed.iter().map(|(c, n)| format!("{c} {n}")).collect();
            let version = p
                .life
                .version
                .as_deref()
                .map_or(String::new(), |v| format!(" ({v})"));
            format!("{}{version} {}", p.life.pod, classes.join(", "))
        })
        .collect()
}
