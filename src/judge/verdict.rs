//! Pass, fail or inconclusive, per phase and for the run, and the exit code a pipeline acts on.

use super::baseline::Counted;
use crate::model::{
    EXIT_DEPLOY_FAILED, EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_SITE_FAILED, Phase, Slo, Status,
    Summary, Verdict,
};

/// Above this share of loads lost to the prober's own faults, a clean result proves little.
const MAX_PROBER_ERROR_SHARE: f64 = 0.2;

/// A phase whose verdict rests on fewer judged loads than this gets a "thin evidence" note: one
/// or two lucky loads can miss a mixed-version window of several seconds.
pub const MIN_EVIDENCE_LOADS: u64 = 5;

const NOTHING_MEASURED: &str = "no load finished: nothing was measured";

/// What a summary counts: page loads, or an open tab's rounds.
#[derive(Clone, Copy)]
pub enum Counting {
    Loads,
    Rounds,
}

impl Counting {
    fn noun(self) -> &'static str {
        match self {
            Counting::Loads => "load",
            Counting::Rounds => "round",
        }
    }
}

/// Met when the counted failures fit either allowance of the SLO: the percentage or the
/// absolute count.
fn slo_met(slo: &Slo, summary: &Summary, counted: &Counted) -> bool {
    let judged = summary.judged();
    let success = if judged == 0 {
        100.0
    } else {
        (judged - counted.failed) as f64 * 100.0 / judged as f64
    };
    counted.failed == 0
        || success >= slo.min_success_percent
        || slo
            .max_failed_loads
            .is_some_and(|max| counted.failed <= max)
}

/// What the verdict left out, after its reason: `; 12 more failed only as before the deployment`.
fn pre_existing_suffix(counted: &Counted, noun: &str) -> String {
    match counted.pre_existing_only {
        0 => String::new(),
        n => format!(
            "; {n} more {noun}{} failed only on what failed before the deployment (pre-existing, not counted)",
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn verdict(status: Status, exit_code: i32, reason: String) -> Verdict {
    Verdict {
        status,
        exit_code,
        reason,
    }
}

/// A phase's verdict on its loads, counting the failed ones `counted` says.
pub fn decide(summary: &Summary, counted: &Counted, slo: &Slo) -> Verdict {
    decide_counting(summary, counted, slo, Counting::Loads)
}

pub fn decide_counting(
    summary: &Summary,
    counted: &Counted,
    slo: &Slo,
    counting: Counting,
) -> Verdict {
    let noun = counting.noun();
    if counted.failed > 0 && !slo_met(slo, summary, counted) {
        let classes = counted
            .failed_by_class
            .iter()
            .map(|(class, n)| format!("{class}: {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        return verdict(
            Status::Fail,
            EXIT_SITE_FAILED,
            format!(
                "{} of {} {noun}s failed ({classes}){}",
                counted.failed,
                summary.loads,
                pre_existing_suffix(counted, noun)
            ),
        );
    }
    if summary.judged() == counted.failed {
        return verdict(
            Status::Inconclusive,
            EXIT_INCONCLUSIVE,
            if summary.loads == 0 {
                NOTHING_MEASURED.replace("load", noun)
            } else {
                format!("the prober failed on all {} {noun}s", summary.loads)
            },
        );
    }
    if summary.prober_errors as f64 > summary.loads as f64 * MAX_PROBER_ERROR_SHARE {
        return verdict(
            Status::Inconclusive,
            EXIT_INCONCLUSIVE,
            format!(
                "the prober failed on {} of {} {noun}s (over {:.0} %): too few good probes to vouch for the site",
                summary.prober_errors,
                summary.loads,
                MAX_PROBER_ERROR_SHARE * 100.0
            ),
        );
    }
    verdict(
        Status::Pass,
        EXIT_PASS,
        pass_reason(summary, counted, counting),
    )
}

fn pass_reason(summary: &Summary, counted: &Counted, counting: Counting) -> String {
    let noun = counting.noun();
    if counted.failed > 0 {
        format!(
            "{} of {} {noun}s failed, within the SLO{}",
            counted.failed,
            summary.loads,
            pre_existing_suffix(counted, noun)
        )
    } else if counted.pre_existing_only > 0 {
        format!(
            "no {noun} failed on what the deployment changed; {} of {} failed only on what failed before it (pre-existing, not counted)",
            counted.pre_existing_only, summary.loads
        )
    } else {
        format!("all {} {noun}s succeeded", summary.ok)
    }
}

/// The run's verdict from its phases, its checks and the deploy command. The site failing
/// outranks a failed deploy command, which outranks an inconclusive probe.
pub fn overall(
    phases: &[(Phase, Verdict)],
    (summary, counted): (&Summary, &Counted),
    failed_checks: &[String],
    deploy_exit: Option<i32>,
) -> Verdict {
    let failing: Vec<String> = phases
        .iter()
        .filter(|(_, v)| v.status == Status::Fail)
        .map(|(p, v)| {
            if phases.len() > 1 {
                format!("{p}: {}", v.reason)
            } else {
                v.reason.clone()
            }
        })
        .collect();
    if !failing.is_empty() || !failed_checks.is_empty() {
        let mut reasons = failing;
        reasons.extend(failed_checks.iter().cloned());
        let before = phases
            .iter()
            .any(|(p, v)| *p == Phase::Baseline && v.status == Status::Fail);
        let prefix = if before {
            "failing before the deployment started; "
        } else {
            ""
        };
        return verdict(
            Status::Fail,
            EXIT_SITE_FAILED,
            format!("{prefix}{}", reasons.join("; ")),
        );
    }
    if let Some(code) = deploy_exit.filter(|c| *c != 0) {
        return verdict(
            Status::Fail,
            EXIT_DEPLOY_FAILED,
            format!("the deploy command failed (exit {code}); the site itself passed"),
        );
    }
    if phases.is_empty() {
        return verdict(
            Status::Inconclusive,
            EXIT_INCONCLUSIVE,
            NOTHING_MEASURED.to_string(),
        );
    }
    if let Some((p, v)) = phases
        .iter()
        .find(|(_, v)| v.status == Status::Inconclusive)
    {
        let reason = if phases.len() > 1 {
            format!("{p}: {}", v.reason)
        } else {
            v.reason.clone()
        };
        return verdict(Status::Inconclusive, EXIT_INCONCLUSIVE, reason);
    }
    verdict(
        Status::Pass,
        EXIT_PASS,
        pass_reason(summary, counted, Counting::Loads),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(ok: u64, failed: u64, prober_errors: u64) -> Summary {
        Summary {
            loads: ok + failed + prober_errors,
            ok,
            failed,
            prober_errors,
            ..Summary::default()
        }
    }

    fn decide_all(summary: &Summary, slo: &Slo) -> Verdict {
        decide(summary, &Counted::all(summary), slo)
    }

    fn slo(percent: f64, max: Option<u64>) -> Slo {
        Slo {
            min_success_percent: percent,
            max_failed_loads: max,
        }
    }

    #[test]
    fn a_phase_passes_within_either_allowance_of_its_slo() {
        let one_in_a_hundred = summary(99, 1, 0);
        assert_eq!(decide_all(&one_in_a_hundred, &Slo::default()).exit_code, 1);
        assert_eq!(decide_all(&one_in_a_hundred, &slo(99.0, None)).exit_code, 0);
        assert_eq!(
            decide_all(&one_in_a_hundred, &slo(100.0, Some(1))).exit_code,
            0
        );
        let v = decide_all(&summary(90, 10, 0), &slo(99.0, Some(5)));
        assert_eq!(v.status, Status::Fail);
        assert!(
            v.reason.starts_with("10 of 100 loads failed"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn no_good_load_is_no_evidence() {
        let v = decide_all(&summary(0, 0, 0), &Slo::default());
        assert_eq!((v.status, v.exit_code), (Status::Inconclusive, 3));
        assert_eq!(v.reason, "no load finished: nothing was measured");
        let nothing = overall(&[], (&summary(0, 0, 0), &Counted::default()), &[], None);
        assert_eq!(
            (nothing.status, nothing.exit_code),
            (Status::Inconclusive, 3)
        );
        let v = decide_all(&summary(0, 0, 4), &Slo::default());
        assert_eq!(v.reason, "the prober failed on all 4 loads");
        // A fifth of the loads lost to the prober is the most a pass may carry.
        assert_eq!(
            decide_all(&summary(8, 0, 2), &Slo::default()).status,
            Status::Pass
        );
        assert_eq!(
            decide_all(&summary(7, 0, 3), &Slo::default()).status,
            Status::Inconclusive
        );
    }

    #[test]
    fn the_site_failing_outranks_a_failed_deploy_which_outranks_inconclusive() {
        let pass = decide_all(&summary(5, 0, 0), &Slo::default());
        let fail = decide_all(&summary(4, 1, 0), &Slo::default());
        let unsure = decide_all(&summary(0, 0, 2), &Slo::default());
        let all = summary(9, 1, 2);
        let phases = [
            (Phase::Rollout, fail.clone()),
            (Phase::Settle, unsure.clone()),
        ];
        assert_eq!(
            overall(&phases, (&all, &Counted::all(&all)), &[], Some(3)).exit_code,
            EXIT_SITE_FAILED
        );
        let phases = [(Phase::Rollout, pass.clone()), (Phase::Settle, unsure)];
        assert_eq!(
            overall(&phases, (&all, &Counted::all(&all)), &[], Some(3)).exit_code,
            EXIT_DEPLOY_FAILED
        );
        assert_eq!(
            overall(&phases, (&all, &Counted::all(&all)), &[], Some(0)).exit_code,
            EXIT_INCONCLUSIVE
        );
        let checks = ["final version: served v1".to_string()];
        let v = overall(
            &[(Phase::Settle, pass)],
            (&all, &Counted::all(&all)),
            &checks,
            Some(0),
        );
        assert_eq!(
            (v.exit_code, v.reason.as_str()),
            (1, "final version: served v1")
        );
    }
}
