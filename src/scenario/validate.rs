//! From the file as written to a [`Scenario`](super::Scenario): every rule a value must meet,
//! and errors that point at the offending value with its line and a caret.

use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::{BasicAuth, PhaseSlos, Secret, Step, Target};
use crate::config::raw::{
    RawBasicAuth, RawDuration, RawSecret, RawSlo, RawStep, RawTarget, SecretMap,
};
use crate::config::{Request, Slo as SloSettings};
use crate::error::UsageError;
use crate::model::FailureClass;
use crate::model::Slo;

pub(super) const STEP_ACTIONS: &str = "click, goto, wait_for, wait_idle, eval, sleep";

/// The file being validated: where messages point, and where secrets come from.
pub(super) struct Validator<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
}

impl Validator<'_> {
    /// An error pointing at `span`, with the offending line and a caret, like toml's own.
    fn at(&self, span: Range<usize>, message: impl fmt::Display) -> UsageError {
        let (line, column) = line_column(self.text, span.start);
        let content = self.text.lines().nth(line - 1).unwrap_or("");
        let gutter = " ".repeat(line.to_string().len());
        UsageError(format!(
            "{}: line {line}, column {column}: {message}\n{gutter} |\n{line} | {content}\n{gutter} | {:>column$}",
            self.path.display(),
            "^"
        ))
    }

    pub(super) fn targets(
        &self,
        raw: Option<&Spanned<Vec<RawTarget>>>,
    ) -> Result<Vec<Target>, UsageError> {
        let Some(raw) = raw else {
            return Ok(Vec::new());
        };
        if raw.get_ref().is_empty() {
            return Err(self.at(
                raw.span(),
                "`target` is empty: give at least one [[target]] with a url, or leave it out and pass the URL on the command line",
            ));
        }
        raw.get_ref().iter().map(|t| self.target(t)).collect()
    }

    fn target(&self, raw: &RawTarget) -> Result<Target, UsageError> {
        self.http_url(&raw.url, "target url")?;
        let weight = match &raw.weight {
            None => 1,
            Some(w) => u32::try_from(*w.get_ref())
                .ok()
                .filter(|w| *w >= 1)
                .ok_or_else(|| {
                    self.at(
                        w.span(),
                        format!(
                            "weight {} is not allowed: give a whole number from 1 to {} (default 1)",
                            w.get_ref(),
                            u32::MAX
                        ),
                    )
                })?,
        };
        Ok(Target {
            url: raw.url.get_ref().clone(),
            weight,
        })
    }

    /// The same check as a URL on the command line, the unsafe-port check included: a port
    /// Chromium refuses would otherwise become the site's downtime.
    fn http_url(&self, raw: &Spanned<String>, what: &str) -> Result<(), UsageError> {
        crate::start::check_url(raw.get_ref())
            .map_err(|bad| self.at(raw.span(), bad.explain(what, raw.get_ref())))
    }

    #[allow(clippy::type_complexity)]
    pub(super) fn request(
        &self,
        raw: &Request,
    ) -> Result<
        (
            Vec<(String, Secret)>,
            Vec<(String, Secret)>,
            Option<BasicAuth>,
        ),
        UsageError,
    > {
        let headers = self.secret_map(&raw.headers, "header")?;
        let cookies = self.secret_map(&raw.cookies, "cookie")?;
        let basic_auth = raw
            .basic_auth
            .as_ref()
            .map(|b| self.basic_auth(b))
            .transpose()?;
        if let Some(auth) = &raw.basic_auth
            && headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        {
            return Err(self.at(
                auth.span(),
                "basic_auth and an Authorization header both set the Authorization header: keep one",
            ));
        }
        Ok((headers, cookies, basic_auth))
    }

    fn secret_map(&self, raw: &SecretMap, what: &str) -> Result<Vec<(String, Secret)>, UsageError> {
        raw.iter()
            .map(|(name, value)| {
                if !is_token(name.get_ref()) {
                    return Err(self.at(
                        name.span(),
                        format!(
                            "{what} name {:?} is not allowed: use letters, digits and !#$%&'*+-.^_`|~ only",
                            name.get_ref()
                        ),
                    ));
                }
                let secret = self.secret(value, &format!("{what} {}", name.get_ref()))?;
                Ok((name.get_ref().clone(), secret))
            })
            .collect()
    }

    fn basic_auth(&self, raw: &Spanned<RawBasicAuth>) -> Result<BasicAuth, UsageError> {
        let username = raw.get_ref().username.get_ref();
        if username.is_empty() || username.contains(':') {
            return Err(self.at(
                raw.get_ref().username.span(),
                "basic_auth username must be non-empty and without ':'",
            ));
        }
        Ok(BasicAuth {
            username: username.clone(),
            password: self.secret(&raw.get_ref().password, "basic_auth password")?,
        })
    }

    /// Resolves a value; the message names the variable, never its value.
    fn secret(&self, raw: &Spanned<RawSecret>, what: &str) -> Result<Secret, UsageError> {
        let secret = match raw.get_ref() {
            RawSecret::Literal(v) => Secret::literal(v.clone()),
            RawSecret::Env(var) => match (self.env)(var) {
                // CI systems pass a missing secret as an empty variable: as good as unset.
                Some(v) if !v.is_empty() => Secret {
                    value: v,
                    env: Some(var.clone()),
                },
                found => {
                    let state = if found.is_some() {
                        "is empty"
                    } else {
                        "is not set"
                    };
                    return Err(self.at(
                        raw.span(),
                        format!("environment variable {var} (for {what}) {state}: export it, or give the value as a string"),
                    ));
                }
            },
        };
        if secret.value.contains(['\r', '\n', '\0']) {
            return Err(self.at(
                raw.span(),
                format!("the value of {what} ({}) contains a line break or NUL, which HTTP does not allow", secret.describe()),
            ));
        }
        Ok(secret)
    }

    fn positive(&self, raw: &Spanned<RawDuration>, what: &str) -> Result<Duration, UsageError> {
        let d = raw.get_ref().0;
        if d.is_zero() {
            return Err(self.at(
                raw.span(),
                format!("{what} must be longer than zero, like \"30s\" or \"2m\""),
            ));
        }
        Ok(d)
    }

    /// A step of an open tab's round: one that navigates would make a fresh load of the new
    /// version, not a user still on the old one.
    pub(super) fn open_tab_step(&self, raw: &Spanned<RawStep>) -> Result<Step, UsageError> {
        if let Some(goto) = &raw.get_ref().goto {
            return Err(self.at(
                goto.span(),
                "[[open_tabs.step]] cannot goto: an open tab stays on the page it opened (click to a route instead)",
            ));
        }
        self.step(raw)
    }

    pub(super) fn step(&self, raw: &Spanned<RawStep>) -> Result<Step, UsageError> {
        let s = raw.get_ref();
        let mut actions = Vec::new();
        if let Some(sel) = &s.click {
            actions.push((
                "click",
                Step::Click {
                    selector: self.text_value(sel, "click")?,
                },
            ));
        }
        if let Some(path) = &s.goto {
            actions.push((
                "goto",
                Step::Goto {
                    path: self.goto(path)?,
                },
            ));
        }
        if let Some(sel) = &s.wait_for {
            let timeout = match &s.timeout {
                Some(t) => self.positive(t, "timeout")?,
                None => crate::defaults::WAIT_FOR_TIMEOUT,
            };
            let selector = self.text_value(sel, "wait_for")?;
            actions.push(("wait_for", Step::WaitFor { selector, timeout }));
        }
        if let Some(idle) = &s.wait_idle {
            if !idle.get_ref() {
                return Err(self.at(idle.span(), "write wait_idle = true (false is not a step)"));
            }
            actions.push(("wait_idle", Step::WaitIdle));
        }
        if let Some(expr) = &s.eval {
            actions.push((
                "eval",
                Step::Eval {
                    expr: self.text_value(expr, "eval")?,
                },
            ));
        }
        if let Some(d) = &s.sleep {
            actions.push(("sleep", Step::Sleep { duration: d.0 }));
        }
        if let (Some(t), None) = (&s.timeout, &s.wait_for) {
            return Err(self.at(t.span(), "timeout belongs to a wait_for step only"));
        }
        self.one_action(raw.span(), actions)
    }

    fn one_action(
        &self,
        span: Range<usize>,
        mut actions: Vec<(&str, Step)>,
    ) -> Result<Step, UsageError> {
        match actions.len() {
            1 => Ok(actions.remove(0).1),
            0 => Err(self.at(
                span,
                format!("this step has no action: give exactly one of {STEP_ACTIONS}"),
            )),
            _ => {
                let names: Vec<&str> = actions.iter().map(|(n, _)| *n).collect();
                Err(self.at(
                    span,
                    format!(
                        "this step has {} actions ({}): give exactly one of {STEP_ACTIONS} per [[step]]",
                        names.len(),
                        names.join(", ")
                    ),
                ))
            }
        }
    }

    pub(super) fn text_value(
        &self,
        raw: &Spanned<String>,
        what: &str,
    ) -> Result<String, UsageError> {
        if raw.get_ref().trim().is_empty() {
            return Err(self.at(raw.span(), format!("{what} is empty")));
        }
        Ok(raw.get_ref().clone())
    }

    fn goto(&self, raw: &Spanned<String>) -> Result<String, UsageError> {
        if !raw.get_ref().starts_with('/') {
            self.http_url(raw, "goto (a path like \"/settings\" or a full URL)")?;
        }
        Ok(raw.get_ref().clone())
    }

    pub(super) fn count(
        &self,
        raw: &Spanned<Vec<Spanned<String>>>,
    ) -> Result<Vec<FailureClass>, UsageError> {
        if raw.get_ref().is_empty() {
            return Err(self.at(
                raw.span(),
                format!(
                    "count is empty: list the classes that fail a load, from {}",
                    site_classes()
                ),
            ));
        }
        let mut classes = raw
            .get_ref()
            .iter()
            .map(|c| {
                site_class(c.get_ref()).ok_or_else(|| {
                    self.at(
                        c.span(),
                        format!("{:?} is not a failure class that can count: use {} (prober_error never counts against the site)", c.get_ref(), site_classes()),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        classes.sort();
        classes.dedup();
        Ok(classes)
    }

    /// The phases' own SLOs, each filled in from the file's `[slo]` (then the built-in default).
    pub(super) fn slos(&self, raw: &SloSettings) -> Result<PhaseSlos, UsageError> {
        let given = raw.min_success_percent.is_some() || raw.max_failed_loads.is_some();
        let base = given.then(|| Slo {
            min_success_percent: raw.min_success_percent().0,
            max_failed_loads: raw.max_failed_loads,
        });
        // A phase's own SLO: the keys it gives, the rest from `[slo]` (then the default).
        let phase = |p: &Option<RawSlo>| {
            p.as_ref().map(|p| {
                let base = base.unwrap_or_default();
                Slo {
                    min_success_percent: p
                        .min_success_percent
                        .map_or(base.min_success_percent, |p| p.0),
                    max_failed_loads: p.max_failed_loads.or(base.max_failed_loads),
                }
            })
        };
        Ok(PhaseSlos {
            default: base,
            baseline: phase(&raw.baseline),
            rollout: phase(&raw.rollout),
            settle: phase(&raw.settle),
            open_tabs: phase(&raw.open_tabs),
            returning_users: phase(&raw.returning_users),
        })
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// An HTTP token (RFC 9110), what header and cookie names are made of.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn site_class(name: &str) -> Option<FailureClass> {
    FailureClass::ALL
        .into_iter()
        .filter(|c| *c != FailureClass::ProberError)
        .find(|c| c.as_str() == name)
}

fn site_classes() -> String {
    FailureClass::ALL
        .iter()
        .filter(|c| **c != FailureClass::ProberError)
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
