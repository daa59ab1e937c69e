//! What caused the failures, from the evidence, with the fix the field reports give: hashed
//! assets missing across versions, pods taking traffic before they could serve, pods dying with
//! requests in flight, the ingress still routing to pods that had stopped. Each failure belongs
//! to one cause at most, each cause says how sure it is and why. With the pods' lives
//! (`--pod-events`) the timing is theirs; without, only what the answers themselves show.

use super::pods::{name_of, report_of};
use crate::model::{
    Cause, CauseKind, Failure, FailureClass, Phase, PodLife, PodReport, Pods, Settings, Sure,
};

/// How far from a pod's stop a connection it broke may be seen: the ingress's endpoint lag.
const NEAR_MS: u64 = 1500;
/// How late after a pod's readiness a failure of it may end and still be one it gave before.
const READY_SLACK_MS: u64 = 1000;

pub fn diagnose(failures: &[Failure], pods: Option<&Pods>, settings: &Settings) -> Vec<Cause> {
    let counted: Vec<&Failure> = failures
        .iter()
        .filter(|f| settings.counts(f.class))
        .collect();
    let reports: &[PodReport] = pods.map_or(&[], |p| &p.pods);
    let lives: Vec<&PodLife> = pods
        .and_then(|p| p.events.as_ref())
        .map(|e| e.lives.iter().collect())
        .unwrap_or_default();
    let mut left: Vec<&Failure> = counted.clone();
    let mut causes = Vec::new();
    let asset = |f: &Failure| {
        matches!(
            f.class,
            FailureClass::MissingAsset | FailureClass::WrongContent
        )
    };
    let skewed = take(&mut left, |f| {
        asset(f) && f.version.is_some() && f.page_version.is_some() && f.version != f.page_version
    });
    if !skewed.is_empty() {
        let of = counted.iter().filter(|f| asset(f)).count();
        let why = format!(
            "{} of {of} missing or wrong assets were answered by a backend of another version than their page's ({})",
            skewed.len(),
            versions(&skewed)
        );
        causes.push(cause(
            CauseKind::VersionSkew,
            Sure::Certain,
            why,
            &skewed,
            reports,
        ));
    }
    let gateway = counted.iter().filter(|f| gateway_or_refused(f)).count();
    for (kind, sure) in [
        (CauseKind::NotReady, Sure::Certain),
        (CauseKind::NotReady, Sure::Likely),
        (CauseKind::RoutedAfterStop, Sure::Certain),
        (CauseKind::RoutedAfterStop, Sure::Likely),
    ] {
        let cluster = take(&mut left, |f| {
            gateway_or_refused(f) && pod_timing(kind, sure, f, reports).is_some()
        });
        if let Some(why) = routed_why(kind, sure, &cluster, reports, gateway) {
            causes.push(cause(kind, sure, why, &cluster, reports));
        }
    }
    let broken = counted.iter().filter(|f| cut(f)).count();
    causes.extend(cut_off(&mut left, &lives, broken));
    causes
}

/// Connections broken mid-answer: by a pod told to stop just then (its events say which), or,
/// without the pods' lives, during the rollout.
fn cut_off(left: &mut Vec<&Failure>, lives: &[&PodLife], broken: usize) -> Vec<Cause> {
    let mut causes = Vec::new();
    let near: Vec<(&Failure, &PodLife)> =
        take(left, |f| cut(f) && stopped_near(lives, f).is_some())
            .into_iter()
            .filter_map(|f| Some((f, stopped_near(lives, f)?)))
            .collect();
    if !near.is_empty() {
        let mut names: Vec<&str> = near.iter().map(|(_, l)| l.pod.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let spread = near
            .iter()
            .map(|(f, l)| stop_of(l).abs_diff(f.at_unix_ms))
            .max();
        let why = format!(
            "{} of {broken} broken connections came within {} of {} being told to stop",
            near.len(),
            seconds(spread.unwrap_or(0)),
            names.join(", ")
        );
        let failures: Vec<&Failure> = near.iter().map(|(f, _)| *f).collect();
        let mut c = cause(CauseKind::NoDrain, Sure::Certain, why, &failures, &[]);
        c.pods = names.into_iter().map(str::to_string).collect();
        causes.push(c);
    }
    let rollout_cuts = take(left, |f| {
        cut(f) && lives.is_empty() && f.phase == Phase::Rollout
    });
    if !rollout_cuts.is_empty() {
        let why = format!(
            "{} of {broken} broken connections came during the rollout, none named a pod: with --pod-events the pods' stops would say which",
            rollout_cuts.len()
        );
        causes.push(cause(
            CauseKind::NoDrain,
            Sure::Likely,
            why,
            &rollout_cuts,
            &[],
        ));
    }
    causes
}

/// Moves the failures that match out of `left`.
fn take<'a>(left: &mut Vec<&'a Failure>, matches: impl Fn(&Failure) -> bool) -> Vec<&'a Failure> {
    let (taken, kept) = left.drain(..).partition(|f| matches(f));
    *left = kept;
    taken
}

fn cause(
    kind: CauseKind,
    sure: Sure,
    why: String,
    failures: &[&Failure],
    reports: &[PodReport],
) -> Cause {
    let (what, fix) = kind.words();
    let pods = names(failures, reports)
        .into_iter()
        .map(str::to_string)
        .collect();
    Cause {
        cause: kind,
        what: what.to_string(),
        fix: fix.to_string(),
        sure,
        why,
        failures: failures.len() as u64,
        pods,
    }
}

/// A gateway's error for a backend it could not use, or a refused connection.
fn gateway_or_refused(f: &Failure) -> bool {
    matches!(f.status, Some(502..=504))
        || f.error
            .as_deref()
            .is_some_and(|e| e.contains("CONNECTION_REFUSED"))
}

/// A connection broken mid-answer: reset, closed empty, cut short.
fn cut(f: &Failure) -> bool {
    f.class == FailureClass::NetworkError
        && f.error.as_deref().is_some_and(|e| {
            [
                "RESET",
                "EMPTY_RESPONSE",
                "CONTENT_LENGTH_MISMATCH",
                "INCOMPLETE_CHUNKED",
                "CONNECTION_CLOSED",
            ]
            .iter()
            .any(|k| e.contains(k))
        })
}

/// When a pod was told to stop (or was gone).
fn stop_of(l: &PodLife) -> u64 {
    l.stopping_at_ms.or(l.gone_at_ms).unwrap_or(u64::MAX)
}

/// The pod told to stop closest to a broken connection no answer named, within the lag.
fn stopped_near<'a>(lives: &[&'a PodLife], f: &Failure) -> Option<&'a PodLife> {
    lives
        .iter()
        .filter(|l| stop_of(l) != u64::MAX && stop_of(l).abs_diff(f.at_unix_ms) <= NEAR_MS)
        .min_by_key(|l| stop_of(l).abs_diff(f.at_unix_ms))
        .copied()
}

/// How far into (or past) the window that makes `f` a failure of `kind` it came, when it did:
/// before its pod was ready (or served at all), or after it stopped (or served for the last
/// time).
fn pod_timing(kind: CauseKind, sure: Sure, f: &Failure, reports: &[PodReport]) -> Option<u64> {
    let r = report_of(reports, f.pod.as_deref()?)?;
    let at = f.at_unix_ms;
    let life = &r.life;
    match (kind, sure) {
        (CauseKind::NotReady, Sure::Certain) => {
            let start = life.created_at_ms.or(life.routed_at_ms)?;
            // A failure is timed at its end, and Kubernetes writes times to the second.
            let ready = life.ready_at_ms? + READY_SLACK_MS;
            (at < ready && at + NEAR_MS >= start).then(|| at.saturating_sub(start))
        }
        (CauseKind::NotReady, Sure::Likely) => {
            // A pod that never served at all gave nothing but failures.
            let first = r.first_answer_ms?;
            let served = r.first_served_ms.unwrap_or(u64::MAX);
            (life.ready_at_ms.is_none() && at < served).then(|| at.saturating_sub(first))
        }
        (CauseKind::RoutedAfterStop, Sure::Certain) => {
            let stop = life.stopping_at_ms.or(life.gone_at_ms)?;
            (at >= stop).then(|| at - stop)
        }
        (CauseKind::RoutedAfterStop, Sure::Likely) => {
            let last = r.last_served_ms?;
            (life.stopping_at_ms.is_none() && at > last).then(|| at - last)
        }
        _ => None,
    }
}

/// Why a cluster of gateway errors is of `kind`, in words with its timing; None when empty.
fn routed_why(
    kind: CauseKind,
    sure: Sure,
    cluster: &[&Failure],
    reports: &[PodReport],
    of: usize,
) -> Option<String> {
    let first = cluster.first()?;
    let spread = cluster
        .iter()
        .filter_map(|f| pod_timing(kind, sure, f, reports))
        .max()
        .unwrap_or(0);
    let pods = names(cluster, reports);
    let answers = match first.status {
        Some(s) if cluster.iter().all(|f| f.status == Some(s)) => format!("{s}s"),
        _ => "failures".to_string(),
    };
    let (it, its) = if pods.len() > 1 {
        ("each", "each one's")
    } else {
        ("it", "its")
    };
    let spread = seconds(spread);
    let when = match (kind, sure) {
        (CauseKind::NotReady, Sure::Certain) => {
            format!("within {spread} after {it} started and before it was ready")
        }
        (CauseKind::NotReady, _) => {
            format!("within {spread} of {its} first answer, before it served anything")
        }
        (_, Sure::Certain) => format!("up to {spread} after {it} was told to stop"),
        _ => format!("up to {spread} after {its} last good answer"),
    };
    Some(format!(
        "{} of {of} gateway errors and refused connections ({answers}) came from {} {when}",
        cluster.len(),
        pods.join(", ")
    ))
}

/// The pods the failures' answers named, by their names.
fn names<'a>(failures: &[&'a Failure], reports: &'a [PodReport]) -> Vec<&'a str> {
    let mut pods: Vec<&str> = (failures.iter())
        .filter_map(|f| Some(name_of(reports, f.pod.as_deref()?)))
        .collect();
    pods.sort_unstable();
    pods.dedup();
    pods
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

/// `v1 for v2 pages`.
fn versions(failures: &[&Failure]) -> String {
    let mut pairs: Vec<String> = failures
        .iter()
        .filter_map(|f| {
            Some(format!(
                "{} for {} pages",
                f.version.as_ref()?,
                f.page_version.as_ref()?
            ))
        })
        .collect();
    pairs.sort();
    pairs.dedup();
    pairs.join(", ")
}
