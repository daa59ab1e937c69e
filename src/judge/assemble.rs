//! One report assembly for a single run and for a merge: phase verdicts, checks, notes and the
//! run's verdict are decided here, from summaries already counted.

use std::collections::BTreeMap;

use super::baseline::{self, Against, Counted};
use super::population::{self, PopulationParts};
use super::{cached, causes, pods, retention, verdict, versions};
use crate::model::{
    Check, DeployRecord, EXIT_INCONCLUSIVE, Failure, Kind, Load, LoadDetail, Phase, PhaseReport,
    PhaseSpan, Pods, Population, ProberStats, Report, Retention, SCHEMA_VERSION, Settings, Status,
    Summary, Truncation, Verdict,
};

/// A report before its verdicts: what a run's recorder kept, or what merged shards add up to.
pub struct Parts {
    /// The settings the loads were judged by, `target` included.
    pub settings: Settings,
    pub started_at_ms: u64,
    pub finished_at_ms: u64,
    pub interrupted: bool,
    pub summary: Summary,
    /// Each phase of the run, in phase order (one without loads is inconclusive).
    pub phases: Vec<(PhaseSpan, Summary)>,
    /// Checks decided elsewhere (a merge's shards); the final version and retention are
    /// checked here.
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
    pub deploy: Option<DeployRecord>,
    pub prober: ProberStats,
    pub loads: Vec<Load>,
    pub failures: Vec<Failure>,
    pub details: Vec<LoadDetail>,
    pub truncated: Truncation,
    pub populations: BTreeMap<Kind, PopulationParts>,
    /// What the retention check found, when it ran (or why it did not).
    pub retention: Option<Retention>,
    pub pods: Option<Pods>,
}

const BASELINE_FAILED: &str =
    "the baseline already failed: the site was failing before the deployment started";

/// What the phases' verdicts rest on: a baseline that already failed, a phase with too few
/// loads to say much.
fn evidence_notes(phases: &[PhaseReport], notes: &mut Vec<String>) {
    let baseline_failed = phases
        .iter()
        .any(|ph| ph.phase == Phase::Baseline && ph.verdict.status == Status::Fail);
    if baseline_failed && !notes.iter().any(|n| n == BASELINE_FAILED) {
        notes.push(BASELINE_FAILED.to_string());
    }
    for ph in phases {
        let judged = ph.summary.judged();
        if (1..verdict::MIN_EVIDENCE_LOADS).contains(&judged) {
            notes.push(format!(
                "thin evidence: the {} verdict rests on {judged} load(s), fewer than {}: probe longer or with more --workers",
                ph.phase,
                verdict::MIN_EVIDENCE_LOADS
            ));
        }
    }
}

/// Each phase judged against its SLO, counting what `against` says it counts (all failures
/// without it). A baseline that cannot vouch is inconclusive.
fn judge_phases(
    spans: Vec<(PhaseSpan, Summary)>,
    settings: &Settings,
    against: Option<&Against>,
) -> (Vec<PhaseReport>, Counted) {
    let mut all = Counted::default();
    let phases = spans
        .into_iter()
        .map(|(span, summary)| {
            let counted = against.map_or_else(|| Counted::all(&summary), |a| a.counted(span.phase));
            all.add(&counted);
            let mut verdict = verdict::decide(&summary, &counted, &settings.slo_for(span.phase));
            if let Some(why) = against.and_then(|a| a.comparison.cannot_vouch.as_ref()) {
                verdict = unvouched(verdict, span.phase, &counted, &summary, why);
            }
            PhaseReport {
                phase: span.phase,
                started_at_ms: span.started_at_ms,
                ended_at_ms: span.ended_at_ms,
                verdict,
                pre_existing_only: counted.pre_existing_only,
                summary,
            }
        })
        .collect();
    (phases, all)
}

/// A phase's verdict when the baseline cannot vouch for the site: only a clear change decides,
/// and failing as the baseline did proves nothing either way.
fn unvouched(
    verdict: Verdict,
    phase: Phase,
    counted: &Counted,
    summary: &Summary,
    why: &str,
) -> Verdict {
    let reason = match phase {
        _ if verdict.status != Status::Pass => return verdict,
        Phase::Baseline => why.to_string(),
        _ if counted.pre_existing_only > 0 => format!(
            "{} of {} loads failed only as the baseline did, and the baseline cannot vouch for the site",
            counted.pre_existing_only, summary.loads
        ),
        _ => return verdict,
    };
    Verdict {
        status: Status::Inconclusive,
        exit_code: EXIT_INCONCLUSIVE,
        reason,
    }
}

pub fn assemble(p: Parts) -> Report {
    let settings = p.settings;
    let phase_list: Vec<Phase> = p.phases.iter().map(|(span, _)| span.phase).collect();
    let against = baseline::compare(&phase_list, &p.loads, settings.count_pre_existing);
    let (phases, counted) = judge_phases(p.phases, &settings, against.as_ref());
    let mut checks: Vec<Check> = final_version_check(&settings, &phases, &p.loads)
        .into_iter()
        .collect();
    checks.extend(p.checks);
    checks.extend(cached::check(&p.failures, &settings));
    let mut populations: BTreeMap<Kind, Population> = BTreeMap::new();
    for (kind, parts) in p.populations {
        let slo = settings.slo_of(kind).unwrap_or_default();
        let against = against.as_ref().map(|a| &a.comparison);
        let (population, check) = population::assemble(kind, parts, &slo, against);
        checks.push(check);
        populations.insert(kind, population);
    }
    let mut notes = p.notes;
    if let Some(r) = &p.retention {
        checks.extend(retention::check(r));
        checks.extend(cached::kept_check(r));
        add_new(&mut notes, retention::note(r));
    }
    evidence_notes(&phases, &mut notes);
    let causes = causes::diagnose(&p.failures, p.pods.as_ref(), &settings);
    let blamed = p.failures.iter().any(|f| settings.counts(f.class));
    add_new(&mut notes, pods::notes(p.pods.as_ref(), blamed));
    if let Some(a) = &against {
        notes.extend(baseline::notes(&a.comparison));
    }
    let failed_checks: Vec<String> = checks
        .iter()
        .filter(|c| c.fails_run())
        .map(|c| c.message.clone())
        .collect();
    let phase_verdicts: Vec<(Phase, Verdict)> = phases
        .iter()
        .map(|ph| (ph.phase, ph.verdict.clone()))
        .collect();
    let verdict = verdict::overall(
        &phase_verdicts,
        (&p.summary, &counted),
        &failed_checks,
        p.deploy.as_ref().map(|d| d.exit_code.unwrap_or(-1)),
    );
    Report {
        open_tabs: populations.remove(&Kind::OpenTabs),
        returning_users: populations.remove(&Kind::ReturningUsers),
        schema_version: SCHEMA_VERSION,
        tool: format!("rollprobe {}", env!("CARGO_PKG_VERSION")),
        target: settings.target.clone(),
        settings,
        started_at_ms: p.started_at_ms,
        finished_at_ms: p.finished_at_ms,
        interrupted: p.interrupted,
        verdict,
        summary: p.summary,
        phases,
        checks,
        notes,
        deploy: p.deploy,
        versions: versions::analyse(&p.loads),
        baseline: against.map(|a| a.comparison),
        retention: p.retention,
        pods: p.pods,
        causes,
        prober: p.prober,
        loads: p.loads,
        failures: p.failures,
        failed_load_details: p.details,
        truncated: p.truncated,
    }
}

/// Notes not there yet: a merge already carries its shards' notes.
fn add_new(notes: &mut Vec<String>, new: impl IntoIterator<Item = String>) {
    for note in new {
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
}

/// "final version is V", when a version is expected: judged on the loads of the last phase.
fn final_version_check(
    settings: &Settings,
    phases: &[PhaseReport],
    loads: &[Load],
) -> Option<Check> {
    let expected = settings.expect_version.as_ref()?;
    let final_phase = phases.last().map_or(Phase::Run, |p| p.phase);
    let result = versions::check_final(loads, final_phase, expected);
    Some(Check {
        name: format!("final version is {expected}"),
        passed: result.is_ok(),
        message: result.unwrap_or_else(|e| e),
        warning: false,
    })
}

/// The deploy command's exit status against what was actually served after it.
pub fn deploy_notes(deploy: &DeployRecord, loads: &[Load]) -> Vec<String> {
    let before: Vec<String> = versions::served_in(loads, Phase::Baseline)
        .into_iter()
        .map(|(v, _)| v)
        .collect();
    let after = versions::served_in(loads, Phase::Settle);
    let new: Vec<&str> = after
        .iter()
        .map(|(v, _)| v.as_str())
        .filter(|v| !before.iter().any(|b| b == v))
        .collect();
    let mut notes = Vec::new();
    match deploy.exit_code {
        Some(0) if !before.is_empty() && !after.is_empty() && new.is_empty() => {
            notes.push(format!(
                "the deploy command succeeded, but the old version {} is still what is served",
                before.join(", ")
            ))
        }
        Some(0) => {}
        code => {
            let how = code.map_or("was killed".to_string(), |c| format!("failed (exit {c})"));
            // Without a baseline version there is no telling old from new.
            if new.is_empty() || before.is_empty() {
                notes.push(format!("the deploy command {how}"));
            } else {
                notes.push(format!(
                    "the deploy command {how}, yet the new version {} is being served",
                    new.join(", ")
                ));
            }
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use crate::judge::fixtures::{self, NAMES};

    /// The reports each recorded run wrote itself are what judging its observations again gives.
    #[test]
    fn recorded_runs_judge_to_the_reports_they_wrote() {
        for name in NAMES {
            let report = fixtures::report(name);
            let json = serde_json::to_string_pretty(&report).unwrap() + "\n";
            assert_eq!(
                json,
                fixtures::text(name, "report.json"),
                "{name}: JSON report"
            );
            let xml = String::from_utf8(crate::report::junit::render(&report).unwrap()).unwrap();
            assert_eq!(xml, fixtures::text(name, "junit.xml"), "{name}: JUnit");
            assert_eq!(
                crate::report::text::render(&report),
                fixtures::text(name, "summary.txt"),
                "{name}: text summary"
            );
        }
    }

    #[test]
    fn a_failing_baseline_is_named_in_the_verdict_and_the_notes() {
        let r = fixtures::absolute_report("failing-baseline");
        assert_eq!(r.verdict.exit_code, 1);
        assert!(
            r.verdict
                .reason
                .starts_with("failing before the deployment started")
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.starts_with("the baseline already failed"))
        );
        let phases: Vec<_> = r.phases.iter().map(|p| p.phase.as_str()).collect();
        assert_eq!(phases, ["baseline", "rollout", "settle"]);
        assert_eq!(r.checks[0].name, "final version is v2");
    }

    /// The rollout began during the baseline: it served two versions, so it cannot vouch for
    /// the site, and what failed as it did proves nothing either way.
    #[test]
    fn a_baseline_that_served_two_versions_cannot_vouch() {
        use crate::model::{Phase, Status};
        let r = fixtures::report("failing-baseline");
        let c = r.baseline.as_ref().expect("judged against the baseline");
        assert_eq!(
            c.cannot_vouch.as_deref(),
            Some(
                "the baseline already served v1 and v2: a rollout was under way before the deploy command started"
            )
        );
        let status = |p: Phase| {
            r.phases
                .iter()
                .find(|x| x.phase == p)
                .unwrap()
                .verdict
                .status
        };
        assert_eq!(status(Phase::Baseline), Status::Inconclusive);
        assert_eq!(status(Phase::Rollout), Status::Inconclusive);
        assert_eq!(status(Phase::Settle), Status::Pass);
        // What does decide is the old assets gone after the rollout.
        assert_eq!(r.verdict.exit_code, 1);
        assert!(
            r.verdict.reason.contains("assets of v1, v2 are gone"),
            "{}",
            r.verdict.reason
        );
    }

    #[test]
    fn every_phase_gets_its_own_verdict_against_its_own_slo() {
        use crate::model::{Phase, Slo, Status};
        let mut record = fixtures::record("failing-baseline");
        record.settings.count_pre_existing = true;
        // Allow the baseline its failures, and nothing else.
        record.settings.slo_by_phase.insert(
            Phase::Baseline,
            Slo {
                min_success_percent: 0.0,
                max_failed_loads: None,
            },
        );
        let r = crate::judge::judge_record(&record);
        let status = |p: Phase| {
            r.phases
                .iter()
                .find(|x| x.phase == p)
                .unwrap()
                .verdict
                .status
        };
        assert_eq!(status(Phase::Baseline), Status::Pass);
        assert_eq!(status(Phase::Rollout), Status::Fail);
        assert!(
            !r.verdict.reason.starts_with("failing before"),
            "{}",
            r.verdict.reason
        );
    }
}
