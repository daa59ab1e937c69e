//! What caches keep: the check that no failure was answered cacheable (a 404, or an SPA
//! fallback's page where an asset was, sent with `max-age` or `immutable` is kept by every
//! browser and CDN that saw it, long after the rollout that caused it is over), the check that
//! no cache kept a failure the origin no longer gives, and the start document's lifetime.

use std::collections::BTreeMap;

use crate::defaults::{MAX_PAST_CACHE, START_DOCUMENT_CACHEABLE_S};
use crate::model::{Check, Failure, Observation, PastCache, Phase, Retention, Settings};

pub const CHECK: &str = "no failure answered cacheable";
pub const KEPT_CHECK: &str = "no failure kept by a cache";
pub const START_DOCUMENT_CHECK: &str = "the start document is not kept by caches for long";

/// The start document a load got, cacheable for longer than is safe across a deploy: returning
/// users keep asking for the old build's file names after the old files are gone.
#[derive(Clone, Debug, PartialEq)]
pub struct LongLived {
    pub url: String,
    pub cacheable_s: u64,
    pub cache_control: String,
}

impl LongLived {
    /// The load's document, when it was sent cacheable for longer than the threshold.
    pub fn of(obs: &Observation) -> Option<LongLived> {
        let doc = obs
            .requests
            .iter()
            .find(|r| r.resource_type == "Document")?;
        let s = cacheable_s(&doc.cache)?;
        (s > START_DOCUMENT_CACHEABLE_S).then(|| LongLived {
            url: doc.url.clone(),
            cacheable_s: s,
            cache_control: doc.cache.get("cache-control").cloned().unwrap_or_default(),
        })
    }

    /// The longest of two.
    pub fn longest(a: Option<LongLived>, b: Option<LongLived>) -> Option<LongLived> {
        match (a, b) {
            (Some(a), Some(b)) if b.cacheable_s > a.cacheable_s => Some(b),
            (a, b) => a.or(b),
        }
    }

    /// A warning: it does not fail the run, the figure says how long.
    pub fn check(&self) -> Check {
        Check {
            name: START_DOCUMENT_CHECK.to_string(),
            passed: false,
            message: format!(
                "{} was sent with Cache-Control: {}: browsers and CDNs may keep it for up to {} s, more than {} s, and a returning user then asks for the old build's files after they are gone",
                self.url, self.cache_control, self.cacheable_s, START_DOCUMENT_CACHEABLE_S
            ),
            warning: true,
        }
    }
}

/// Decided on the run's failures (when it had any the site is blamed for).
pub fn check(failures: &[Failure], settings: &Settings) -> Option<Check> {
    let counted: Vec<&Failure> = failures
        .iter()
        .filter(|f| settings.counts(f.class))
        .collect();
    if counted.is_empty() {
        return None;
    }
    let cacheable: Vec<&&Failure> = counted.iter().filter(|f| f.cacheable_s.is_some()).collect();
    let message = match cacheable.first() {
        None => format!(
            "none of {} failure(s) was sent cacheable: no cache keeps them",
            counted.len()
        ),
        Some(first) => format!(
            "{} of {} failure(s) were sent cacheable: browsers and CDNs may keep them (first: {} {}, Cache-Control: {}: {})",
            cacheable.len(),
            counted.len(),
            first
                .status
                .map_or_else(|| first.class.to_string(), |s| s.to_string()),
            first.url,
            first.cache.get("cache-control").map_or("", String::as_str),
            kept_for(first.cacheable_s.unwrap_or(0))
        ),
    };
    Some(Check {
        name: CHECK.to_string(),
        passed: cacheable.is_empty(),
        message,
        warning: false,
    })
}

/// How long browsers and CDNs may keep an answer sent with these caching headers, when they
/// may keep it at all: `max-age` or `s-maxage` above zero, or `public` or `immutable` (0: as
/// long as a cache decides). `no-store` keeps it out of every cache.
pub fn cacheable_s(cache: &std::collections::BTreeMap<String, String>) -> Option<u64> {
    let control = cache.get("cache-control")?.to_ascii_lowercase();
    let directives: Vec<&str> = control.split(',').map(str::trim).collect();
    if directives.contains(&"no-store") {
        return None;
    }
    let age = |name: &str| {
        directives
            .iter()
            .filter_map(|d| d.strip_prefix(name)?.strip_prefix('='))
            .filter_map(|v| v.trim_matches('"').parse::<u64>().ok())
            .max()
    };
    match age("max-age").max(age("s-maxage")) {
        Some(0) => None,
        Some(s) => Some(s),
        None => directives
            .iter()
            .any(|d| matches!(*d, "public" | "immutable"))
            .then_some(0),
    }
}

/// A cache's answer, in words (`Age 37 s, X-Cache HIT`), when the headers say a cache gave it:
/// an `Age` above zero, or a CDN's `X-Cache` or `CF-Cache-Status` saying HIT.
pub fn hit(cache: &BTreeMap<String, String>) -> Option<String> {
    let age = (cache.get("age"))
        .and_then(|a| a.trim().parse::<u64>().ok())
        .filter(|a| *a > 0);
    let mut words: Vec<String> = age.map(|a| format!("Age {a} s")).into_iter().collect();
    for (key, name) in [
        ("x-cache", "X-Cache"),
        ("cf-cache-status", "CF-Cache-Status"),
    ] {
        if let Some(v) = cache
            .get(key)
            .filter(|v| v.to_ascii_uppercase().contains("HIT"))
        {
            words.push(format!("{name} {v}"));
        }
    }
    (!words.is_empty()).then(|| words.join(", "))
}

/// The last phase's failures a cache answered, one per URL (bounded), for the retention
/// client to fetch again past the caches.
#[derive(Default)]
pub struct CacheSuspects(Vec<PastCache>);

impl CacheSuspects {
    pub fn take(
        &mut self,
        obs: &Observation,
        failures: &[Failure],
        counts: impl Fn(&Failure) -> bool,
    ) {
        for f in failures.iter().filter(|f| last_phase(f.phase) && counts(f)) {
            let Some(words) = hit(&f.cache) else {
                continue;
            };
            if self.0.len() >= MAX_PAST_CACHE || self.0.iter().any(|s| s.url == f.url) {
                continue;
            }
            let request = obs.requests.iter().find(|r| r.url == f.url);
            let answer = f
                .status
                .map_or_else(|| f.class.to_string(), |s| s.to_string());
            self.0.push(PastCache {
                url: f.url.clone(),
                resource_type: request.map_or_else(String::new, |r| r.resource_type.clone()),
                cached: format!("{answer} with {words}"),
                ..PastCache::default()
            });
        }
    }

    pub fn finish(self) -> Vec<PastCache> {
        self.0
    }
}

/// Where a failure shows what the site gives once the deployment is over.
fn last_phase(phase: Phase) -> bool {
    matches!(phase, Phase::Settle | Phase::Run)
}

/// The origin's answer past the caches, in words: `200 from v2`, `404`, why none came.
fn origin(p: &PastCache) -> String {
    let answer = match (p.served, p.status, &p.how) {
        (Some(true), Some(status), _) => status.to_string(),
        (_, _, Some(how)) => how.clone(),
        (_, Some(status), _) => status.to_string(),
        _ => "no answer".to_string(),
    };
    match &p.version {
        Some(v) => format!("{answer} from {v}"),
        None => answer,
    }
}

/// Each last-phase failure a cache answered says what the origin answers past the caches (in
/// the same words for every failure at a URL: the cache's first answer, not each one's age).
pub fn explain(failures: &mut [Failure], past: &[PastCache]) {
    for f in failures.iter_mut().filter(|f| last_phase(f.phase)) {
        let Some(p) = past.iter().find(|p| p.url == f.url) else {
            continue;
        };
        if hit(&f.cache).is_none() {
            continue;
        }
        let (cached, origin) = (&p.cached, origin(p));
        let said = match p.served {
            Some(true) => format!(
                "kept by a cache (it answered {cached}): past the cache the origin answers {origin}; purge the cache, and keep failures of content-hashed files out of it"
            ),
            Some(false) => format!(
                "answered by a cache ({cached}), and past the cache the origin fails it too ({origin})"
            ),
            None => format!(
                "answered by a cache ({cached}); past the cache the origin could not be checked ({origin})"
            ),
        };
        f.diagnosis = Some(match f.diagnosis.take() {
            Some(d) => format!("{said}; {d}"),
            None => said,
        });
    }
}

/// Decided when the last phase had failures a cache answered: fails when the origin serves
/// one (the cache keeps a failure), passes when the origin fails them all too (the cache only
/// passed them on), and is a warning when the origin could not be checked for some.
pub fn kept_check(r: &Retention) -> Option<Check> {
    let all = r.past_cache.len();
    let first = r.past_cache.first()?;
    let with = |served: Option<bool>| r.past_cache.iter().filter(move |p| p.served == served);
    let (kept, unknown) = (with(Some(true)).count(), with(None).count());
    let example = |p: &PastCache| format!("{}: {}; past the cache: {}", p.url, p.cached, origin(p));
    let message = if let Some(p) = with(Some(true)).next() {
        format!(
            "{kept} of {all} URL(s) failing in the last phase with a cache's answer are served by the origin: a cache keeps the failure (first: {})",
            example(p)
        )
    } else if let Some(p) = with(None).next() {
        format!(
            "the origin could not be checked for {unknown} of {all} URL(s) a cache answered with a failure in the last phase (first: {})",
            example(p)
        )
    } else {
        format!(
            "the origin fails the {all} URL(s) a cache answered with a failure in the last phase too (first: {}): no cache keeps what the origin no longer gives",
            example(first)
        )
    };
    Some(Check {
        name: KEPT_CHECK.to_string(),
        passed: kept == 0 && unknown == 0,
        message,
        warning: kept == 0 && unknown > 0,
    })
}

/// How long a cache may keep it, in words.
pub fn kept_for(s: u64) -> String {
    match s {
        0 => "for as long as a cache decides".to_string(),
        s => format!("for up to {s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_caches_may_keep_is_read_from_cache_control() {
        let keeps = |control: &str| {
            let cache = [("cache-control".to_string(), control.to_string())].into();
            cacheable_s(&cache)
        };
        assert_eq!(
            keeps("public, max-age=31536000, immutable"),
            Some(31_536_000)
        );
        assert_eq!(keeps("max-age=60, s-maxage=600"), Some(600));
        assert_eq!(keeps("public"), Some(0));
        assert_eq!(keeps("no-store, max-age=600"), None);
        assert_eq!(keeps("max-age=0, must-revalidate"), None);
        assert_eq!(keeps("no-cache"), None);
        assert_eq!(cacheable_s(&Default::default()), None);
    }

    #[test]
    fn a_failure_a_cache_kept_while_the_origin_serves_it_fails_its_check() {
        let cache: BTreeMap<String, String> = [("age", "37"), ("x-cache", "HIT")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        assert_eq!(hit(&cache).as_deref(), Some("Age 37 s, X-Cache HIT"));
        let fresh = [("age".to_string(), "0".to_string())].into();
        assert_eq!(hit(&fresh), None, "a fresh answer is the origin's");
        let failure = Failure {
            load_id: 1,
            phase: Phase::Settle,
            class: crate::model::FailureClass::MissingAsset,
            url: "http://shop.test/assets/index-3f9a1c7b.js".into(),
            status: Some(404),
            error: None,
            message: String::new(),
            at_unix_ms: 0,
            version: Some("v1".into()),
            pod: None,
            page_version: None,
            source: None,
            cache,
            cacheable_s: None,
            diagnosis: None,
        };
        let past = PastCache {
            url: failure.url.clone(),
            resource_type: "Script".into(),
            cached: "404 with Age 37 s, X-Cache HIT".into(),
            status: Some(200),
            version: Some("v2".into()),
            how: None,
            served: Some(true),
        };
        let mut failures = vec![failure];
        explain(&mut failures, std::slice::from_ref(&past));
        let said = failures[0].diagnosis.as_deref().unwrap();
        assert!(said.starts_with("kept by a cache (it answered 404 with Age 37 s, X-Cache HIT): past the cache the origin answers 200 from v2"), "{said}");
        let mut retention = Retention {
            past_cache: vec![past.clone()],
            ..Retention::default()
        };
        let check = kept_check(&retention).unwrap();
        assert!(!check.passed, "{}", check.message);
        retention.past_cache[0] = PastCache {
            served: Some(false),
            status: Some(404),
            how: Some("404".into()),
            ..past
        };
        assert!(
            kept_check(&retention).unwrap().passed,
            "the origin lacks it too"
        );
        retention.past_cache[0].served = None;
        let unknown = kept_check(&retention).unwrap();
        assert!(!unknown.passed && unknown.warning, "{}", unknown.message);
        assert!(kept_check(&Retention::default()).is_none());
    }
}
