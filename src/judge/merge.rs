//! Combines the reports of several probers (shards) that watched the same site at the same time
//! into one report with one verdict. Time is aligned by wall clock: every shard's loads and
//! failures keep their Unix timestamps, and phases become the union of the shards' spans.
//!
//! Summaries are rebuilt with the recorder's own counters ([`SliceCounts`]) from the shards'
//! loads and failing resources; verdicts, checks and notes come from the same assembly as a
//! single run's ([`assemble`]).

use super::assemble::{self, Parts};
use super::population::PopulationParts;
use super::recorder::{Limits, SliceCounts};
use super::{baseline, cached, retention};
use crate::error::UsageError;
use crate::model::{
    Certificates, Check, DeployRecord, Failure, Kind, Load, LoadDetail, Phase, PhaseSpan,
    ProberStats, Report, SCHEMA_VERSION, Settings, Truncation, phase_spans,
};

/// One input: where it came from (for messages and notes) and the report itself.
pub struct Shard {
    pub name: String,
    pub report: Report,
}

/// The merged report, or why the shards cannot be merged (a usage error: exit 2).
pub fn merge(shards: Vec<Shard>) -> Result<Report, UsageError> {
    let Some(first) = shards.first() else {
        return Err(UsageError(
            "nothing to merge: give one or more JSON reports".into(),
        ));
    };
    check_mergeable(first, &shards)?;

    let mut settings = first.report.settings.clone();
    settings.target = first.report.target.clone();
    settings.workers = shards.iter().map(|s| s.report.settings.workers).sum();
    (settings.certificates, settings.trusted_certs) = loosest_certificates(&shards);
    // Shards may have reached the site at different addresses: the merged report names each.
    settings.resolve = Vec::new();
    for pin in shards.iter().flat_map(|s| &s.report.settings.resolve) {
        if !settings.resolve.contains(pin) {
            settings.resolve.push(pin.clone());
        }
    }
    let started_at_ms = shards
        .iter()
        .map(|s| s.report.started_at_ms)
        .min()
        .unwrap_or(0);
    let finished_at_ms = shards
        .iter()
        .map(|s| s.report.finished_at_ms)
        .max()
        .unwrap_or(0);

    let (loads, failures, details) = renumbered(&shards);
    let spans = phase_spans(&shards_spans(&shards));
    let counts = |phase| slice_counts(&shards, &loads, phase);
    let secs = |a: u64, b: u64| b.saturating_sub(a) as f64 / 1000.0;
    let phases: Vec<_> = spans
        .into_iter()
        .map(|span| {
            let summary = counts(Some(span.phase)).summary(
                loads.iter().filter(|l| l.phase == span.phase),
                secs(span.started_at_ms, span.ended_at_ms),
            );
            (span, summary)
        })
        .collect();
    let summary = counts(None).summary(loads.iter(), secs(started_at_ms, finished_at_ms));

    let deploys: Vec<&DeployRecord> = shards
        .iter()
        .filter_map(|s| s.report.deploy.as_ref())
        .collect();
    let deploy = deploys.first().map(|d| (*d).clone());
    let notes = merged_notes(&shards, &settings, &deploys);
    Ok(assemble::assemble(Parts {
        checks: shard_checks(&shards, &settings),
        notes,
        started_at_ms,
        finished_at_ms,
        interrupted: shards.iter().any(|s| s.report.interrupted),
        summary,
        phases,
        deploy,
        prober: prober_stats(&shards),
        truncated: truncation(&shards),
        retention: merged_retention(&shards),
        pods: super::pods::merge(
            &shards
                .iter()
                .filter_map(|s| s.report.pods.as_ref())
                .collect::<Vec<_>>(),
        ),
        settings,
        loads,
        failures,
        details,
        populations: Kind::ALL
            .into_iter()
            .filter_map(|kind| Some((kind, merged_population(&shards, kind)?)))
            .collect(),
    }))
}

/// Every shard's users of one population, counted together.
fn merged_population(shards: &[Shard], kind: Kind) -> Option<PopulationParts> {
    let max = Limits::default().max_failures;
    shards
        .iter()
        .filter_map(|s| s.report.population(kind))
        .map(PopulationParts::of)
        .reduce(|mut all, next| {
            all.add(next, max);
            all
        })
}

/// The shards' retention findings as one (gone wins); its check is assembled again from it.
fn merged_retention(shards: &[Shard]) -> Option<crate::model::Retention> {
    let found: Vec<&crate::model::Retention> = shards
        .iter()
        .filter_map(|s| s.report.retention.as_ref())
        .collect();
    retention::merge(&found)
}

/// Shards merge into one verdict only if they watched the same target under the same SLO.
fn check_mergeable(first: &Shard, shards: &[Shard]) -> Result<(), UsageError> {
    for shard in shards {
        let r = &shard.report;
        if r.schema_version != SCHEMA_VERSION {
            return Err(UsageError(format!(
                "{} has schema_version {}, this rollprobe reads {SCHEMA_VERSION}",
                shard.name, r.schema_version
            )));
        }
        if r.target != first.report.target {
            return Err(UsageError(format!(
                "{} probed {}, {} probed {}: shards must probe the same target",
                first.name, first.report.target, shard.name, r.target
            )));
        }
        let slos = |s: &Settings| (s.slo, s.slo_by_phase.clone(), s.count_pre_existing);
        if slos(&r.settings) != slos(&first.report.settings) {
            return Err(UsageError(format!(
                "{} and {} were judged by different SLOs or pre-existing policies ({:?} and {:?}): one verdict needs one rule",
                first.name,
                shard.name,
                slos(&first.report.settings),
                slos(&r.settings)
            )));
        }
    }

    Ok(())
}

/// Every shard's loads, failures and details, one list each. Load ids and worker numbers are
/// only unique within a shard: each shard is shifted past the previous ones.
fn renumbered(shards: &[Shard]) -> (Vec<Load>, Vec<Failure>, Vec<LoadDetail>) {
    let mut loads = Vec::new();
    let mut failures = Vec::new();
    let mut details = Vec::new();
    let (mut id_offset, mut worker_offset) = (0u64, 0usize);
    for shard in shards {
        let r = &shard.report;
        loads.extend(r.loads.iter().cloned().map(|mut l| {
            l.id += id_offset;
            l.worker += worker_offset;
            l
        }));
        failures.extend(r.failures.iter().cloned().map(|mut f| {
            f.load_id += id_offset;
            f
        }));
        details.extend(r.failed_load_details.iter().cloned().map(|mut d| {
            d.load_id += id_offset;
            d
        }));
        let max_id = r
            .loads
            .iter()
            .map(|l| l.id)
            .chain(r.failures.iter().map(|f| f.load_id))
            .chain(r.failed_load_details.iter().map(|d| d.load_id))
            .max();
        id_offset += max_id.map_or(0, |m| m + 1);
        let max_worker = r.loads.iter().map(|l| l.worker + 1).max().unwrap_or(0);
        worker_offset += max_worker.max(r.settings.workers);
    }
    loads.sort_by(|a, b| {
        let end = |l: &Load| l.started_at_ms as f64 + l.duration_ms;
        end(a).total_cmp(&end(b)).then(a.id.cmp(&b.id))
    });
    failures.sort_by_key(|f| (f.at_unix_ms, f.load_id));

    (loads, failures, details)
}

/// A slice's counters (the whole run, or one phase) from the merged loads and the shards'
/// failure counts and failing resources.
fn slice_counts(shards: &[Shard], loads: &[Load], phase: Option<Phase>) -> SliceCounts {
    let max_resources = Limits::default().max_resources;
    let mut t = SliceCounts::default();
    for l in loads.iter().filter(|l| phase.is_none_or(|p| l.phase == p)) {
        t.count_load(l);
    }
    for summary in shards.iter().filter_map(|s| match phase {
        None => Some(&s.report.summary),
        Some(p) => s
            .report
            .phases
            .iter()
            .find(|r| r.phase == p)
            .map(|r| &r.summary),
    }) {
        for (class, n) in &summary.failures_by_class {
            t.count_failures(*class, *n);
        }
        for r in &summary.failing_resources {
            t.count_resource(r.clone(), max_resources);
        }
    }
    t
}

fn shards_spans(shards: &[Shard]) -> Vec<PhaseSpan> {
    shards
        .iter()
        .flat_map(|s| &s.report.phases)
        .map(|p| PhaseSpan {
            phase: p.phase,
            started_at_ms: p.started_at_ms,
            ended_at_ms: p.ended_at_ms,
        })
        .collect()
}

/// Checks other than the final version (which is checked again on all loads): each passes only
/// if it passed in every shard that ran it.
/// Certificates as loosely as the loosest shard checked them: a merged report never claims
/// more checking than its loads had.
fn loosest_certificates(shards: &[Shard]) -> (Certificates, Vec<String>) {
    let loosest = shards
        .iter()
        .map(|s| s.report.settings.certificates)
        .max()
        .unwrap_or_default();
    let mut trusted: Vec<String> = Vec::new();
    if loosest == Certificates::Trusted {
        for cert in shards.iter().flat_map(|s| &s.report.settings.trusted_certs) {
            if !trusted.contains(cert) {
                trusted.push(cert.clone());
            }
        }
    }
    (loosest, trusted)
}

fn shard_checks(shards: &[Shard], settings: &Settings) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for shard in shards {
        for c in &shard.report.checks {
            // Decided again on the merged counts.
            let decided_again = (c.name.starts_with("final version is ")
                && settings.expect_version.is_some())
                || Kind::ALL.iter().any(|k| c.name == k.check())
                || [cached::CHECK, cached::KEPT_CHECK].contains(&c.name.as_str());
            if decided_again {
                continue;
            }
            // Assembled again from the merged retention findings.
            if c.name == retention::CHECK_NAME {
                continue;
            }
            match checks.iter_mut().find(|k| k.name == c.name) {
                Some(k) if !c.passed => {
                    if k.passed {
                        k.passed = false;
                        k.message = format!("{}: {}", shard.name, c.message);
                    } else {
                        k.message = format!("{}; {}: {}", k.message, shard.name, c.message);
                    }
                }
                Some(_) => {}
                None => checks.push(Check {
                    message: if c.passed {
                        c.message.clone()
                    } else {
                        format!("{}: {}", shard.name, c.message)
                    },
                    ..c.clone()
                }),
            }
        }
    }
    checks
}

fn merged_notes(shards: &[Shard], settings: &Settings, deploys: &[&DeployRecord]) -> Vec<String> {
    let mut notes = vec![format!(
        "merged from {} shard(s): {}",
        shards.len(),
        shards
            .iter()
            .map(|s| format!("{} ({} loads)", s.name, s.report.summary.loads))
            .collect::<Vec<_>>()
            .join(", ")
    )];
    if shards
        .iter()
        .any(|s| s.report.settings.expect_version != settings.expect_version)
    {
        notes.push(format!(
            "the shards expected different final versions; checked {}",
            settings.expect_version.as_deref().unwrap_or("none")
        ));
    }
    if deploys.len() > 1 && deploys.iter().any(|d| **d != *deploys[0]) {
        notes.push(format!(
            "{} shards recorded a deploy command; the report shows the first",
            deploys.len()
        ));
    }
    for note in shards.iter().flat_map(|s| &s.report.notes) {
        // The comparison is made again on the merged loads, and says its own.
        let redone = note.starts_with(baseline::NOTE_PREFIX);
        if !notes.contains(note) && !note.starts_with("merged from ") && !redone {
            notes.push(note.clone());
        }
    }
    notes
}

fn prober_stats(shards: &[Shard]) -> ProberStats {
    let sum = |f: fn(&ProberStats) -> u64| shards.iter().map(|s| f(&s.report.prober)).sum();
    let mut browsers: Vec<String> = shards
        .iter()
        .filter_map(|s| s.report.prober.browser.clone())
        .collect();
    browsers.dedup();
    ProberStats {
        // Shards on different browsers say so.
        browser: (!browsers.is_empty()).then(|| browsers.join(", ")),
        browser_relaunches: shards
            .iter()
            .map(|s| s.report.prober.browser_relaunches)
            .sum(),
        browser_outages: shards
            .iter()
            .flat_map(|s| s.report.prober.browser_outages.iter().copied())
            .collect(),
        abandoned_loads: sum(|p| p.abandoned_loads),
        skipped_starts: sum(|p| p.skipped_starts),
        cpu_saturated_s: sum(|p| p.cpu_saturated_s),
        // Each shard ramped on its own machine: its own report has its steps.
        worker_steps: Vec::new(),
    }
}

fn truncation(shards: &[Shard]) -> Truncation {
    let sum = |f: fn(&Truncation) -> u64| shards.iter().map(|s| f(&s.report.truncated)).sum();
    let sum_max = |f: fn(&Truncation) -> usize| shards.iter().map(|s| f(&s.report.truncated)).sum();
    Truncation {
        max_failures: sum_max(|t| t.max_failures),
        failures_dropped: sum(|t| t.failures_dropped),
        max_detailed_loads: sum_max(|t| t.max_detailed_loads),
        detailed_loads_dropped: sum(|t| t.detailed_loads_dropped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::fixtures;

    fn shard(name: &str) -> Shard {
        Shard {
            name: format!("{name}.json"),
            report: fixtures::report(name),
        }
    }

    #[test]
    fn shards_add_up_to_one_verdict_with_unique_load_ids() {
        let (steady, naive) = (shard("steady"), shard("naive"));
        let (a, b) = (steady.report.clone(), naive.report.clone());
        let merged = merge(vec![steady, naive]).unwrap();
        assert_eq!(merged.summary.loads, a.summary.loads + b.summary.loads);
        assert_eq!(merged.summary.failed, a.summary.failed + b.summary.failed);
        assert_eq!(merged.failures.len(), a.failures.len() + b.failures.len());
        let mut ids: Vec<u64> = merged.loads.iter().map(|l| l.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), merged.loads.len(), "load ids stay unique");
        assert_eq!(merged.verdict.exit_code, 1, "{}", merged.verdict.reason);
        assert_eq!(
            merged.settings.workers,
            a.settings.workers + b.settings.workers
        );
        assert!(merged.notes[0].starts_with("merged from 2 shard(s): steady.json"));
        let missing: u64 = merged
            .summary
            .failing_resources
            .iter()
            .map(|r| r.count)
            .sum();
        let alone: u64 = b.summary.failing_resources.iter().map(|r| r.count).sum();
        assert_eq!(missing, alone, "only the naive shard failed");
    }

    #[test]
    fn one_shard_merges_to_its_own_verdict_and_phases() {
        let alone = fixtures::report("failing-baseline");
        let merged = merge(vec![shard("failing-baseline")]).unwrap();
        assert_eq!(merged.verdict, alone.verdict);
        assert_eq!(merged.checks, alone.checks);
        let phases = |r: &Report| {
            r.phases
                .iter()
                .map(|p| (p.phase, p.started_at_ms, p.ended_at_ms, p.verdict.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(phases(&merged), phases(&alone));
        // The comparison is made again on the merged loads, and said once.
        assert_eq!(merged.baseline, alone.baseline);
        let said = |r: &Report| {
            r.notes
                .iter()
                .filter(|n| n.starts_with(baseline::NOTE_PREFIX))
                .count()
        };
        assert_eq!(said(&merged), said(&alone));
        assert!(said(&alone) > 0);
    }

    #[test]
    fn the_merged_report_checked_certificates_as_loosely_as_its_loosest_shard() {
        let mut trusting = shard("naive");
        trusting.report.settings.certificates = Certificates::Trusted;
        trusting.report.settings.trusted_certs =
            vec!["c.pem: CN=staging (spki sha256/AAAA)".into()];
        let merged = merge(vec![shard("steady"), trusting]).unwrap();
        assert_eq!(merged.settings.certificates, Certificates::Trusted);
        assert_eq!(merged.settings.trusted_certs.len(), 1);
        let mut insecure = shard("naive");
        insecure.report.settings.certificates = Certificates::Insecure;
        let merged = merge(vec![shard("steady"), insecure]).unwrap();
        assert_eq!(merged.settings.certificates, Certificates::Insecure);
        let merged = merge(vec![shard("steady"), shard("naive")]).unwrap();
        assert_eq!(merged.settings.certificates, Certificates::Checked);
    }

    #[test]
    fn retention_is_merged_and_checked_once_gone_winning() {
        use crate::model::{AssetRetention, Kept, Retention};
        let with = |kept: Kept| {
            let mut s = shard("steady");
            let mut r = Retention {
                required: true,
                attempts: 4,
                assets: vec![AssetRetention {
                    url: "http://a/assets/index-1.js".into(),
                    resource_type: "Script".into(),
                    expected_mime: None,
                    version: None,
                    kept,
                    needed_by: Vec::new(),
                    attempts: 4,
                    gone_attempts: if kept == Kept::Gone { 4 } else { 0 },
                    how: (kept == Kept::Gone).then(|| "404".into()),
                    answered_by: Vec::new(),
                }],
                ..Retention::default()
            };
            retention::sort_into_lists(&mut r);
            s.report.checks.extend(retention::check(&r));
            s.report.retention = Some(r);
            s
        };
        let merged = merge(vec![with(Kept::Served), with(Kept::Gone)]).unwrap();
        let r = merged.retention.as_ref().unwrap();
        assert_eq!(r.gone, ["http://a/assets/index-1.js"]);
        assert_eq!(r.assets[0].attempts, 8);
        let checks: Vec<_> = merged
            .checks
            .iter()
            .filter(|c| c.name == retention::CHECK_NAME)
            .collect();
        assert_eq!(checks.len(), 1, "{checks:?}");
        assert!(checks[0].fails_run());
        assert_eq!(merged.verdict.exit_code, 1, "{}", merged.verdict.reason);
    }

    #[test]
    fn shards_of_other_sites_or_slos_do_not_merge() {
        let mut other = shard("naive");
        other.report.target = "http://127.0.0.1:1/".into();
        let e = merge(vec![shard("steady"), other]).unwrap_err();
        assert!(e.0.contains("same target"), "{}", e.0);
        let mut strict = shard("naive");
        strict.report.settings.slo.min_success_percent = 99.0;
        let e = merge(vec![shard("steady"), strict]).unwrap_err();
        assert!(e.0.contains("different SLOs"), "{}", e.0);
        assert!(merge(Vec::new()).is_err());
    }
}
