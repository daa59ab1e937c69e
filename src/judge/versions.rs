//! Which app version served the page over time: the timeline, the window in which two versions
//! were served at once, and the check that the rollout ended on the expected version.

use std::collections::BTreeMap;

use crate::model::{Load, Phase, Second, Seen, Versions, Window};

/// Versions of the loads that reported one; `None` when none did (no version source set).
pub fn analyse(loads: &[Load]) -> Option<Versions> {
    let mut timeline: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
    let mut seen: Vec<Seen> = Vec::new();
    for load in loads {
        if let Some(version) = &load.version {
            *timeline
                .entry(load.started_at_ms / 1000)
                .or_default()
                .entry(version.clone())
                .or_default() += 1;
        }
        // A version counts as served from the first load any of its backends answered.
        let mut versions: Vec<&String> = load.version.iter().chain(&load.served_by).collect();
        versions.sort();
        versions.dedup();
        for version in versions {
            match seen.iter_mut().find(|s| &s.version == version) {
                Some(s) => {
                    s.loads += 1;
                    s.first_unix_ms = s.first_unix_ms.min(load.started_at_ms);
                    s.last_unix_ms = s.last_unix_ms.max(load.started_at_ms);
                }
                None => seen.push(Seen {
                    version: version.clone(),
                    loads: 1,
                    first_unix_ms: load.started_at_ms,
                    last_unix_ms: load.started_at_ms,
                }),
            }
        }
    }
    if seen.is_empty() {
        return None;
    }
    seen.sort_by_key(|s| s.first_unix_ms);
    // Two versions were served at once from the second one's first appearance until the
    // second-to-last one's last: after that only one version is left.
    let mixed_window = (seen.len() >= 2).then(|| {
        let mut lasts: Vec<u64> = seen.iter().map(|s| s.last_unix_ms).collect();
        lasts.sort_unstable();
        Window {
            start_unix_ms: seen[1].first_unix_ms,
            end_unix_ms: lasts[lasts.len() - 2],
        }
    });
    let mixed_window = mixed_window.filter(|w| w.start_unix_ms <= w.end_unix_ms);
    Some(Versions {
        timeline: timeline
            .into_iter()
            .map(|(unix_s, loads)| Second { unix_s, loads })
            .collect(),
        seen,
        mixed_window,
    })
}

/// Versions that served the document or any request of the loads of one phase, with how many
/// loads each touched, most first.
pub fn served_in(loads: &[Load], phase: Phase) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for load in loads.iter().filter(|l| l.phase == phase) {
        let mut versions: Vec<&str> = load
            .version
            .iter()
            .chain(&load.served_by)
            .map(String::as_str)
            .collect();
        versions.sort();
        versions.dedup();
        for v in versions {
            *counts.entry(v).or_default() += 1;
        }
    }
    let mut out: Vec<(String, u64)> = counts
        .into_iter()
        .map(|(v, n)| (v.to_string(), n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// `Ok(message)` when the final phase served only `expected`, else `Err(what went wrong)`.
pub fn check_final(loads: &[Load], final_phase: Phase, expected: &str) -> Result<String, String> {
    let served = served_in(loads, final_phase);
    if served.is_empty() {
        return Err(format!(
            "no {final_phase} load reported an app version: set --version-header, --version-meta or --version-js"
        ));
    }
    let total: u64 = served.iter().map(|(_, n)| n).sum();
    let others: Vec<String> = served
        .iter()
        .filter(|(v, _)| v != expected)
        .map(|(v, n)| format!("{v} ({n} of {total} loads)"))
        .collect();
    if others.is_empty() {
        return Ok(format!("all {total} {final_phase} loads served {expected}"));
    }
    if served.iter().any(|(v, _)| v == expected) {
        Err(format!(
            "rollout incomplete: still serving {} at the end, expected only {expected}",
            others.join(", ")
        ))
    } else {
        Err(format!("served {}, expected {expected}", others.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Outcome;

    fn load(at_ms: u64, phase: Phase, version: &str) -> Load {
        Load {
            id: at_ms,
            worker: 0,
            phase,
            url: None,
            started_at_ms: at_ms,
            duration_ms: 100.0,
            outcome: Outcome::Ok,
            classes: Vec::new(),
            failed_on: Vec::new(),
            requests: 4,
            long_lived_requests: 0,
            version: Some(version.into()),
            served_by: vec![version.into()],
            pods: vec![],
            artifacts: None,
            dialogs: Vec::new(),
        }
    }

    #[test]
    fn mixed_window_spans_first_new_to_last_old() {
        let loads = [
            load(1_000, Phase::Baseline, "v1"),
            load(5_000, Phase::Rollout, "v2"),
            load(6_000, Phase::Rollout, "v1"),
            load(9_000, Phase::Settle, "v2"),
        ];
        let v = analyse(&loads).unwrap();
        assert_eq!(
            v.mixed_window,
            Some(Window {
                start_unix_ms: 5_000,
                end_unix_ms: 6_000
            })
        );
        assert_eq!(v.seen[0].version, "v1");
        assert_eq!(v.timeline.len(), 4);
    }

    #[test]
    fn mixed_window_when_both_versions_appear_at_once() {
        let loads = [
            load(1_000, Phase::Run, "v1"),
            load(1_000, Phase::Run, "v2"),
            load(4_000, Phase::Run, "v1"),
            load(9_000, Phase::Run, "v2"),
        ];
        let w = analyse(&loads).unwrap().mixed_window.unwrap();
        assert_eq!((w.start_unix_ms, w.end_unix_ms), (1_000, 4_000));
        assert_eq!(analyse(&loads[..1]).unwrap().mixed_window, None);
    }

    #[test]
    fn a_load_in_flight_during_the_rollout_is_a_rollout_load() {
        use Phase::*;
        assert_eq!(Phase::of_load(Baseline, Baseline), Baseline);
        assert_eq!(Phase::of_load(Baseline, Rollout), Rollout);
        assert_eq!(Phase::of_load(Rollout, Settle), Rollout);
        assert_eq!(Phase::of_load(Baseline, Settle), Rollout);
        assert_eq!(Phase::of_load(Settle, Settle), Settle);
        assert_eq!(Phase::of_load(Run, Run), Run);
    }

    #[test]
    fn final_version_check() {
        let done = [load(1, Phase::Settle, "v2"), load(2, Phase::Settle, "v2")];
        assert!(check_final(&done, Phase::Settle, "v2").is_ok());
        let halfway = [load(1, Phase::Settle, "v2"), load(2, Phase::Settle, "v1")];
        let err = check_final(&halfway, Phase::Settle, "v2").unwrap_err();
        assert!(err.contains("still serving v1"), "{err}");
        let wrong = [load(1, Phase::Settle, "v3")];
        assert!(
            check_final(&wrong, Phase::Settle, "v2")
                .unwrap_err()
                .starts_with("served v3")
        );
    }
}
