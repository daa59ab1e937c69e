//! The check that no failure was answered cacheable: a 404 (or an SPA fallback's page where an
//! asset was) sent with `max-age` or `immutable` is kept by every browser and CDN that saw it,
//! long after the rollout that caused it is over.

use crate::model::{Check, Failure, Settings};

pub const CHECK: &str = "no failure answered cacheable";

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

/// How long a cache may keep it, in words.
pub fn kept_for(s: u64) -> String {
    match s {
        0 => "for as long as a cache decides".to_string(),
        s => format!("for up to {s} s"),
    }
}
