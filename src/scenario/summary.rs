//! The summary `rollprobe scenario check` prints. Apart from the types because it is
//! presentation: it changes with the wording, the schema does not.

use super::{Scenario, Secret, Step};
use crate::model::Slo;

impl Scenario {
    /// A short human summary for `rollprobe scenario check`: secrets only by variable name, and
    /// every setting, the file's or its default.
    pub fn summary(&self) -> String {
        let mut lines = vec![
            format!("{}: valid", self.path.display()),
            format!("  targets: {}", self.targets_line()),
        ];
        if let Some(request) = self.request_line() {
            lines.push(format!("  request: {request}"));
        }
        lines.push(format!("  steps: {}", steps_line(&self.steps)));
        if !self.open_tab_steps.is_empty() {
            lines.push(format!(
                "  open tab rounds: {}",
                steps_line(&self.open_tab_steps)
            ));
        }
        lines.push(format!("  counting: {}", self.count_line()));
        if let Some(slo) = self.slo_line() {
            lines.push(format!("  slo by phase: {slo}"));
        }
        lines.push("  settings (flags override them):".to_string());
        for e in self.settings.entries() {
            let value = match (e.given, e.default) {
                (Some(v), _) => v,
                (None, Some(d)) => format!("{d} (default)"),
                (None, None) => "not set".to_string(),
            };
            lines.push(format!("    {} = {value}", e.key));
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
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    fn count_line(&self) -> String {
        match &self.count {
            Some(classes) => classes
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            None => "every failure class of the site's".to_string(),
        }
    }

    fn slo_line(&self) -> Option<String> {
        let show = |s: Slo| match s.max_failed_loads {
            Some(max) => format!("{}% or at most {max} failed loads", s.min_success_percent),
            None => format!("{}%", s.min_success_percent),
        };
        let s = &self.slo;
        let phases = [
            ("baseline", s.baseline),
            ("rollout", s.rollout),
            ("settle", s.settle),
        ];
        let given: Vec<String> = phases
            .into_iter()
            .filter_map(|(name, slo)| slo.map(|slo| format!("{name} {}", show(slo))))
            .collect();
        (!given.is_empty()).then(|| given.join("; "))
    }
}

fn steps_line(steps: &[Step]) -> String {
    if steps.is_empty() {
        return "none (each load only opens its target)".to_string();
    }
    let shown = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect::<Vec<_>>();
    format!("{}: {}", steps.len(), shown.join("; "))
}
