//! What the settings must meet together, checked once: on the flags merged over the file before
//! a run, and on a file alone by `scenario check`. Each message names the setting by its flag and
//! its key, since either may have set it.

use std::time::Duration;

use super::{Config, DialogAnswer, Workers};
use crate::defaults;
use crate::error::UsageError;
use crate::filter::UrlFilter;
use crate::probe::ContextLife;

impl Config {
    pub fn check(&self) -> Result<(), UsageError> {
        self.check_load()?;
        self.check_timing()?;
        self.check_judge()?;
        self.check_version()?;
        if self.request.insecure == Some(true)
            && !self.request.trust_cert.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(both(
                "insecure",
                "trust_cert",
                "accept any certificate, or the ones given",
            ));
        }
        if self.pods.events.is_some() && self.pods.kubectl.is_some() {
            return Err(both(
                "pod_events",
                "pod_kubectl",
                "a file kubectl or the simulator wrote, or a watch rollprobe runs itself",
            ));
        }
        for (id, count) in [
            ("count", self.open_tabs.count()),
            ("returning_users", self.returning_users.count()),
        ] {
            if count > defaults::MAX_USERS {
                return Err(UsageError(format!(
                    "{} {count}: give at most {} (each is a browser user)",
                    Config::name(id),
                    defaults::MAX_USERS
                )));
            }
        }
        Ok(())
    }

    fn check_load(&self) -> Result<(), UsageError> {
        let l = &self.load;
        if l.workers.is_some() && l.rate.is_some() {
            return Err(both(
                "workers",
                "rate",
                "give workers for N users who each load again and again (closed model), or rate (\"5/s\") with max_workers for new users arriving at a steady rate (open model)",
            ));
        }
        if l.max_workers.is_some() && l.rate.is_none() {
            return Err(UsageError(format!(
                "{} caps the open model and needs {}; for a fixed number of users give {} instead",
                Config::name("max_workers"),
                Config::name("rate"),
                Config::name("workers")
            )));
        }
        if l.workers_ceiling.is_some() && l.workers != Some(Workers::Auto) {
            return Err(UsageError(format!(
                "{} only applies to --workers auto: drop it, or give --workers auto",
                Config::name("workers_ceiling")
            )));
        }
        if l.until_signal == Some(true) && l.duration.is_some() {
            return Err(both(
                "until_signal",
                "duration",
                "probe until a signal, or for a duration",
            ));
        }
        if l.prompt_text.is_some() && l.dialogs() != DialogAnswer::Accept {
            return Err(UsageError(format!(
                "{} is typed only into a prompt the user accepts: add {} accept",
                Config::name("prompt_text"),
                Config::name("dialogs")
            )));
        }
        if l.context() == ContextLife::PerWorker && l.rate.is_some() {
            return Err(UsageError(format!(
                "{} has no workers to keep a context for: each of its users arrives once. With {} per-worker give {} N, or leave {} at per-load",
                Config::name("rate"),
                Config::name("context"),
                Config::name("workers"),
                Config::name("context")
            )));
        }
        if l.loads == Some(0) {
            return Err(UsageError(format!(
                "{} 0 would measure nothing: give at least 1, or leave it out to probe for a duration",
                Config::name("loads")
            )));
        }
        Ok(())
    }

    fn check_timing(&self) -> Result<(), UsageError> {
        for (id, given) in [
            ("duration", self.load.duration),
            ("long_request", self.load.long_request),
            ("load_timeout", self.load.load_timeout),
            ("every", self.open_tabs.every),
            ("returning_every", self.returning_users.every),
        ] {
            if given.is_some_and(|d| d.is_zero()) {
                return Err(UsageError(format!(
                    "{} 0s: give a duration longer than zero, like 30s or 2m",
                    Config::name(id)
                )));
            }
        }
        let timeout = self.load.load_timeout();
        // Every load would wait out its idle window (or every long poll) past its own deadline:
        // all of them timeouts.
        for (id, wait, what) in [
            ("long_request", self.long_request(), "a long-polling load"),
            ("idle", self.load.idle(), "a load"),
        ] {
            if wait >= timeout {
                return Err(UsageError(format!(
                    "{} {} cannot end {what} within its {} timeout: give a shorter {} or a longer {}",
                    Config::name(id),
                    crate::model::shown(wait),
                    crate::model::shown(timeout),
                    Config::name(id),
                    Config::name("load_timeout")
                )));
            }
        }
        Ok(())
    }

    /// `long_request`, or, unless given, its default shortened by a short load timeout: a long
    /// poll must still end the load.
    pub fn long_request(&self) -> Duration {
        self.load
            .long_request
            .unwrap_or_else(|| self.load.long_request().min(self.load.load_timeout() / 2))
    }

    fn check_judge(&self) -> Result<(), UsageError> {
        if self
            .judge
            .expect_selector
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            return Err(UsageError(format!(
                "{} is empty: give a CSS selector such as '#app *'",
                Config::name("expect_selector")
            )));
        }
        for pattern in self.judge.ignore.iter().flatten() {
            UrlFilter::new(std::slice::from_ref(pattern)).map_err(|e| {
                UsageError(format!(
                    "{} {pattern:?}: {e:#}; give a substring of the URL or a glob with *",
                    Config::name("ignore")
                ))
            })?;
        }
        Ok(())
    }

    fn check_version(&self) -> Result<(), UsageError> {
        let v = &self.version;
        if v.meta.is_some() && v.js.is_some() {
            return Err(both(
                "meta",
                "js",
                "both read the page's version: keep one (the header may go with either)",
            ));
        }
        for (id, given) in [("header", &v.header), ("meta", &v.meta), ("js", &v.js)] {
            if given.as_deref().is_some_and(|s| s.trim().is_empty()) {
                return Err(UsageError(format!("{} is empty", Config::name(id))));
            }
        }
        if v.expect.is_some() && v.header.is_none() && v.meta.is_none() && v.js.is_none() {
            return Err(UsageError(format!(
                "{} needs to know where the version is: add --version-header X-App-Version (`[version] header = \"X-App-Version\"`), a meta tag or a js expression",
                Config::name("expect")
            )));
        }
        Ok(())
    }
}

/// Two settings that exclude each other.
fn both(a: &str, b: &str, instead: &str) -> UsageError {
    UsageError(format!(
        "{} and {} exclude each other: {instead}",
        Config::name(a),
        Config::name(b)
    ))
}
