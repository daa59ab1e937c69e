//! Open tabs as their own population: each round judged like a load, counted per phase,
//! judged against the open tabs' SLO, and one check the verdict includes.

use std::collections::BTreeMap;

use super::baseline::Counted;
use super::classify::{self, Rules};
use super::verdict::{self, Counting};
use crate::model::{
    Check, Comparison, FailureClass, OpenTabs, Outcome, Phase, Settings, Slo, Status, Summary,
    TabFailure, TabPhase, TabRound,
};

pub const CHECK: &str = "open tabs keep working across the deploy";

/// Open tabs before their verdicts: what a run's rounds, or merged shards, add up to.
#[derive(Clone, Debug, Default)]
pub struct TabParts {
    pub tabs: usize,
    pub every_s: f64,
    pub phases: BTreeMap<Phase, Summary>,
    pub failures: Vec<TabFailure>,
}

impl TabParts {
    /// Back from a report's open tabs (for a merge).
    pub fn of(tabs: &OpenTabs) -> TabParts {
        TabParts {
            tabs: tabs.tabs,
            every_s: tabs.every_s,
            phases: tabs
                .phases
                .iter()
                .map(|p| {
                    let summary = Summary {
                        loads: p.rounds,
                        ok: p.ok,
                        failed: p.failed,
                        prober_errors: p.prober_errors,
                        failed_loads_by_class: p.failed_rounds_by_class.clone(),
                        ..Summary::default()
                    };
                    (p.phase, summary)
                })
                .collect(),
            failures: tabs.failures.clone(),
        }
    }

    /// Adds another shard's tabs.
    pub fn add(&mut self, other: TabParts, max_failures: usize) {
        self.tabs += other.tabs;
        self.every_s = self.every_s.max(other.every_s);
        for (phase, s) in other.phases {
            let mine = self.phases.entry(phase).or_default();
            mine.loads += s.loads;
            mine.ok += s.ok;
            mine.failed += s.failed;
            mine.prober_errors += s.prober_errors;
            for (class, n) in s.failed_loads_by_class {
                *mine.failed_loads_by_class.entry(class).or_default() += n;
            }
        }
        let room = max_failures.saturating_sub(self.failures.len());
        self.failures.extend(other.failures.into_iter().take(room));
        self.failures.sort_by_key(|f| f.at_unix_ms);
    }
}

/// Digests rounds as they arrive.
pub struct TabsRecorder {
    rules: Rules,
    parts: TabParts,
    max_failures: usize,
}

impl TabsRecorder {
    pub fn new(settings: &Settings, tabs: usize, every_s: f64, max_failures: usize) -> Self {
        TabsRecorder {
            rules: Rules::of(settings),
            parts: TabParts {
                tabs,
                every_s,
                ..TabParts::default()
            },
            max_failures,
        }
    }

    pub fn take(&mut self, round: TabRound) {
        let obs = &round.observation;
        // A Ctrl-C reaches Chromium too: a tab it cut short says nothing.
        if obs.after_interrupt && obs.prober_error.is_some() {
            return;
        }
        let judgement = classify::judge(obs, &self.rules);
        let s = self.parts.phases.entry(obs.phase).or_default();
        s.loads += 1;
        match judgement.outcome {
            Outcome::Ok => s.ok += 1,
            Outcome::Failed => s.failed += 1,
            Outcome::ProberError => s.prober_errors += 1,
        }
        let classes = judgement.counted_classes(&self.rules);
        for class in classes {
            *s.failed_loads_by_class.entry(class).or_default() += 1;
        }
        if judgement.outcome != Outcome::Failed {
            return;
        }
        let counted = judgement
            .failures
            .into_iter()
            .filter(|f| self.rules.counts(f.class));
        for f in counted {
            if self.parts.failures.len() >= self.max_failures {
                break;
            }
            self.parts.failures.push(TabFailure {
                tab: round.tab,
                round: round.round,
                phase: f.phase,
                class: f.class,
                url: f.url,
                status: f.status,
                error: f.error,
                at_unix_ms: f.at_unix_ms,
                opened_at_ms: round.opened_at_ms,
                opened_on: round.opened_on.clone(),
                answered_by: f.version,
                message: f.message,
            });
        }
    }

    pub fn finish(self) -> TabParts {
        self.parts
    }
}

/// A phase's failed rounds split as the comparison with the baseline splits loads: those with
/// a failure that counts, and those failing only as the baseline's loads did.
fn recount(
    phase: Phase,
    s: &Summary,
    failures: &[TabFailure],
    counts: impl Fn(&TabFailure) -> bool,
) -> Counted {
    let mut rounds: BTreeMap<(usize, u32), Vec<&TabFailure>> = BTreeMap::new();
    for f in failures.iter().filter(|f| f.phase == phase) {
        rounds.entry((f.tab, f.round)).or_default().push(f);
    }
    // Failed rounds whose failures the report's bound left out count, as nothing excuses them.
    let mut out = Counted {
        failed: s.failed.saturating_sub(rounds.len() as u64),
        ..Counted::default()
    };
    for fs in rounds.values() {
        let mut classes: Vec<FailureClass> =
            fs.iter().filter(|f| counts(f)).map(|f| f.class).collect();
        if classes.is_empty() {
            out.pre_existing_only += 1;
            continue;
        }
        out.failed += 1;
        classes.sort();
        classes.dedup();
        for class in classes {
            *out.failed_by_class.entry(class).or_default() += 1;
        }
    }
    out
}

/// The open tabs' section and its check: each phase judged against the open tabs' SLO,
/// against the baseline as the loads are when `against` is given.
pub fn assemble(parts: TabParts, slo: &Slo, against: Option<&Comparison>) -> (OpenTabs, Check) {
    let counts = |f: &TabFailure| against.is_none_or(|c| c.counts(Some(f.phase), f.class, &f.url));
    let mut counted_failed = Vec::new();
    let phases: Vec<TabPhase> = parts
        .phases
        .into_iter()
        .map(|(phase, s)| {
            let counted = match against {
                Some(_) => recount(phase, &s, &parts.failures, counts),
                None => Counted::all(&s),
            };
            counted_failed.push(counted.failed);
            TabPhase {
                phase,
                rounds: s.loads,
                ok: s.ok,
                failed: s.failed,
                prober_errors: s.prober_errors,
                failed_rounds_by_class: s.failed_loads_by_class.clone(),
                verdict: verdict::decide_counting(&s, &counted, slo, Counting::Rounds),
                pre_existing_only: counted.pre_existing_only,
            }
        })
        .collect();
    let failing: Vec<String> = phases
        .iter()
        .zip(&counted_failed)
        .filter(|(p, _)| p.verdict.status == Status::Fail)
        .map(|(p, n)| format!("{n} of {} rounds failed in {}", p.rounds, p.phase))
        .collect();
    let rounds: u64 = phases.iter().map(|p| p.rounds).sum();
    let failed: u64 = counted_failed.iter().sum();
    let message = match parts.failures.iter().find(|f| counts(f)) {
        Some(first) if !failing.is_empty() => format!(
            "{}; first: a tab running {} asked for {} ({})",
            failing.join(", "),
            first.runs(),
            first.url,
            first.class
        ),
        _ if rounds == 0 => "no round was made: the run ended before the tabs opened".to_string(),
        _ if phases.iter().all(|p| p.ok + p.failed == 0) => {
            format!("no round said anything about the site: all {rounds} were the prober's faults")
        }
        _ => format!(
            "{} tabs, {rounds} rounds, {failed} failed (within the SLO){}",
            parts.tabs,
            match phases.iter().map(|p| p.pre_existing_only).sum::<u64>() {
                0 => String::new(),
                n => format!("; {n} more failed only as the baseline's loads did (not counted)"),
            }
        ),
    };
    let check = Check {
        name: CHECK.to_string(),
        passed: failing.is_empty(),
        message,
        warning: false,
    };
    let tabs = OpenTabs {
        tabs: parts.tabs,
        every_s: parts.every_s,
        phases,
        failures: parts.failures,
    };
    (tabs, check)
}
