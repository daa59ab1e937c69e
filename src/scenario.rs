//! Scenario files (issue #6): a TOML file that says what to load, as whom, how hard, which user
//! journey to walk and how to judge it. This module parses and validates; the runner applies.
//!
//! Every mistake is a [`UsageError`] that names the file, the line and the column, and what is
//! allowed there, so a typo costs no browser launch and no guessing.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use toml::Spanned;

use crate::error::UsageError;
use crate::filter::UrlFilter;
use crate::model::Slo;
use crate::model::{FailureClass, Phase};

/// A validated scenario, secrets resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub path: PathBuf,
    /// Empty when the file names none: the URL then comes from the command line.
    pub targets: Vec<Target>,
    /// Extra request headers, sorted by name.
    pub headers: Vec<(String, Secret)>,
    /// Cookie name and value, set for each target's origin; sorted by name.
    pub cookies: Vec<(String, Secret)>,
    pub basic_auth: Option<BasicAuth>,
    pub load: LoadSpec,
    pub steps: Vec<Step>,
    pub ignore: Vec<String>,
    pub fail_on_js_error: Option<bool>,
    /// Classes that count against the SLO; `None` means every site class.
    pub count: Option<Vec<FailureClass>>,
    pub version: VersionSpec,
    pub slo: PhaseSlos,
}

/// A start URL; loads pick targets in proportion to their weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub url: String,
    pub weight: u32,
}

/// A value that must not end up in logs or reports: Debug and Display print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    env: Option<String>,
}

impl Secret {
    /// A value given literally (in the file or on the command line).
    pub fn literal(value: impl Into<String>) -> Secret {
        Secret {
            value: value.into(),
            env: None,
        }
    }

    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The environment variable the value came from, if any.
    pub fn env_var(&self) -> Option<&str> {
        self.env.as_deref()
    }

    /// How summaries name the value without showing it: `$VAR` or `(literal)`.
    pub fn describe(&self) -> String {
        match &self.env {
            Some(var) => format!("${var}"),
            None => "(literal)".to_string(),
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct BasicAuth {
    pub username: String,
    pub password: Secret,
}

/// How hard to probe. Closed model: `workers` users loop. Open model: `rate_per_s` new users
/// per second, at most `max_workers` at once. `None` leaves the choice to the command line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoadSpec {
    pub workers: Option<usize>,
    pub rate_per_s: Option<f64>,
    pub max_workers: Option<usize>,
    pub duration: Option<Duration>,
    pub idle: Option<Duration>,
    pub load_timeout: Option<Duration>,
}

/// One action of the user journey, run after the start URL is idle.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Click {
        selector: String,
    },
    /// A path (`/settings`) or an absolute http(s) URL.
    Goto {
        path: String,
    },
    WaitFor {
        selector: String,
        timeout: Duration,
    },
    WaitIdle,
    /// Must evaluate truthy.
    Eval {
        expr: String,
    },
    Sleep {
        duration: Duration,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let human = |d: &Duration| humantime::format_duration(*d).to_string();
        match self {
            Step::Click { selector } => write!(f, "click `{selector}`"),
            Step::Goto { path } => write!(f, "goto {path}"),
            Step::WaitFor { selector, timeout } => {
                write!(f, "wait_for `{selector}` ({})", human(timeout))
            }
            Step::WaitIdle => f.write_str("wait_idle"),
            Step::Eval { expr } => write!(f, "eval `{expr}`"),
            Step::Sleep { duration } => write!(f, "sleep {}", human(duration)),
        }
    }
}

/// Where the app version is read from, and the version the last phase must serve.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VersionSpec {
    pub header: Option<String>,
    pub meta: Option<String>,
    pub js: Option<String>,
    pub expect: Option<String>,
}

/// SLOs from the file. A phase's own SLO already has the `[slo]` defaults filled in.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseSlos {
    pub default: Option<Slo>,
    pub baseline: Option<Slo>,
    pub rollout: Option<Slo>,
    pub settle: Option<Slo>,
}

impl PhaseSlos {
    /// The SLO the file sets for a phase, if any; `None` leaves it to the command line.
    pub fn for_phase(&self, phase: Phase) -> Option<Slo> {
        let own = match phase {
            Phase::Run => None,
            Phase::Baseline => self.baseline,
            Phase::Rollout => self.rollout,
            Phase::Settle => self.settle,
        };
        own.or(self.default)
    }
}

/// The commented template `rollprobe scenario example` prints; it parses as it is.
pub const EXAMPLE: &str = r##"# rollprobe scenario: what to load, as whom, how hard, which journey, and how to judge it.
# Check it with `rollprobe scenario check FILE`; every key below is optional.

# Start URLs; a load picks one in proportion to its weight (default 1).
# A URL given on the command line replaces these.
[[target]]
url = "https://staging.example.com/"
weight = 3
[[target]]
url = "https://staging.example.com/shop"

# Sent with every load. A value is a string, or { env = "VAR" } to read it from the environment
# (an unset or empty variable is an error); rollprobe never prints these values.
[request]
headers = { "X-Env" = "staging" }
# headers = { "X-Env" = "staging", "Authorization" = { env = "STAGING_TOKEN" } }
# cookies = { session = { env = "STAGING_SESSION" } }
# basic_auth = { username = "ci", password = { env = "STAGING_PASSWORD" } }

[load]
workers = 4                 # closed model: 4 users, each loading again and again (1 to 64)
# rate = "5/s"              # open model instead: new users per second ("5/s", "30/m", "0.5/s")
# max_workers = 8           #   ... at most this many at once (open model only)
duration = "2m"             # without it: the command line's --duration, or the deploy command's phases
idle = "500ms"              # network idle this long after the load event ends a load
load_timeout = "30s"        # a load not idle by then fails as `timeout`

# The user journey after the start URL is idle, one action per [[step]]:
# click, goto, wait_for (with optional timeout, default 10s), wait_idle, eval, sleep.
[[step]]
click = "a[href='/reports']"
[[step]]
wait_for = "#report-table"
timeout = "5s"
[[step]]
goto = "/settings"          # a path on the target, or a full URL
[[step]]
wait_idle = true
[[step]]
eval = "document.title.includes('Settings')"   # fails the load unless truthy
[[step]]
sleep = "500ms"

[judge]
ignore = ["googletagmanager.com", "*/beacon*"]  # substring, or glob with *
fail_on_js_error = true
# Which failure classes fail a load (default: all of them):
# missing_asset, http_error, network_error, timeout, js_error.
count = ["missing_asset", "http_error", "network_error", "timeout"]

[version]
header = "X-App-Version"    # response header with the app version; or meta = "app-version",
                            # or js = "window.APP_VERSION" (one of meta and js)
expect = "2.4.1"            # the version the last phase must serve exclusively

# SLO for every phase; a phase table overrides only the keys it gives.
[slo]
min_success_percent = 100
[slo.rollout]               # also [slo.baseline] and [slo.settle]
min_success_percent = 99.5
max_failed_loads = 2        # passes when either allowance holds
"##;

const DEFAULT_WAIT_FOR_TIMEOUT: Duration = Duration::from_secs(10);
/// The same bounds as `run --workers`.
const WORKERS: std::ops::RangeInclusive<i64> = 1..=64;
const STEP_ACTIONS: &str = "click, goto, wait_for, wait_idle, eval, sleep";
const RATE_FORMS: &str =
    "a number of new users per second, minute or hour, like \"5/s\", \"30/m\" or \"0.5/s\"";

/// Reads, parses and validates a scenario file, reading `{ env = "VAR" }` values from the
/// process environment.
pub fn load(path: &Path) -> Result<Scenario, UsageError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("cannot read scenario file {}: {e}", path.display())))?;
    parse(path, &text)
}

/// [`load`] from text already read; `path` only names the file in messages.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, UsageError> {
    parse_with_env(path, text, &|var| std::env::var(var).ok())
}

/// [`parse`] with environment variables looked up through `env` (tests, or a merged env).
pub fn parse_with_env(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, UsageError> {
    let raw: RawScenario = toml::from_str(text)
        .map_err(|e| UsageError(format!("{}: {}", path.display(), e.to_string().trim_end())))?;
    let ctx = Ctx { path, text, env };
    let (headers, cookies, basic_auth) = ctx.request(&raw.request)?;
    Ok(Scenario {
        path: path.to_path_buf(),
        targets: ctx.targets(raw.target.as_ref())?,
        headers,
        cookies,
        basic_auth,
        load: ctx.load_spec(&raw.load)?,
        steps: raw
            .step
            .iter()
            .map(|s| ctx.step(s))
            .collect::<Result<_, _>>()?,
        ignore: ctx.ignore(&raw.judge.ignore)?,
        fail_on_js_error: raw.judge.fail_on_js_error,
        count: raw.judge.count.as_ref().map(|c| ctx.count(c)).transpose()?,
        version: ctx.version(&raw.version)?,
        slo: ctx.slos(&raw.slo)?,
    })
}

// ---- the file as written ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    target: Option<Spanned<Vec<RawTarget>>>,
    #[serde(default)]
    request: RawRequest,
    #[serde(default)]
    load: RawLoad,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
    #[serde(default)]
    judge: RawJudge,
    #[serde(default)]
    version: RawVersion,
    #[serde(default)]
    slo: RawSlos,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTarget {
    url: Spanned<String>,
    weight: Option<Spanned<i64>>,
}

type SecretMap = BTreeMap<Spanned<String>, Spanned<RawSecret>>;

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    #[serde(default)]
    headers: SecretMap,
    #[serde(default)]
    cookies: SecretMap,
    basic_auth: Option<Spanned<RawBasicAuth>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBasicAuth {
    username: Spanned<String>,
    password: Spanned<RawSecret>,
}

/// A string, or `{ env = "VAR" }`.
enum RawSecret {
    Literal(String),
    Env(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvRef {
    env: String,
}

impl<'de> Deserialize<'de> for RawSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecretVisitor;
        impl<'de> Visitor<'de> for SecretVisitor {
            type Value = RawSecret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string, or { env = \"VARIABLE\" } to read it from the environment")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSecret, E> {
                Ok(RawSecret::Literal(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSecret, A::Error> {
                let r = EnvRef::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawSecret::Env(r.env))
            }
        }
        deserializer.deserialize_any(SecretVisitor)
    }
}

/// A duration: `"30s"`, `"2m"`, `"500ms"`, or a bare number of seconds, as on the command line.
struct RawDuration(Duration);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = RawDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like \"30s\", \"2m\" or \"500ms\", or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                crate::clock::parse_duration(v)
                    .map(RawDuration)
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDuration, E> {
                self.visit_str(&v.to_string())
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoad {
    workers: Option<Spanned<i64>>,
    rate: Option<Spanned<String>>,
    max_workers: Option<Spanned<i64>>,
    duration: Option<Spanned<RawDuration>>,
    idle: Option<RawDuration>,
    load_timeout: Option<Spanned<RawDuration>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    click: Option<Spanned<String>>,
    goto: Option<Spanned<String>>,
    wait_for: Option<Spanned<String>>,
    timeout: Option<Spanned<RawDuration>>,
    wait_idle: Option<Spanned<bool>>,
    eval: Option<Spanned<String>>,
    sleep: Option<RawDuration>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJudge {
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    fail_on_js_error: Option<bool>,
    count: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    header: Option<Spanned<String>>,
    meta: Option<Spanned<String>>,
    js: Option<Spanned<String>>,
    expect: Option<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlos {
    min_success_percent: Option<Spanned<f64>>,
    max_failed_loads: Option<Spanned<i64>>,
    baseline: Option<RawSlo>,
    rollout: Option<RawSlo>,
    settle: Option<RawSlo>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSlo {
    min_success_percent: Option<Spanned<f64>>,
    max_failed_loads: Option<Spanned<i64>>,
}

// ---- validation ----

/// The file being validated: where messages point, and where secrets come from.
struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Ctx<'_> {
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

    fn targets(&self, raw: Option<&Spanned<Vec<RawTarget>>>) -> Result<Vec<Target>, UsageError> {
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

    fn http_url(&self, raw: &Spanned<String>, what: &str) -> Result<(), UsageError> {
        let why = match url::Url::parse(raw.get_ref()) {
            Err(e) => e.to_string(),
            Ok(u) if !matches!(u.scheme(), "http" | "https") => {
                format!("scheme {:?} is not http or https", u.scheme())
            }
            Ok(u) if u.host().is_none() => "no host".to_string(),
            Ok(_) => return Ok(()),
        };
        Err(self.at(
            raw.span(),
            format!(
                "bad {what} {:?}: {why}; give a full http(s) URL, like \"https://staging.example.com/\"",
                raw.get_ref()
            ),
        ))
    }

    #[allow(clippy::type_complexity)]
    fn request(
        &self,
        raw: &RawRequest,
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

    fn load_spec(&self, raw: &RawLoad) -> Result<LoadSpec, UsageError> {
        if let (Some(rate), Some(_)) = (&raw.rate, &raw.workers) {
            return Err(self.at(
                rate.span(),
                "rate and workers exclude each other: give workers = N for N users who each load again and again (closed model), or rate = \"5/s\" with max_workers for new users arriving at a steady rate (open model)",
            ));
        }
        if let (Some(max), None) = (&raw.max_workers, &raw.rate) {
            return Err(self.at(
                max.span(),
                "max_workers caps the open model and needs rate = \"5/s\"; for a fixed number of users give workers = N instead",
            ));
        }
        Ok(LoadSpec {
            workers: raw
                .workers
                .as_ref()
                .map(|w| self.workers(w, "workers"))
                .transpose()?,
            rate_per_s: raw.rate.as_ref().map(|r| self.rate(r)).transpose()?,
            max_workers: raw
                .max_workers
                .as_ref()
                .map(|w| self.workers(w, "max_workers"))
                .transpose()?,
            duration: raw
                .duration
                .as_ref()
                .map(|d| self.positive(d, "duration"))
                .transpose()?,
            idle: raw.idle.as_ref().map(|d| d.0),
            load_timeout: raw
                .load_timeout
                .as_ref()
                .map(|d| self.positive(d, "load_timeout"))
                .transpose()?,
        })
    }

    fn workers(&self, raw: &Spanned<i64>, what: &str) -> Result<usize, UsageError> {
        let n = *raw.get_ref();
        if WORKERS.contains(&n) {
            return Ok(n as usize);
        }
        Err(self.at(
            raw.span(),
            format!(
                "{what} = {n} is out of range: give {} to {} browser users",
                WORKERS.start(),
                WORKERS.end()
            ),
        ))
    }

    fn rate(&self, raw: &Spanned<String>) -> Result<f64, UsageError> {
        crate::clock::parse_rate(raw.get_ref()).map_err(|_| {
            self.at(
                raw.span(),
                format!("rate {:?} is not a rate: give {RATE_FORMS}", raw.get_ref()),
            )
        })
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

    fn step(&self, raw: &Spanned<RawStep>) -> Result<Step, UsageError> {
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
                None => DEFAULT_WAIT_FOR_TIMEOUT,
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

    fn text_value(&self, raw: &Spanned<String>, what: &str) -> Result<String, UsageError> {
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

    fn ignore(&self, raw: &[Spanned<String>]) -> Result<Vec<String>, UsageError> {
        raw.iter()
            .map(|p| {
                let pattern = self.text_value(p, "ignore pattern")?;
                UrlFilter::new(std::slice::from_ref(&pattern)).map_err(|e| {
                    self.at(
                        p.span(),
                        format!("{e:#}; give a substring of the URL or a glob with *"),
                    )
                })?;
                Ok(pattern)
            })
            .collect()
    }

    fn count(&self, raw: &Spanned<Vec<Spanned<String>>>) -> Result<Vec<FailureClass>, UsageError> {
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

    fn version(&self, raw: &RawVersion) -> Result<VersionSpec, UsageError> {
        if let (Some(_), Some(js)) = (&raw.meta, &raw.js) {
            return Err(self.at(
                js.span(),
                "meta and js both read the page's version: keep one (header may go with either)",
            ));
        }
        if let Some(expect) = &raw.expect
            && raw.header.is_none()
            && raw.meta.is_none()
            && raw.js.is_none()
        {
            return Err(self.at(
                expect.span(),
                "expect needs to know where the version is: add header = \"X-App-Version\", meta = \"app-version\" or js = \"window.APP_VERSION\"",
            ));
        }
        let field = |f: &Option<Spanned<String>>, what: &str| {
            f.as_ref().map(|v| self.text_value(v, what)).transpose()
        };
        Ok(VersionSpec {
            header: field(&raw.header, "version header")?,
            meta: field(&raw.meta, "version meta")?,
            js: field(&raw.js, "version js")?,
            expect: field(&raw.expect, "expect")?,
        })
    }

    fn slos(&self, raw: &RawSlos) -> Result<PhaseSlos, UsageError> {
        let default = self.slo(
            raw.min_success_percent.as_ref(),
            raw.max_failed_loads.as_ref(),
            None,
        )?;
        let phase = |p: &Option<RawSlo>| match p {
            Some(p) => self.slo(
                p.min_success_percent.as_ref(),
                p.max_failed_loads.as_ref(),
                default,
            ),
            None => Ok(None),
        };
        Ok(PhaseSlos {
            default,
            baseline: phase(&raw.baseline)?,
            rollout: phase(&raw.rollout)?,
            settle: phase(&raw.settle)?,
        })
    }

    /// The fields given, the rest from `base` (the `[slo]` defaults) or the built-in default.
    fn slo(
        &self,
        percent: Option<&Spanned<f64>>,
        max_failed: Option<&Spanned<i64>>,
        base: Option<Slo>,
    ) -> Result<Option<Slo>, UsageError> {
        if percent.is_none() && max_failed.is_none() {
            return Ok(None);
        }
        let base = base.unwrap_or_default();
        let min_success_percent = match percent {
            Some(p) if (0.0..=100.0).contains(p.get_ref()) => *p.get_ref(),
            Some(p) => {
                return Err(self.at(
                    p.span(),
                    format!(
                        "min_success_percent = {} is not a percentage: give 0 to 100",
                        p.get_ref()
                    ),
                ));
            }
            None => base.min_success_percent,
        };
        let max_failed_loads = match max_failed {
            Some(m) => Some(
                u64::try_from(*m.get_ref())
                    .map_err(|_| self.at(m.span(), "max_failed_loads must be 0 or more"))?,
            ),
            None => base.max_failed_loads,
        };
        Ok(Some(Slo {
            min_success_percent,
            max_failed_loads,
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn auth_env(var: &str) -> Option<String> {
        let value = match var {
            "STAGING_TOKEN" => "tok-s3cr3t",
            "STAGING_SESSION" => "sess-s3cr3t",
            "STAGING_PASSWORD" => "pw-s3cr3t",
            _ => return None,
        };
        Some(value.to_string())
    }

    fn parse_text(text: &str) -> Result<Scenario, UsageError> {
        parse_with_env(Path::new("scenarios/t.toml"), text, &no_env)
    }

    fn error(text: &str) -> String {
        parse_text(text).expect_err("should be rejected").0
    }

    #[test]
    fn example_parses() {
        let s = parse_text(EXAMPLE).unwrap();
        assert_eq!(s.targets.len(), 2);
        assert_eq!(s.targets[0].weight, 3);
        assert_eq!(s.targets[1].weight, 1);
        assert_eq!(s.load.workers, Some(4));
        assert_eq!(s.load.duration, Some(Duration::from_secs(120)));
        assert_eq!(s.steps.len(), 6);
        assert_eq!(
            s.steps[1],
            Step::WaitFor {
                selector: "#report-table".into(),
                timeout: Duration::from_secs(5)
            }
        );
        assert_eq!(s.count.as_ref().unwrap().len(), 4);
        assert_eq!(s.version.expect.as_deref(), Some("2.4.1"));
        let rollout = s.slo.for_phase(Phase::Rollout).unwrap();
        assert_eq!(rollout.min_success_percent, 99.5);
        assert_eq!(rollout.max_failed_loads, Some(2));
        assert_eq!(s.slo.for_phase(Phase::Settle), s.slo.default);
    }

    #[test]
    fn shipped_scenarios_parse() {
        let files = [
            ("spa.toml", include_str!("../scenarios/spa.toml")),
            (
                "lazy-route.toml",
                include_str!("../scenarios/lazy-route.toml"),
            ),
            (
                "staging-auth.toml",
                include_str!("../scenarios/staging-auth.toml"),
            ),
            (
                "open-rate.toml",
                include_str!("../scenarios/open-rate.toml"),
            ),
        ];
        for (name, text) in files {
            let s = parse_with_env(Path::new(name), text, &auth_env)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.targets[0].url, "http://127.0.0.1:8080/", "{name}");
        }
    }

    #[test]
    fn lazy_route_clicks_then_waits() {
        let text = include_str!("../scenarios/lazy-route.toml");
        let s = parse_text(text).unwrap();
        let steps: Vec<String> = s.steps.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            steps,
            ["click `#open-reports`", "wait_for `#reports-ready` (10s)"]
        );
    }

    #[test]
    fn open_rate_is_an_open_model() {
        let s = parse_text(include_str!("../scenarios/open-rate.toml")).unwrap();
        assert_eq!(s.load.rate_per_s, Some(4.0));
        assert_eq!(s.load.max_workers, Some(6));
        assert_eq!(s.load.workers, None);
    }

    #[test]
    fn secrets_come_from_env_and_are_never_shown() {
        let text = include_str!("../scenarios/staging-auth.toml");
        let s = parse_with_env(Path::new("a.toml"), text, &auth_env).unwrap();
        let token = &s
            .headers
            .iter()
            .find(|(n, _)| n == "X-Api-Token")
            .unwrap()
            .1;
        assert_eq!(token.expose(), "tok-s3cr3t");
        assert_eq!(token.env_var(), Some("STAGING_TOKEN"));
        assert_eq!(s.cookies[0].1.expose(), "sess-s3cr3t");
        assert_eq!(
            s.basic_auth.as_ref().unwrap().password.expose(),
            "pw-s3cr3t"
        );
        for shown in [
            format!("{s:?}"),
            format!("{s:#?}"),
            s.summary(),
            format!("{token}"),
        ] {
            assert!(!shown.contains("s3cr3t"), "secret leaked: {shown}");
        }
        assert!(s.summary().contains("$STAGING_PASSWORD"), "{}", s.summary());
    }

    #[test]
    fn unset_env_var_is_an_error_at_its_place() {
        let text = "[request]\ncookies = { session = { env = \"NOPE_SESSION\" } }\n";
        let e = error(text);
        assert!(e.starts_with("scenarios/t.toml: line 2, column 23:"), "{e}");
        assert!(
            e.contains("NOPE_SESSION") && e.contains("is not set"),
            "{e}"
        );
        let empty = |_: &str| Some(String::new());
        let e = parse_with_env(Path::new("t.toml"), text, &empty)
            .unwrap_err()
            .0;
        assert!(e.contains("is empty"), "{e}");
    }

    #[test]
    fn typos_name_line_column_and_allowed_keys() {
        let e = error("[load]\nwokers = 4\n");
        assert!(
            e.starts_with("scenarios/t.toml: TOML parse error at line 2, column 1"),
            "{e}"
        );
        assert!(
            e.contains("unknown field `wokers`") && e.contains("`workers`"),
            "{e}"
        );
        let e = error("[[step]]\nclik = \"a\"\n");
        assert!(
            e.contains("line 2, column 1") && e.contains("`click`"),
            "{e}"
        );
        let e = error("[request]\nheaders = { A = { vnv = \"X\" } }\n");
        assert!(e.contains("line 2") && e.contains("`env`"), "{e}");
    }

    #[test]
    fn bad_durations_say_what_is_allowed() {
        let e = error("[load]\nduration = \"2 mins please\"\n");
        assert!(
            e.contains("line 2, column 12") && e.contains("try 30s, 2m or 500ms"),
            "{e}"
        );
        let s = parse_text("[load]\nduration = 90\nidle = 0.25\n").unwrap();
        assert_eq!(s.load.duration, Some(Duration::from_secs(90)));
        assert_eq!(s.load.idle, Some(Duration::from_millis(250)));
        let e = error("[load]\nload_timeout = \"0s\"\n");
        assert!(
            e.contains("line 2, column 16") && e.contains("longer than zero"),
            "{e}"
        );
    }

    #[test]
    fn steps_need_exactly_one_action() {
        let e = error("[[step]]\nclick = \"a\"\ngoto = \"/b\"\n");
        assert!(e.contains("line 1") && e.contains("(click, goto)"), "{e}");
        assert!(e.contains(STEP_ACTIONS), "{e}");
        let e = error("[[step]]\n[[step]]\nwait_idle = true\n");
        assert!(
            e.contains("has no action") && e.contains(STEP_ACTIONS),
            "{e}"
        );
        let e = error("[[step]]\nclick = \"a\"\ntimeout = \"1s\"\n");
        assert!(
            e.contains("line 3, column 11") && e.contains("wait_for"),
            "{e}"
        );
        let e = error("[[step]]\ngoto = \"settings\"\n");
        assert!(
            e.contains("line 2, column 8") && e.contains("/settings"),
            "{e}"
        );
    }

    #[test]
    fn step_display() {
        let shown = |s: Step| s.to_string();
        assert_eq!(
            shown(Step::Goto {
                path: "/settings".into()
            }),
            "goto /settings"
        );
        assert_eq!(shown(Step::WaitIdle), "wait_idle");
        assert_eq!(
            shown(Step::Eval {
                expr: "document.title != ''".into()
            }),
            "eval `document.title != ''`"
        );
        assert_eq!(
            shown(Step::Sleep {
                duration: Duration::from_millis(500)
            }),
            "sleep 500ms"
        );
    }

    #[test]
    fn targets_are_checked() {
        let e = error("[[target]]\nurl = \"http://a/\"\nweight = 0\n");
        assert!(
            e.contains("line 3, column 10") && e.contains("from 1 to"),
            "{e}"
        );
        let e = error("[[target]]\nurl = \"ftp://a/\"\n");
        assert!(
            e.contains("line 2, column 7") && e.contains("http(s)"),
            "{e}"
        );
        let e = error("target = []\n");
        assert!(e.contains("at least one"), "{e}");
        assert!(parse_text("").unwrap().targets.is_empty());
    }

    #[test]
    fn load_models_are_checked() {
        let e = error("[load]\nworkers = 2\nrate = \"5/s\"\n");
        assert!(
            e.contains("line 3, column 8") && e.contains("exclude each other"),
            "{e}"
        );
        let e = error("[load]\nmax_workers = 2\n");
        assert!(e.contains("line 2") && e.contains("needs rate"), "{e}");
        let e = error("[load]\nrate = \"5 per second\"\n");
        assert!(e.contains("\"30/m\""), "{e}");
        let e = error("[load]\nworkers = 0\n");
        assert!(e.contains("1 to 64"), "{e}");
        use crate::clock::parse_rate;
        assert_eq!(parse_rate("30/m"), Ok(0.5));
        assert_eq!(parse_rate("0.5/s"), Ok(0.5));
        assert!(parse_rate("0/s").is_err());
    }

    #[test]
    fn judge_version_and_slo_are_checked() {
        let e = error("[judge]\ncount = [\"timeout\", \"prober_error\"]\n");
        assert!(
            e.contains("line 2, column 21") && e.contains("missing_asset, http_error"),
            "{e}"
        );
        let e = error("[version]\nmeta = \"v\"\njs = \"window.V\"\n");
        assert!(e.contains("line 3") && e.contains("keep one"), "{e}");
        let e = error("[version]\nexpect = \"2\"\n");
        assert!(e.contains("header = \"X-App-Version\""), "{e}");
        let e = error("[slo.rollout]\nmin_success_percent = 101\n");
        assert!(
            e.contains("line 2, column 23") && e.contains("0 to 100"),
            "{e}"
        );
        let e = error(
            "[request]\nheaders = { \"Authorization\" = \"x\" }\nbasic_auth = { username = \"u\", password = \"p\" }\n",
        );
        assert!(e.contains("keep one"), "{e}");
    }

    #[test]
    fn phase_slos_inherit_the_defaults() {
        let s =
            parse_text("[slo]\nmax_failed_loads = 3\n[slo.rollout]\nmin_success_percent = 99\n")
                .unwrap();
        let rollout = s.slo.for_phase(Phase::Rollout).unwrap();
        assert_eq!(
            (rollout.min_success_percent, rollout.max_failed_loads),
            (99.0, Some(3))
        );
        assert_eq!(
            s.slo.for_phase(Phase::Run).unwrap().min_success_percent,
            100.0
        );
        assert_eq!(parse_text("").unwrap().slo.for_phase(Phase::Run), None);
    }
}
