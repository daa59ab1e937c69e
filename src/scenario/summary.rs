//! The summary `rollprobe scenario check` prints. Apart from the types because it is
//! presentation: it changes with the wording, the schema does not.

use std::time::Duration;

use super::{Scenario, Secret};
use crate::model::Slo;

impl Scenario {
    /// A short human summary for `rollprobe scenario check`: secrets only by variable name.
    pub fn summary(&self) -> String {
        let mut lines = vec![
            format!("{}: valid", self.path.display()),
            format!("  targets: {}", self.targets_line()),
        ];
        if let Some(request) = self.request_line() {
            lines.push(format!("  request: {request}"));
        }
        lines.push(format!("  load: {}", self.load_line()));
        lines.push(format!("  steps: {}", self.steps_line()));
        lines.push(format!("  judge: {}", self.judge_line()));
        if let Some(version) = self.version_line() {
            lines.push(format!("  version: {version}"));
        }
        lines.push(format!("  slo: {}", self.slo_line()));
        if let Some(tabs) = &self.open_tabs {
            let count = tabs
                .count
                .map_or("--open-tabs".to_string(), |n| n.to_string());
            let every =
                crate::defaults::shown(tabs.every.unwrap_or(crate::defaults::OPEN_TAB_EVERY));
            let rounds = if tabs.steps.is_empty() {
                "their scripts and stylesheets fetched again".to_string()
            } else {
                format!("{} step(s)", tabs.steps.len())
            };
            lines.push(format!(
                "  open tabs: {count}, a round every {every}: {rounds}"
            ));
        }
        lines.join("\n") + "\n"
    }

    fn targets_line(&self) -> String {
        if self.targets.is_empty() {
            return "none (give the URL on the command line)".to_string();
        }
        let weighted = self.targets.iter().any(|t| t.weight != 1);
        self.targets
            .iter()
            .map(|t| match weighted {
                true => format!("{} (weight {})", t.url, t.weight),
                false => t.url.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn request_line(&self) -> Option<String> {
        let named = |pairs: &[(String, Secret)]| {
            pairs
                .iter()
                .map(|(n, s)| format!("{n} {}", s.describe()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !self.headers.is_empty() {
            parts.push(format!("headers {}", named(&self.headers)));
        }
        if !self.cookies.is_empty() {
            parts.push(format!("cookies {}", named(&self.cookies)));
        }
        if let Some(auth) = &self.basic_auth {
            parts.push(format!(
                "basic auth {} / password {}",
                auth.username,
                auth.password.describe()
            ));
        }
        match self.insecure {
            Some(true) => parts.push("insecure: any certificate accepted".to_string()),
            Some(false) => parts.push("certificates checked".to_string()),
            None => {}
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    fn load_line(&self) -> String {
        let l = &self.load;
        let human = |d: Duration| humantime::format_duration(d).to_string();
        let mut parts = vec![match (l.workers, l.rate_per_s) {
            (Some(w), _) => format!("closed model, {w} workers"),
            (None, Some(r)) => format!(
                "open model, {r} new users/s, at most {} at once",
                l.max_workers
                    .map_or("the command line's workers".to_string(), |m| m.to_string())
            ),
            (None, None) => "workers from the command line".to_string(),
        }];
        parts.push(match l.duration {
            Some(d) => format!("duration {}", human(d)),
            None => "duration from the command line or the deploy command".to_string(),
        });
        if let Some(d) = l.idle {
            parts.push(format!("idle {}", human(d)));
        }
        if let Some(d) = l.load_timeout {
            parts.push(format!("load timeout {}", human(d)));
        }
        parts.join(", ")
    }

    fn steps_line(&self) -> String {
        if self.steps.is_empty() {
            return "none (each load only opens its target)".to_string();
        }
        let steps = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{}. {s}", i + 1))
            .collect::<Vec<_>>();
        format!("{}: {}", self.steps.len(), steps.join("; "))
    }

    fn judge_line(&self) -> String {
        let mut parts = vec![match &self.count {
            Some(classes) => format!(
                "counting {}",
                classes
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "counting every failure class".to_string(),
        }];
        if !self.ignore.is_empty() {
            parts.push(format!("ignoring {}", self.ignore.join(", ")));
        }
        if let Some(js) = self.fail_on_js_error {
            parts.push(format!("fail_on_js_error = {js}"));
        }
        parts.join(", ")
    }

    fn version_line(&self) -> Option<String> {
        let v = &self.version;
        let mut parts = Vec::new();
        if let Some(h) = &v.header {
            parts.push(format!("header {h}"));
        }
        if let Some(m) = &v.meta {
            parts.push(format!("meta {m}"));
        }
        if let Some(js) = &v.js {
            parts.push(format!("js `{js}`"));
        }
        if let Some(e) = &v.expect {
            parts.push(format!("expect {e}"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    fn slo_line(&self) -> String {
        let show = |s: Slo| match s.max_failed_loads {
            Some(max) => format!("{}% or at most {max} failed loads", s.min_success_percent),
            None => format!("{}%", s.min_success_percent),
        };
        let s = &self.slo;
        let phases = [
            ("every phase", s.default),
            ("baseline", s.baseline),
            ("rollout", s.rollout),
            ("settle", s.settle),
        ];
        let given: Vec<String> = phases
            .into_iter()
            .filter_map(|(name, slo)| slo.map(|slo| format!("{name} {}", show(slo))))
            .collect();
        match given.is_empty() {
            true => "from the command line".to_string(),
            false => given.join("; "),
        }
    }
}
