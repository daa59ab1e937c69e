//! Combines the reports of several probers (shards) that watched the same site at the same time
//! into one report with one verdict. Time is aligned by wall clock: every shard's loads and
//! failures keep their Unix timestamps, and phases become the union of the shards' spans.
//!
//! Summaries are rebuilt with the recorder's own counters ([`crate::recorder::Tally`]) from the
//! shards' loads and failing resources, verdicts with [`verdict::decide`] and
//! [`verdict::overall`], versions with [`versions::analyse`], the final-version check with
//! [`versions::check_final`].

use std::collections::BTreeMap;

use crate::error::UsageError;
use crate::model::Phase;
use crate::recorder::{Limits, Tally};
use crate::verdict::{self, Status};
use crate::versions;

use super::{Check, PhaseReport, ProberStats, Report, SCHEMA_VERSION, Settings, Truncation};

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
    for shard in &shards {
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
        let slos = |s: &Settings| (s.slo, s.slo_by_phase.clone());
        if slos(&r.settings) != slos(&first.report.settings) {
            return Err(UsageError(format!(
                "{} and {} were judged by different SLOs ({:?} and {:?}): one verdict needs one SLO",
                first.name,
                shard.name,
                slos(&first.report.settings),
                slos(&r.settings)
            )));
        }
    }

    let mut settings = first.report.settings.clone();
    settings.workers = shards.iter().map(|s| s.report.settings.workers).sum();
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

    // Load ids and worker numbers are only unique within a shard: shift each shard past the
    // previous ones. Failures and details follow their loads.
    let mut loads = Vec::new();
    let mut failures = Vec::new();
    let mut details = Vec::new();
    let (mut id_offset, mut worker_offset) = (0u64, 0usize);
    for shard in &shards {
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
        let end = |l: &crate::model::Load| l.started_at_ms as f64 + l.duration_ms;
        end(a).total_cmp(&end(b)).then(a.id.cmp(&b.id))
    });
    failures.sort_by_key(|f| (f.at_unix_ms, f.load_id));

    // Phase spans: the union of the shards' spans of that phase.
    let mut spans: BTreeMap<Phase, (u64, u64)> = BTreeMap::new();
    for p in shards.iter().flat_map(|s| &s.report.phases) {
        let span = spans.entry(p.phase).or_insert((u64::MAX, 0));
        span.0 = span.0.min(p.started_at_ms);
        span.1 = span.1.max(p.ended_at_ms);
    }

    let max_resources = Limits::default().max_resources;
    let tally = |phase: Option<Phase>| {
        let mut t = Tally::default();
        for l in loads.iter().filter(|l| phase.is_none_or(|p| l.phase == p)) {
            t.count_load(l.outcome, &l.classes, l.requests as u64);
        }
        for shard in &shards {
            let summary = match phase {
                None => Some(&shard.report.summary),
                Some(p) => shard
                    .report
                    .phases
                    .iter()
                    .find(|r| r.phase == p)
                    .map(|r| &r.summary),
            };
            if let Some(s) = summary {
                for (class, n) in &s.failures_by_class {
                    t.count_failures(*class, *n);
                }
                for r in &s.failing_resources {
                    t.count_resource(r.clone(), max_resources);
                }
            }
        }
        t
    };
    let secs = |a: u64, b: u64| b.saturating_sub(a) as f64 / 1000.0;

    let phases: Vec<PhaseReport> = spans
        .iter()
        .map(|(&phase, &(start, end))| {
            let summary = tally(Some(phase))
                .summary(loads.iter().filter(|l| l.phase == phase), secs(start, end));
            PhaseReport {
                phase,
                started_at_ms: start,
                ended_at_ms: end,
                verdict: verdict::decide(&summary, &settings.slo_for(phase)),
                summary,
            }
        })
        .collect();
    let summary = tally(None).summary(loads.iter(), secs(started_at_ms, finished_at_ms));

    let deploys: Vec<&super::DeployRecord> = shards
        .iter()
        .filter_map(|s| s.report.deploy.as_ref())
        .collect();
    let deploy = deploys.first().map(|d| (*d).clone());

    // Checks: the final version is re-checked on all loads; any other check passes only if it
    // passed in every shard that ran it.
    let mut checks: Vec<Check> = super::final_version_check(&settings, &phases, &loads)
        .into_iter()
        .collect();
    for shard in &shards {
        for c in &shard.report.checks {
            if c.name.starts_with("final version is ") && settings.expect_version.is_some() {
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
        if !notes.contains(note) && !note.starts_with("merged from ") {
            notes.push(note.clone());
        }
    }

    let failed_checks: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.message.clone())
        .collect();
    let phase_verdicts: Vec<(Phase, verdict::Verdict)> = phases
        .iter()
        .map(|p| (p.phase, p.verdict.clone()))
        .collect();
    let verdict = verdict::overall(
        &phase_verdicts,
        &summary,
        &failed_checks,
        deploy.as_ref().map(|d| d.exit_code.unwrap_or(-1)),
    );
    if phases
        .iter()
        .any(|p| p.phase == Phase::Baseline && p.verdict.status == Status::Fail)
    {
        let note =
            "the baseline already failed: the site was failing before the deployment started";
        if !notes.iter().any(|n| n == note) {
            notes.push(note.to_string());
        }
    }

    let sum = |f: fn(&Truncation) -> u64| shards.iter().map(|s| f(&s.report.truncated)).sum();
    let truncated = Truncation {
        max_failures: shards.iter().map(|s| s.report.truncated.max_failures).sum(),
        failures_dropped: sum(|t| t.failures_dropped),
        max_detailed_loads: shards
            .iter()
            .map(|s| s.report.truncated.max_detailed_loads)
            .sum(),
        detailed_loads_dropped: sum(|t| t.detailed_loads_dropped),
    };

    Ok(Report {
        schema_version: SCHEMA_VERSION,
        tool: format!("rollprobe {}", env!("CARGO_PKG_VERSION")),
        target: first.report.target.clone(),
        settings,
        started_at_ms,
        finished_at_ms,
        interrupted: shards.iter().any(|s| s.report.interrupted),
        verdict,
        summary,
        phases,
        checks,
        notes,
        deploy,
        versions: versions::analyse(&loads),
        prober: ProberStats {
            browser_relaunches: shards
                .iter()
                .map(|s| s.report.prober.browser_relaunches)
                .sum(),
            browser_outages: shards
                .iter()
                .flat_map(|s| s.report.prober.browser_outages.iter().copied())
                .collect(),
            abandoned_loads: shards.iter().map(|s| s.report.prober.abandoned_loads).sum(),
            skipped_starts: shards.iter().map(|s| s.report.prober.skipped_starts).sum(),
            cpu_saturated_s: shards.iter().map(|s| s.report.prober.cpu_saturated_s).sum(),
        },
        loads,
        failures,
        failed_load_details: details,
        truncated,
    })
}
