//! The judge: turns observations into failures, verdicts and the report. Pure: no I/O, no
//! clock, no browser, so every decision here is tested on recorded fixtures.
//!
//! - [`classify`]: one load's failures and outcome, and which classes count;
//! - [`recorder`]: digests loads as they arrive, within bounded memory;
//! - [`baseline`]: around a deploy, what it changed: each failure against the baseline's;
//! - [`verdict`]: a phase's verdict against its SLO, and the run's;
//! - [`versions`]: the versions served over time, the mixed window, the final version;
//! - [`retention`]: the old version's assets to check after a deployment, and the check;
//! - [`assemble`]: the one report assembly, for a run ([`run_report`]) and a [`merge`].

pub mod assemble;
pub mod baseline;
pub mod cached;
pub mod causes;
pub mod classify;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod merge;
pub mod pods;
pub mod population;
pub mod recorder;
pub mod retained;
pub mod retention;
pub mod verdict;
pub mod versions;

use crate::model::{
    CpuSample, FailureClass, ProberStats, Report, Retention, RunFacts, RunRecord, Settings,
};
use assemble::Parts;
use recorder::{Limits, Recorded, Recorder};

/// Busy share of all cores above which the machine counts as saturated.
const SATURATED: f64 = 0.95;

/// The report of a finished run, from what its recorder kept, the run's facts and what the
/// retention check found after it.
pub fn run_report(
    settings: Settings,
    facts: RunFacts,
    recorded: Recorded,
    retention: Option<Retention>,
) -> Report {
    let mut failures = recorded.failures;
    if let Some(r) = &retention {
        cached::explain(&mut failures, &r.past_cache);
    }
    let saturated_s = facts.cpu.iter().filter(|s| s.busy >= SATURATED).count() as u64;
    let mut suspect_timeouts = 0;
    for f in failures
        .iter_mut()
        .filter(|f| f.class == FailureClass::Timeout)
    {
        if saturated_at(&facts.cpu, f.at_unix_ms) {
            f.diagnosis = Some(
                "possibly self-inflicted: the prober's CPU was saturated when this load ran out of time"
                    .into(),
            );
            suspect_timeouts += 1;
        }
    }
    let mut notes: Vec<String> = facts.browser_fault.iter().cloned().collect();
    if let Some(d) = &facts.deploy {
        notes.extend(assemble::deploy_notes(d, &recorded.loads));
    }
    if suspect_timeouts > 0 {
        notes.push(format!(
            "the prober's machine was CPU-saturated for {saturated_s} s; {suspect_timeouts} timeout(s) in those seconds are marked as possibly self-inflicted: use fewer --workers"
        ));
    }
    let header = settings.pod_header.as_deref();
    let pods = pods::assemble(recorded.pods, facts.pod_events.as_ref(), header);
    assemble::assemble(Parts {
        pods,
        populations: recorded.populations,
        settings,
        started_at_ms: facts.started_at_ms,
        finished_at_ms: facts.finished_at_ms,
        interrupted: facts.interrupted,
        summary: recorded.summary,
        phases: recorded.phases,
        checks: recorded.start_document.iter().map(|d| d.check()).collect(),
        notes,
        deploy: facts.deploy,
        prober: ProberStats {
            browser: facts.browser,
            browser_relaunches: facts.browser_outages.len() as u32,
            browser_outages: facts.browser_outages,
            abandoned_loads: facts.abandoned_in_flight + recorded.abandoned,
            skipped_starts: facts.skipped_starts,
            cpu_saturated_s: saturated_s,
            worker_steps: facts.worker_steps,
        },
        loads: recorded.loads,
        failures,
        details: recorded.details,
        truncated: recorded.truncated,
        retention,
    })
}

/// A saved run judged again, exactly as the run judged it.
pub fn judge_record(record: &RunRecord) -> Report {
    let settings = Settings {
        target: record.target.clone(),
        ..record.settings.clone()
    };
    let mut recorder = Recorder::new(&settings, Limits::default(), record.label_urls);
    for obs in &record.observations {
        recorder.record(obs.clone());
    }
    let recorded = recorder.finish(record.facts.duration_s, &record.facts.phases);
    run_report(
        settings,
        record.facts.clone(),
        recorded,
        record.retention.clone(),
    )
}

/// Whether the machine was saturated in the second of `unix_ms` (or the one before, since a
/// slow load is slowed before it times out).
fn saturated_at(samples: &[CpuSample], unix_ms: u64) -> bool {
    let s = unix_ms / 1000;
    samples
        .iter()
        .any(|x| (x.unix_s == s || x.unix_s + 1 == s) && x.busy >= SATURATED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Phase;

    #[test]
    fn saturation_covers_the_second_and_the_one_after() {
        let samples = [
            CpuSample {
                unix_s: 10,
                busy: 0.99,
            },
            CpuSample {
                unix_s: 11,
                busy: 0.2,
            },
        ];
        assert!(saturated_at(&samples, 10_500));
        assert!(saturated_at(&samples, 11_200));
        assert!(!saturated_at(&samples, 12_100));
    }

    /// A run saved by a version whose runner missed a deploy that fast has rollout loads and no
    /// rollout span: the rollout takes its loads' times, and the summary shows them.
    #[test]
    fn a_phase_without_a_span_takes_the_times_of_its_loads() {
        let mut record = fixtures::record("failing-baseline");
        record.settings.count_pre_existing = true;
        record.facts.phases.retain(|s| s.phase != Phase::Rollout);
        let rollout_loads = || {
            (record.observations.iter())
                .filter(|o| o.phase == Phase::Rollout)
                .map(|o| (o.started_at_ms, o.started_at_ms + o.duration_ms as u64))
        };
        let first = rollout_loads().map(|(start, _)| start).min().unwrap();
        let last = rollout_loads().map(|(_, end)| end).max().unwrap();

        let report = judge_record(&record);
        let rollout = (report.phases.iter())
            .find(|p| p.phase == Phase::Rollout)
            .unwrap();
        assert_eq!((rollout.started_at_ms, rollout.ended_at_ms), (first, last));
        let time_of = crate::report::text::time_of;
        let span = format!("{} .. {}", time_of(first), time_of(last));
        let text = crate::report::text::render(&report);
        assert!(
            text.lines()
                .any(|l| l.contains("rollout") && l.ends_with(&span)),
            "{span:?} in\n{text}"
        );
    }
}
