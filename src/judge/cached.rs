//! The check that no failure was answered cacheable: a 404 (or an SPA fallback's page where an
//! asset was) sent with `max-age` or `immutable` is kept by every browser and CDN that saw it,
//! long after the rollout that caused it is over.

use crate::defaults::START_DOCUMENT_CACHEABLE_S;
use crate::model::{Check, Failure, Observation, Settings};

pub const CHECK: &str = "no failure answered cacheable";
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
}
