//! The users who stay (open tabs, returning users), each population on its own: each round
//! judged like a load, counted per phase, judged against the population's SLO, and one check
//! the verdict includes.

use std::collections::BTreeMap;

use super::baseline::Counted;
use super::classify::{self, Rules};
use super::verdict::{self, Counting};
use crate::model::{
    Check, Comparison, FailureClass, Kind, Outcome, Phase, Population, PopulationFailure,
    PopulationPhase, Round, Settings, Slo, Source, Status, Summary,
};

/// A population before its verdicts: what a run's rounds, or merged shards, add up to.
#[derive(Clone, Debug, Default)]
pub struct PopulationParts {
    pub tabs: usize,
    pub every_s: f64,
    /// Rounds cut short by the stop.
    pub cut: u64,
    /// Per phase, its openings and rounds (`loads` counts both) ...
    pub phases: BTreeMap<Phase, Summary>,
    /// ... and of them, its openings ...
    pub openings: BTreeMap<Phase, u64>,
    /// ... and those whose document a service worker answered.
    pub from_service_worker: BTreeMap<Phase, u64>,
    pub failures: Vec<PopulationFailure>,
}

impl PopulationParts {
    /// Back from a report's population (for a merge).
    pub fn of(tabs: &Population) -> PopulationParts {
        PopulationParts {
            tabs: tabs.tabs,
            every_s: tabs.every_s,
            cut: tabs.cut,
            openings: tabs.phases.iter().map(|p| (p.phase, p.openings)).collect(),
            from_service_worker: (tabs.phases.iter())
                .map(|p| (p.phase, p.from_service_worker))
                .collect(),
            phases: tabs
                .phases
                .iter()
                .map(|p| {
                    let summary = Summary {
                        loads: p.openings + p.rounds,
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
    pub fn add(&mut self, other: PopulationParts, max_failures: usize) {
        self.tabs += other.tabs;
        self.every_s = self.every_s.max(other.every_s);
        self.cut += other.cut;
        for (phase, n) in other.openings {
            *self.openings.entry(phase).or_default() += n;
        }
        for (phase, n) in other.from_service_worker {
            *self.from_service_worker.entry(phase).or_default() += n;
        }
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
pub struct PopulationRecorder {
    rules: Rules,
    parts: PopulationParts,
    max_failures: usize,
}

impl PopulationRecorder {
    pub fn new(settings: &Settings, tabs: usize, every_s: f64, max_failures: usize) -> Self {
        PopulationRecorder {
            rules: Rules::of(settings),
            parts: PopulationParts {
                tabs,
                every_s,
                ..PopulationParts::default()
            },
            max_failures,
        }
    }

    pub fn take(&mut self, round: Round) {
        let obs = &round.observation;
        // A Ctrl-C reaches Chromium too: a round it cut short says nothing.
        if obs.after_interrupt && obs.prober_error.is_some() {
            self.parts.cut += 1;
            return;
        }
        let judgement = classify::judge(obs, &self.rules);
        if round.round == 0 {
            *self.parts.openings.entry(obs.phase).or_default() += 1;
        }
        let remembered = obs.requests.iter().any(|r| {
            r.resource_type == "Document"
                && matches!(
                    r.source,
                    Some(Source::ServiceWorker | Source::ServiceWorkerCache)
                )
        });
        if remembered {
            *self.parts.from_service_worker.entry(obs.phase).or_default() += 1;
        }
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
            self.parts.failures.push(PopulationFailure {
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
                runs: obs
                    .version
                    .clone()
                    .filter(|v| Some(v) != round.opened_on.as_ref()),
                answered_by: f.version,
                source: f.source,
                message: f.message,
            });
        }
    }

    /// Rounds in flight that the run's end cut short, so nothing of them reached the books.
    pub fn cut(&mut self, n: u64) {
        self.parts.cut += n;
    }

    pub fn finish(self) -> PopulationParts {
        self.parts
    }
}

/// A phase's failed rounds split as the comparison with the baseline splits loads: those with
/// a failure that counts, and those failing only as the baseline's loads did.
fn recount(
    phase: Phase,
    s: &Summary,
    failures: &[PopulationFailure],
    counts: impl Fn(&PopulationFailure) -> bool,
) -> Counted {
    let mut rounds: BTreeMap<(usize, u32), Vec<&PopulationFailure>> = BTreeMap::new();
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

/// A population's section and its check: each phase judged against its SLO, against the
/// baseline as the loads are when `against` is given.
pub fn assemble(
    kind: Kind,
    mut parts: PopulationParts,
    slo: &Slo,
    against: Option<&Comparison>,
) -> (Population, Check) {
    let counts =
        |f: &PopulationFailure| against.is_none_or(|c| c.counts(Some(f.phase), f.class, &f.url));
    let mut counted_failed = Vec::new();
    let phases: Vec<PopulationPhase> = std::mem::take(&mut parts.phases)
        .into_iter()
        .map(|(phase, s)| {
            let counted = match against {
                Some(_) => recount(phase, &s, &parts.failures, counts),
                None => Counted::all(&s),
            };
            counted_failed.push(counted.failed);
            let openings = parts.openings.get(&phase).copied().unwrap_or(0);
            PopulationPhase {
                phase,
                openings,
                rounds: s.loads - openings,
                from_service_worker: (parts.from_service_worker.get(&phase).copied()).unwrap_or(0),
                ok: s.ok,
                failed: s.failed,
                prober_errors: s.prober_errors,
                failed_rounds_by_class: s.failed_loads_by_class.clone(),
                verdict: verdict::decide_counting(&s, &counted, slo, Counting::Rounds),
                pre_existing_only: counted.pre_existing_only,
            }
        })
        .collect();
    let message = check_message(kind, &parts, &phases, &counted_failed, counts);
    let check = Check {
        name: kind.check().to_string(),
        passed: phases.iter().all(|p| p.verdict.status != Status::Fail),
        message,
        warning: false,
    };
    let population = Population {
        tabs: parts.tabs,
        every_s: parts.every_s,
        cut: parts.cut,
        phases,
        failures: parts.failures,
    };
    (population, check)
}

/// What the check found, in one line: the failing phases and the first counted failure, or
/// what the rounds add up to.
fn check_message(
    kind: Kind,
    parts: &PopulationParts,
    phases: &[PopulationPhase],
    counted_failed: &[u64],
    counts: impl Fn(&PopulationFailure) -> bool,
) -> String {
    let (user, round) = (kind.user(), kind.round());
    let failing: Vec<String> = phases
        .iter()
        .zip(counted_failed)
        .filter(|(p, _)| p.verdict.status == Status::Fail)
        .map(|(p, n)| {
            let of = p.openings + p.rounds;
            format!("{n} of {of} {round}s failed in {}", p.phase)
        })
        .collect();
    let opened: u64 = phases.iter().map(|p| p.openings).sum();
    let rounds: u64 = phases.iter().map(|p| p.rounds).sum();
    let failed: u64 = counted_failed.iter().sum();
    let cut = match parts.cut {
        0 => String::new(),
        n => format!("; {n} {round}(s) in flight were cut short by the stop"),
    };
    let message = match parts.failures.iter().find(|f| counts(f)) {
        // A step is not a request: what failed is the step, as it says.
        Some(first) if !failing.is_empty() && first.class == FailureClass::StepFailed => format!(
            "{}; first: a {user} running {}: {}",
            failing.join(", "),
            first.runs(),
            first.message
        ),
        Some(first) if !failing.is_empty() => format!(
            "{}; first: a {user} running {} asked for {} ({}{})",
            failing.join(", "),
            first.runs(),
            first.url,
            first.class,
            first
                .source
                .map(|s| format!(", {}", s.words()))
                .unwrap_or_default()
        ),
        _ if opened + rounds == 0 => {
            format!(
                "no {round} was made: the run ended before the {}",
                kind.title()
            )
        }
        _ if phases.iter().all(|p| p.ok + p.failed == 0) => format!(
            "no {round} said anything about the site: all {} were the prober's faults",
            opened + rounds
        ),
        _ => format!(
            "{} {}, {opened} {}(s) and {rounds} {round}(s) after, {failed} failed{}{}",
            parts.tabs,
            kind.title(),
            kind.opening(),
            if rounds == 0 {
                format!(
                    ": the run ended before a {round} was due (one every {} s)",
                    parts.every_s
                )
            } else {
                " (within the SLO)".to_string()
            },
            match phases.iter().map(|p| p.pre_existing_only).sum::<u64>() {
                0 => String::new(),
                n => format!("; {n} more failed only as the baseline's loads did (not counted)"),
            }
        ),
    };
    message + &cut
}
