//! What the deployment changed: around a deploy command, each later phase's failures are set
//! against the baseline's, resource by resource. A failure the baseline already had, at a rate
//! the later phase does not exceed beyond chance, is pre-existing: reported apart, not counted.
//! A new one, or one that rose, counts against the phase as any failure does.

use std::collections::{BTreeMap, BTreeSet};

use super::versions;
use crate::model::{
    Change, Compared, ComparedPhase, Comparison, FailedOn, FailureClass, Load, Outcome, Phase,
    Summary, p_shown,
};

/// A rise counts when chance alone would give one at least as large less than once in a
/// hundred baselines like this one.
pub const ALPHA: f64 = 0.01;

const TEST: &str = "one-sided Fisher exact test: a rate counts as risen at p < 0.01";

/// The failed loads a verdict counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counted {
    pub failed: u64,
    pub failed_by_class: BTreeMap<FailureClass, u64>,
    /// Failed, but only on what the baseline already failed on: not counted.
    pub pre_existing_only: u64,
}

impl Counted {
    /// Every failed load of the summary: the absolute verdict.
    pub fn all(s: &Summary) -> Counted {
        Counted {
            failed: s.failed,
            failed_by_class: s.failed_loads_by_class.clone(),
            pre_existing_only: 0,
        }
    }

    pub fn add(&mut self, other: &Counted) {
        self.failed += other.failed;
        self.pre_existing_only += other.pre_existing_only;
        for (class, n) in &other.failed_by_class {
            *self.failed_by_class.entry(*class).or_default() += n;
        }
    }
}

/// The comparison, and what each phase counts by it.
pub struct Against {
    pub comparison: Comparison,
    counted: BTreeMap<Phase, Counted>,
}

impl Against {
    pub fn counted(&self, phase: Phase) -> Counted {
        self.counted.get(&phase).cloned().unwrap_or_default()
    }
}

type Key = (FailureClass, String);

fn key(f: &FailedOn) -> Key {
    (f.class, f.url.clone())
}

/// Loads that said something about the site.
fn judged(loads: &[Load], phase: Phase) -> impl Iterator<Item = &Load> {
    loads
        .iter()
        .filter(move |l| l.phase == phase && l.outcome != Outcome::ProberError)
}

/// Per resource and class, how many of a phase's judged loads failed on it.
fn rates(loads: &[Load], phase: Phase) -> (u64, BTreeMap<Key, u64>) {
    let mut n = 0;
    let mut by_key: BTreeMap<Key, u64> = BTreeMap::new();
    for load in judged(loads, phase) {
        n += 1;
        let keys: BTreeSet<Key> = load.failed_on.iter().map(key).collect();
        for k in keys {
            *by_key.entry(k).or_default() += 1;
        }
    }
    (n, by_key)
}

/// The comparison around a deploy command (`phases` has a baseline), unless pre-existing
/// failures count as any other (`count_pre_existing`): then None, and every failure counts.
pub fn compare(phases: &[Phase], loads: &[Load], count_pre_existing: bool) -> Option<Against> {
    if count_pre_existing || !phases.contains(&Phase::Baseline) {
        return None;
    }
    let (base_n, base) = rates(loads, Phase::Baseline);
    let later: Vec<(Phase, u64, BTreeMap<Key, u64>)> = phases
        .iter()
        .filter(|p| **p > Phase::Baseline)
        .map(|p| {
            let (n, by_key) = rates(loads, *p);
            (*p, n, by_key)
        })
        .collect();
    let keys: BTreeSet<&Key> = base
        .keys()
        .chain(later.iter().flat_map(|(_, _, k)| k.keys()))
        .collect();
    let mut failures: Vec<Compared> = keys
        .into_iter()
        .map(|k| {
            let b = base.get(k).copied().unwrap_or(0);
            let phases = later
                .iter()
                .map(|(phase, n, by_key)| {
                    let x = by_key.get(k).copied().unwrap_or(0);
                    compared_phase(*phase, (b, base_n), (x, *n))
                })
                .collect();
            Compared {
                class: k.0,
                url: k.1.clone(),
                baseline: b,
                phases,
            }
        })
        .collect();
    failures.sort_by(|a, b| {
        let total = |c: &Compared| c.phases.iter().map(|p| p.failed).sum::<u64>();
        b.pre_existing()
            .cmp(&a.pre_existing())
            .then(b.baseline.cmp(&a.baseline))
            .then(total(b).cmp(&total(a)))
            .then(a.url.cmp(&b.url))
    });
    let counted = phases
        .iter()
        .map(|p| (*p, counted(loads, *p, &failures)))
        .collect();
    Some(Against {
        comparison: Comparison {
            test: TEST.to_string(),
            baseline_loads: base_n,
            cannot_vouch: cannot_vouch(loads, base_n),
            failures,
        },
        counted,
    })
}

/// What a phase's `x` of `n` loads failing on a resource says against the baseline's `b` of
/// `base_n`.
fn compared_phase(phase: Phase, (b, base_n): (u64, u64), (x, n): (u64, u64)) -> ComparedPhase {
    let p_value = (b > 0).then(|| p_rise((b, base_n), (x, n)));
    let change = match p_value {
        None if x > 0 => Change::New,
        None => Change::Same,
        Some(p) if p < ALPHA => Change::Rose,
        // At least twice the baseline's rate (x/n >= 2 b/base_n, without division): a rise
        // that matters, on too few loads to tell from chance.
        Some(_) if x * base_n >= 2 * b * n => Change::Unclear,
        Some(_) => Change::Same,
    };
    ComparedPhase {
        phase,
        failed: x,
        of: n,
        p_value,
        change,
    }
}

/// A phase's failed loads split: those with a failure the deployment changed count, the others
/// failed only as the baseline did.
fn counted(loads: &[Load], phase: Phase, failures: &[Compared]) -> Counted {
    let changed: BTreeSet<(FailureClass, &str)> = failures
        .iter()
        .filter(|c| {
            c.phases
                .iter()
                .any(|p| p.phase == phase && p.change.counts())
        })
        .map(|c| (c.class, c.url.as_str()))
        .collect();
    let mut out = Counted::default();
    for load in judged(loads, phase).filter(|l| l.outcome == Outcome::Failed) {
        let mut classes: Vec<FailureClass> = load
            .failed_on
            .iter()
            .filter(|f| changed.contains(&(f.class, f.url.as_str())))
            .map(|f| f.class)
            .collect();
        if classes.is_empty() {
            out.pre_existing_only += 1;
            continue;
        }
        out.failed += 1;
        classes.dedup();
        for class in classes {
            *out.failed_by_class.entry(class).or_default() += 1;
        }
    }
    out
}

/// How every note of the comparison starts, so a merge can drop its shards' and say its own.
pub const NOTE_PREFIX: &str = "against the baseline: ";

/// What the comparison left out of the verdict, and rises too thin to tell from chance.
pub fn notes(c: &Comparison) -> Vec<String> {
    let mut notes = Vec::new();
    let kept = c
        .failures
        .iter()
        .filter(|f| f.pre_existing() && !f.changed())
        .count();
    if kept > 0 {
        notes.push(format!(
            "{NOTE_PREFIX}{kept} failure(s) the baseline already had, no more often after it, were not counted (each with its rates in the report's baseline section); --count-pre-existing counts them"
        ));
    }
    let unclear: Vec<String> = c
        .failures
        .iter()
        .flat_map(|f| f.phases.iter().map(move |p| (f, p)))
        .filter(|(_, p)| p.change == Change::Unclear)
        .map(|(f, p)| {
            format!(
                "{} {} in {} of {} {} loads against {} of {} baseline loads, {}",
                f.class,
                f.url,
                p.failed,
                p.of,
                p.phase,
                f.baseline,
                c.baseline_loads,
                p_shown(p.p_value.unwrap_or(1.0))
            )
        })
        .collect();
    if let Some(first) = unclear.first() {
        notes.push(format!(
            "{NOTE_PREFIX}{} pre-existing failure(s) were more frequent after the baseline, on too few loads to tell from chance (first: {first}): probe longer or with more --workers to tell",
            unclear.len()
        ));
    }
    notes
}

/// Why the baseline is no reference: nothing measured, the page itself failing on most loads,
/// or two versions served already (a rollout under way before the deploy command started).
fn cannot_vouch(loads: &[Load], base_n: u64) -> Option<String> {
    if base_n == 0 {
        return Some("no baseline load said anything about the site".to_string());
    }
    let broken = judged(loads, Phase::Baseline)
        .filter(|l| l.failed_on.iter().any(|f| f.page))
        .count() as u64;
    if broken * 2 > base_n {
        return Some(format!(
            "{broken} of {base_n} baseline loads failed on the page itself (its document did not load, or it never rendered): the deployment cannot be judged against such a baseline"
        ));
    }
    let served = versions::served_in(loads, Phase::Baseline);
    if served.len() > 1 {
        let names: Vec<&str> = served.iter().map(|(v, _)| v.as_str()).collect();
        return Some(format!(
            "the baseline already served {}: a rollout was under way before the deploy command started",
            names.join(" and ")
        ));
    }
    None
}

/// The one-sided Fisher exact test: the chance that a phase whose loads fail on a resource as
/// often as the baseline's would have `x` or more of its `n` loads fail on it, given `b` of
/// `base_n` in the baseline (the hypergeometric tail).
pub fn p_rise((b, base_n): (u64, u64), (x, n): (u64, u64)) -> f64 {
    let (all, failing) = (base_n + n, b + x);
    let ln_fact: Vec<f64> = std::iter::once(0.0)
        .chain((1..=all).scan(0.0, |acc, i| {
            *acc += (i as f64).ln();
            Some(*acc)
        }))
        .collect();
    let ln_choose =
        |m: u64, k: u64| ln_fact[m as usize] - ln_fact[k as usize] - ln_fact[(m - k) as usize];
    let whole = ln_choose(all, n);
    let p: f64 = (x..=failing.min(n))
        .map(|i| (ln_choose(failing, i) + ln_choose(all - failing, n - i) - whole).exp())
        .sum();
    p.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rise_beyond_chance_is_told_from_the_same_rate() {
        // The case: 1 of 20 before, 30 of 60 during the rollout.
        let p = p_rise((1, 20), (30, 60));
        assert!(p < 0.001, "{p}");
        // The same rate before and after is no rise at all.
        assert!(p_rise((1, 20), (3, 60)) > 0.5);
        assert!(p_rise((20, 20), (60, 60)) > 0.99);
        // A rise on a handful of loads is within chance.
        let thin = p_rise((1, 20), (2, 4));
        assert!((ALPHA..0.2).contains(&thin), "{thin}");
        // By hand: P(X >= 8), X hypergeometric with 20 loads, 9 failing, 10 drawn, is
        // (C(9,8) C(11,2) + C(9,9) C(11,1)) / C(20,10) = 506 / 184756.
        assert!((p_rise((1, 10), (8, 10)) - 506.0 / 184_756.0).abs() < 1e-9);
    }

    #[test]
    fn what_the_baseline_never_had_counts_in_every_phase() {
        use crate::model::{Change, ComparedPhase, Comparison};
        let url = "http://127.0.0.1:1/assets/index-old.js";
        let phase = |phase, failed, change| ComparedPhase {
            phase,
            failed,
            of: 10,
            p_value: None,
            change,
        };
        let compared = |baseline| Compared {
            class: FailureClass::MissingAsset,
            url: url.into(),
            baseline,
            phases: vec![
                phase(Phase::Rollout, 4, Change::New),
                phase(Phase::Settle, 0, Change::Same),
            ],
        };
        let c = |baseline| Comparison {
            test: String::new(),
            baseline_loads: 10,
            cannot_vouch: None,
            failures: vec![compared(baseline)],
        };
        // Fresh loads met it in the rollout only; an open tab asking for the old file in the
        // settle phase still meets what the deployment brought.
        assert!(c(0).counts(Some(Phase::Settle), FailureClass::MissingAsset, url));
        // What the baseline had, no more often in the settle phase, is not counted there.
        assert!(!c(2).counts(Some(Phase::Settle), FailureClass::MissingAsset, url));
    }
}
