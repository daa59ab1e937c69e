//! Digests observations as they arrive: judges each load, keeps what the reports need within
//! bounded memory, and publishes a snapshot for the live progress display.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::cached::{CacheSuspects, LongLived};
use super::classify::{self, Rules};
use super::pods::PodTallies;
use super::population::{PopulationParts, PopulationRecorder};
use super::retention::{AssetCollector, FRESH_USERS};
use crate::model::{
    FailingResource, Failure, FailureClass, Kind, Load, LoadDetail, Observation, OldAssets,
    Outcome, PastCache, Percentiles, Phase, PhaseSpan, PodReport, Request, Round, Settings,
    Summary, Truncation, phase_spans,
};

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_failures: usize,
    pub max_detailed_loads: usize,
    pub max_resources: usize,
    /// Distinct static assets of the first phase kept for the retention check.
    pub max_old_assets: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_failures: crate::defaults::MAX_FAILURES,
            max_detailed_loads: crate::defaults::MAX_DETAILED_LOADS,
            max_resources: crate::defaults::MAX_FAILING_RESOURCES,
            max_old_assets: crate::defaults::MAX_OLD_ASSETS,
        }
    }
}

/// What the progress line shows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Snapshot {
    pub loads: u64,
    pub ok: u64,
    pub failed: u64,
    pub prober_errors: u64,
    pub failed_by_class: BTreeMap<FailureClass, u64>,
}

/// Counters for one slice of the run (the whole run, or one phase). The merge feeds the loads
/// and failing resources of several shards through the same counters, so a merged summary is
/// built exactly like a recorded one.
#[derive(Default)]
pub struct SliceCounts {
    snapshot: Snapshot,
    failures_by_class: BTreeMap<FailureClass, u64>,
    resources: HashMap<(String, FailureClass, Option<u16>, Option<String>), FailingResource>,
    requests: u64,
    long_lived_requests: u64,
}

impl SliceCounts {
    fn count(&mut self, load: &Load, failures: &[Failure], limits: &Limits) {
        self.count_load(load);
        for failure in failures {
            self.count_failures(failure.class, 1);
            self.count_resource(
                FailingResource {
                    url: failure.url.clone(),
                    class: failure.class,
                    status: failure.status,
                    error: failure.error.clone(),
                    count: 1,
                    first_unix_ms: failure.at_unix_ms,
                    last_unix_ms: failure.at_unix_ms,
                    versions: failure.version.iter().cloned().collect(),
                },
                limits.max_resources,
            );
        }
    }

    /// One finished load: its outcome, the classes it failed with, its requests.
    pub fn count_load(&mut self, load: &Load) {
        let s = &mut self.snapshot;
        s.loads += 1;
        match load.outcome {
            Outcome::Ok => s.ok += 1,
            Outcome::Failed => s.failed += 1,
            Outcome::ProberError => s.prober_errors += 1,
        }
        for class in &load.classes {
            *s.failed_by_class.entry(*class).or_default() += 1;
        }
        self.requests += u64::from(load.requests);
        self.long_lived_requests += u64::from(load.long_lived_requests);
    }

    /// `n` individual failures of one class.
    pub fn count_failures(&mut self, class: FailureClass, n: u64) {
        *self.failures_by_class.entry(class).or_default() += n;
    }

    /// Adds `r`'s count, times and versions to the resource that failed the same way (same URL,
    /// class, status and error); past `max_resources` distinct resources new ones are dropped.
    pub fn count_resource(&mut self, r: FailingResource, max_resources: usize) {
        let key = (r.url.clone(), r.class, r.status, r.error.clone());
        if !self.resources.contains_key(&key) && self.resources.len() >= max_resources {
            return;
        }
        let entry = self
            .resources
            .entry(key)
            .or_insert_with(|| FailingResource {
                count: 0,
                versions: Vec::new(),
                ..r.clone()
            });
        entry.count += r.count;
        entry.first_unix_ms = entry.first_unix_ms.min(r.first_unix_ms);
        entry.last_unix_ms = entry.last_unix_ms.max(r.last_unix_ms);
        for v in r.versions {
            if !entry.versions.contains(&v) {
                entry.versions.push(v);
            }
        }
        entry.versions.sort();
    }

    pub fn summary<'a>(self, loads: impl Iterator<Item = &'a Load>, duration_s: f64) -> Summary {
        let s = self.snapshot;
        let load_ms = Percentiles::of(
            loads
                .filter(|l| l.outcome != Outcome::ProberError)
                .map(|l| l.duration_ms)
                .collect(),
        );
        let mut failing_resources: Vec<FailingResource> = self.resources.into_values().collect();
        failing_resources.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then(a.first_unix_ms.cmp(&b.first_unix_ms))
                .then(a.url.cmp(&b.url))
        });
        Summary {
            loads: s.loads,
            ok: s.ok,
            failed: s.failed,
            prober_errors: s.prober_errors,
            failed_loads_by_class: s.failed_by_class,
            failures_by_class: self.failures_by_class,
            requests: self.requests,
            long_lived_requests: self.long_lived_requests,
            duration_s,
            loads_per_s: if duration_s > 0.0 {
                s.loads as f64 / duration_s
            } else {
                0.0
            },
            load_ms,
            failing_resources,
        }
    }
}

pub struct Recorder {
    rules: Rules,
    /// Several start URLs: each load says which it opened.
    label_urls: bool,
    limits: Limits,
    overall: SliceCounts,
    phases: BTreeMap<Phase, SliceCounts>,
    /// Loads the prober lost to an interrupt: neither the site's nor the prober's fault.
    abandoned: u64,
    loads: Vec<Load>,
    failures: Vec<Failure>,
    details: Vec<LoadDetail>,
    truncated: Truncation,
    populations: BTreeMap<Kind, PopulationRecorder>,
    old_assets: AssetCollector,
    /// The longest-cacheable start document seen, when over the threshold.
    start_document: Option<LongLived>,
    past_cache: CacheSuspects,
    pods: PodTallies,
}

impl Recorder {
    pub fn new(settings: &Settings, limits: Limits, label_urls: bool) -> Recorder {
        Recorder {
            rules: Rules::of(settings),
            label_urls,
            limits,
            overall: SliceCounts::default(),
            abandoned: 0,
            phases: BTreeMap::new(),
            loads: Vec::new(),
            failures: Vec::new(),
            details: Vec::new(),
            old_assets: AssetCollector::new(limits.max_old_assets),
            truncated: Truncation {
                max_failures: limits.max_failures,
                max_detailed_loads: limits.max_detailed_loads,
                ..Truncation::default()
            },
            populations: BTreeMap::new(),
            start_document: None,
            past_cache: CacheSuspects::default(),
            pods: PodTallies::default(),
        }
    }

    /// The run has users who stay (open tabs, returning users), whose rounds are recorded too.
    pub fn with_population(
        mut self,
        settings: &Settings,
        kind: Kind,
        users: usize,
        every_s: f64,
    ) -> Recorder {
        let max = self.limits.max_failures;
        let recorder = PopulationRecorder::new(settings, users, every_s, max);
        self.populations.insert(kind, recorder);
        self
    }

    pub fn record_round(&mut self, round: Round) {
        // What the users who stay fetched from the old version (a lazy chunk a tab's step
        // imported, what a returning user's worker precached) is what they need kept.
        let who = round.population.title();
        self.old_assets.take(&round.observation, &self.rules, who);
        if let Some(population) = self.populations.get_mut(&round.population) {
            population.take(round);
        }
    }

    /// Rounds of `kind` in flight that the run's end cut short.
    pub fn cut_rounds(&mut self, kind: Kind, n: u64) {
        if let Some(population) = self.populations.get_mut(&kind) {
            population.cut(n);
        }
    }

    pub fn record(&mut self, obs: Observation) {
        if obs.after_interrupt && obs.prober_error.is_some() {
            // A terminal's Ctrl-C reaches Chromium too: loads it cut short say nothing about
            // the site or the prober.
            self.abandoned += 1;
            return;
        }
        self.old_assets.take(&obs, &self.rules, FRESH_USERS);
        let long_lived = LongLived::of(&obs);
        self.start_document = LongLived::longest(self.start_document.take(), long_lived);
        let judgement = classify::judge(&obs, &self.rules);
        let classes = judgement.counted_classes(&self.rules);
        let failed_on = judgement.failed_on(&self.rules);
        let distinct = |of: fn(&Request) -> &Option<String>| {
            let set: BTreeSet<String> = obs.requests.iter().filter_map(|r| of(r).clone()).collect();
            set.into_iter().collect::<Vec<String>>()
        };
        let (served_by, pods) = (distinct(|r| &r.version), distinct(|r| &r.pod));
        let load = Load {
            id: obs.id,
            worker: obs.worker,
            phase: obs.phase,
            url: self.label_urls.then(|| obs.url.clone()),
            started_at_ms: obs.started_at_ms,
            duration_ms: obs.duration_ms,
            outcome: judgement.outcome,
            classes,
            failed_on,
            requests: obs.requests.len() as u32,
            long_lived_requests: obs
                .requests
                .iter()
                .filter(|r| r.long_lived && !self.rules.ignore.matches(&r.url))
                .count() as u32,
            version: obs.version.clone(),
            served_by,
            pods,
            artifacts: obs.artifacts.clone(),
            dialogs: obs.dialogs.clone(),
        };
        for tally in [&mut self.overall, self.phases.entry(obs.phase).or_default()] {
            tally.count(&load, &judgement.failures, &self.limits);
        }

        let rules = &self.rules;
        (self.past_cache).take(&obs, &judgement.failures, |f| rules.counts(f.class));
        self.pods.take(&obs, &judgement.failures, &self.rules);
        let room = self.limits.max_failures.saturating_sub(self.failures.len());
        let dropped = judgement.failures.len().saturating_sub(room);
        self.truncated.failures_dropped += dropped as u64;
        self.failures
            .extend(judgement.failures.into_iter().take(room));

        if judgement.outcome == Outcome::Failed {
            if self.details.len() < self.limits.max_detailed_loads {
                self.details.push(LoadDetail {
                    load_id: obs.id,
                    requests: obs.requests.clone(),
                    js_errors: obs.js_errors.clone(),
                });
            } else {
                self.truncated.detailed_loads_dropped += 1;
            }
        }

        self.loads.push(load);
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.overall.snapshot
    }

    /// Everything recorded, ready for the report: the whole run and each phase it had, with
    /// loads or without (a phase without a finished load is judged as having no evidence).
    pub fn finish(mut self, duration_s: f64, spans: &[PhaseSpan]) -> Recorded {
        let loads = self.loads;
        let spans = phase_spans(spans);
        for span in &spans {
            self.phases.entry(span.phase).or_default();
        }
        let phases = self
            .phases
            .into_iter()
            .map(|(phase, counts)| {
                // A load can belong to a phase whose span the runner never saw (a run saved by
                // a version whose phase watch skipped a deploy that fast): its failures still
                // count, and its loads' own times stand in for the span.
                let span = (spans.iter().find(|s| s.phase == phase).cloned())
                    .unwrap_or_else(|| loads_span(phase, &loads));
                let span_s = span.ended_at_ms.saturating_sub(span.started_at_ms) as f64 / 1000.0;
                let summary = counts.summary(loads.iter().filter(|l| l.phase == phase), span_s);
                (span, summary)
            })
            .collect();
        Recorded {
            summary: self.overall.summary(loads.iter(), duration_s),
            abandoned: self.abandoned,
            phases,
            loads,
            failures: self.failures,
            details: self.details,
            truncated: self.truncated,
            populations: (self.populations.into_iter())
                .map(|(kind, p)| (kind, p.finish()))
                .collect(),
            old_assets: self.old_assets.finish(),
            start_document: self.start_document,
            past_cache: self.past_cache.finish(),
            pods: self.pods.finish(),
        }
    }
}

/// From the first start to the last end of the loads in `phase`.
fn loads_span(phase: Phase, loads: &[Load]) -> PhaseSpan {
    let of_phase = loads.iter().filter(|l| l.phase == phase);
    let started_at_ms = of_phase.clone().map(|l| l.started_at_ms).min();
    let ended_at_ms = of_phase
        .map(|l| l.started_at_ms + l.duration_ms as u64)
        .max();
    PhaseSpan {
        phase,
        started_at_ms: started_at_ms.unwrap_or_default(),
        ended_at_ms: ended_at_ms.unwrap_or_default(),
    }
}

/// What the recorder kept, ready for the report: the whole run and each of its phases.
pub struct Recorded {
    pub summary: Summary,
    /// Each phase the run had or a load belonged to, in phase order, with its span.
    pub phases: Vec<(PhaseSpan, Summary)>,
    /// Loads cut short by an interrupt, which are not judged.
    pub abandoned: u64,
    pub loads: Vec<Load>,
    pub failures: Vec<Failure>,
    pub details: Vec<LoadDetail>,
    pub truncated: Truncation,
    pub populations: BTreeMap<Kind, PopulationParts>,
    /// The start document, when a load got it cacheable for too long.
    pub start_document: Option<LongLived>,
    /// The first phase's static assets, for the retention check after probing.
    pub old_assets: OldAssets,
    /// The last phase's failures a cache answered, to fetch again past the caches.
    pub past_cache: Vec<PastCache>,
    /// What each pod the answers named gave.
    pub pods: BTreeMap<String, PodReport>,
}
