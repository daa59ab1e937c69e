//! Open tabs as their own population: each round judged like a load, counted per phase,
//! judged against the open tabs' SLO, and one check the verdict includes.

use std::collections::BTreeMap;

use super::classify::{self, Rules};
use super::verdict::{self, Counting};
use crate::model::{
    Check, OpenTabs, Outcome, Phase, Settings, Slo, Status, Summary, TabFailure, TabPhase, TabRound,
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

/// The open tabs' section and its check: each phase judged against the open tabs' SLO.
pub fn assemble(parts: TabParts, slo: &Slo) -> (OpenTabs, Check) {
    let phases: Vec<TabPhase> = parts
        .phases
        .into_iter()
        .map(|(phase, s)| TabPhase {
            phase,
            rounds: s.loads,
            ok: s.ok,
            failed: s.failed,
            prober_errors: s.prober_errors,
            failed_rounds_by_class: s.failed_loads_by_class.clone(),
            verdict: verdict::decide_counting(&s, slo, Counting::Rounds),
        })
        .collect();
    let failing: Vec<String> = phases
        .iter()
        .filter(|p| p.verdict.status == Status::Fail)
        .map(|p| format!("{} of {} rounds failed in {}", p.failed, p.rounds, p.phase))
        .collect();
    let rounds: u64 = phases.iter().map(|p| p.rounds).sum();
    let failed: u64 = phases.iter().map(|p| p.failed).sum();
    let message = match parts.failures.first() {
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
            "{} tabs, {rounds} rounds, {failed} failed (within the SLO)",
            parts.tabs
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
