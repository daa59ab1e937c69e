//! Scenario files (issue #6): a TOML file that says what to load, as whom, how hard, which user
//! journey to walk and how to judge it. This module parses and validates; the runner applies.
//!
//! Every mistake is a [`UsageError`] that names the file, the line and the column, and what is
//! allowed there, so a typo costs no browser launch and no guessing.
//!
//! The file is read in two passes: serde into the schema as written (`raw`), whose spans say
//! where each value stands, then the `validate` pass into the types below, which hold only
//! what is allowed.

mod raw;
mod summary;
mod template;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::UsageError;
use crate::model::Slo;
use crate::model::{FailureClass, Phase};

pub use template::EXAMPLE;

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
    /// `[request] insecure`: accept any server certificate (a staging site's self-signed one).
    pub insecure: Option<bool>,
    pub load: LoadSpec,
    pub steps: Vec<Step>,
    pub ignore: Vec<String>,
    pub fail_on_js_error: Option<bool>,
    /// `[judge] expect_selector`: the render check's selector.
    pub expect_selector: Option<String>,
    /// Classes that count against the SLO; `None` means every site class.
    pub count: Option<Vec<FailureClass>>,
    pub version: VersionSpec,
    pub slo: PhaseSlos,
    /// `[open_tabs]`: users who keep the app open across the deploy.
    pub open_tabs: Option<OpenTabsSpec>,
}

/// Tabs opened during the baseline that stay open, a round of `steps` every `every`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenTabsSpec {
    pub count: Option<usize>,
    pub every: Option<Duration>,
    pub steps: Vec<Step>,
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
    pub long_request: Option<Duration>,
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
    /// `[slo.open_tabs]`: the open tabs' rounds.
    pub open_tabs: Option<Slo>,
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
    let raw: raw::RawScenario = toml::from_str(text)
        .map_err(|e| UsageError(format!("{}: {}", path.display(), e.to_string().trim_end())))?;
    let validator = validate::Validator { path, text, env };
    let (headers, cookies, basic_auth) = validator.request(&raw.request)?;
    Ok(Scenario {
        path: path.to_path_buf(),
        targets: validator.targets(raw.target.as_ref())?,
        headers,
        cookies,
        basic_auth,
        insecure: raw.request.insecure,
        load: validator.load_spec(&raw.load)?,
        steps: raw
            .step
            .iter()
            .map(|s| validator.step(s))
            .collect::<Result<_, _>>()?,
        ignore: validator.ignore(&raw.judge.ignore)?,
        fail_on_js_error: raw.judge.fail_on_js_error,
        expect_selector: raw
            .judge
            .expect_selector
            .as_ref()
            .map(|s| validator.text_value(s, "expect_selector"))
            .transpose()?,
        count: raw
            .judge
            .count
            .as_ref()
            .map(|c| validator.count(c))
            .transpose()?,
        version: validator.version(&raw.version)?,
        slo: validator.slos(&raw.slo)?,
        open_tabs: raw
            .open_tabs
            .as_ref()
            .map(|t| validator.open_tabs(t))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::validate::STEP_ACTIONS;
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
        assert_eq!(s.count.as_ref().unwrap().len(), 7);
        assert_eq!(s.version.expect.as_deref(), Some("2.4.1"));
        let rollout = s.slo.for_phase(Phase::Rollout).unwrap();
        assert_eq!(rollout.min_success_percent, 99.5);
        assert_eq!(rollout.max_failed_loads, Some(2));
        assert_eq!(s.slo.for_phase(Phase::Settle), s.slo.default);
    }

    #[test]
    fn shipped_scenarios_parse() {
        let files = [
            ("spa.toml", include_str!("../../scenarios/spa.toml")),
            (
                "lazy-route.toml",
                include_str!("../../scenarios/lazy-route.toml"),
            ),
            (
                "staging-auth.toml",
                include_str!("../../scenarios/staging-auth.toml"),
            ),
            (
                "open-rate.toml",
                include_str!("../../scenarios/open-rate.toml"),
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
        let text = include_str!("../../scenarios/lazy-route.toml");
        let s = parse_text(text).unwrap();
        let steps: Vec<String> = s.steps.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            steps,
            ["click `#open-reports`", "wait_for `#reports-ready` (10s)"]
        );
    }

    #[test]
    fn open_rate_is_an_open_model() {
        let s = parse_text(include_str!("../../scenarios/open-rate.toml")).unwrap();
        assert_eq!(s.load.rate_per_s, Some(4.0));
        assert_eq!(s.load.max_workers, Some(6));
        assert_eq!(s.load.workers, None);
    }

    #[test]
    fn secrets_come_from_env_and_are_never_shown() {
        let text = include_str!("../../scenarios/staging-auth.toml");
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
    fn insecure_is_a_request_setting() {
        let s = parse_text("[request]\ninsecure = true\n").unwrap();
        assert_eq!(s.insecure, Some(true));
        assert!(
            s.summary()
                .contains("request: insecure: any certificate accepted"),
            "{}",
            s.summary()
        );
        assert_eq!(parse_text("").unwrap().insecure, None);
        let e = error("[request]\ninsecure = \"yes\"\n");
        assert!(e.contains("line 2") && e.contains("bool"), "{e}");
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
        let e = error("[[target]]\nurl = \"http://127.0.0.1:6000/\"\n");
        assert!(
            e.contains("line 2, column 7") && e.contains("ERR_UNSAFE_PORT"),
            "a port Chromium refuses is caught here, not blamed on the site: {e}"
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
            e.contains("line 2, column 21")
                && e.contains("missing_asset, wrong_content, http_error"),
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
