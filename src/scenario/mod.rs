//! Scenario files (issue #6): a TOML file that says what to load, as whom, how hard, which user
//! journey to walk and how to judge it. Its settings are `run`'s flags (see [`crate::config`]);
//! this module checks its structured parts: targets, request secrets, the journey's steps, the
//! classes that count and the per-phase SLOs.
//!
//! Every mistake is a [`UsageError`] that names the file, the line and the column, and what is
//! allowed there, so a typo costs no browser launch and no guessing.

mod summary;
mod template;
mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::error::UsageError;
use crate::model::Slo;
use crate::model::{FailureClass, Phase};

pub use crate::probe::Step;
pub use template::EXAMPLE;

/// A validated scenario, secrets resolved.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub path: PathBuf,
    /// The file's settings as written (the flags go over them).
    pub settings: Config,
    /// Empty when the file names none: the URL then comes from the command line.
    pub targets: Vec<Target>,
    /// Extra request headers, sorted by name.
    pub headers: Vec<(String, Secret)>,
    /// Cookie name and value, set for each target's origin; sorted by name.
    pub cookies: Vec<(String, Secret)>,
    pub basic_auth: Option<BasicAuth>,
    pub steps: Vec<Step>,
    /// Classes that count against the SLO; `None` means every site class.
    pub count: Option<Vec<FailureClass>>,
    pub slo: PhaseSlos,
    /// `[[open_tabs.step]]`: an open tab's round.
    pub open_tab_steps: Vec<Step>,
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

/// SLOs from the file. A phase's own SLO already has the `[slo]` defaults filled in.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhaseSlos {
    pub default: Option<Slo>,
    pub baseline: Option<Slo>,
    pub rollout: Option<Slo>,
    pub settle: Option<Slo>,
    /// `[slo.open_tabs]`: the open tabs' rounds.
    pub open_tabs: Option<Slo>,
    /// `[slo.returning_users]`: the returning users' visits.
    pub returning_users: Option<Slo>,
}

impl PhaseSlos {
    /// The SLO the file sets for a phase, if any; `None`: the run's SLO applies.
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
    let (settings, text) = crate::config::read(path)?;
    validate(path, &text, settings, &|var| std::env::var(var).ok())
}

/// [`load`] from text already read, with environment variables looked up through `env`.
pub fn parse_with_env(
    path: &Path,
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, UsageError> {
    validate(path, text, crate::config::parse(path, text)?, env)
}

fn validate(
    path: &Path,
    text: &str,
    settings: Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Scenario, UsageError> {
    let validator = validate::Validator { path, text, env };
    let (headers, cookies, basic_auth) = validator.request(&settings.request)?;
    let steps = |raw: &[toml::Spanned<crate::config::raw::RawStep>]| {
        raw.iter()
            .map(|s| validator.step(s))
            .collect::<Result<Vec<_>, _>>()
    };
    let open_tab_steps = settings
        .open_tabs
        .step
        .iter()
        .map(|s| validator.open_tab_step(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Scenario {
        path: path.to_path_buf(),
        targets: validator.targets(settings.target.as_ref())?,
        headers,
        cookies,
        basic_auth,
        steps: steps(&settings.step)?,
        count: settings
            .judge
            .count
            .as_ref()
            .map(|c| validator.count(c))
            .transpose()?,
        slo: validator.slos(&settings.slo)?,
        open_tab_steps,
        settings,
    })
}

impl Scenario {
    /// The file's settings checked on their own, as `scenario check` does. A run checks them
    /// once merged with the flags instead: a flag may settle what the file alone cannot
    /// (`idle = "40s"` with `--load-timeout 60s`).
    pub fn check_alone(&self) -> Result<(), UsageError> {
        self.settings
            .check()
            .map_err(|e| UsageError(format!("{}: {}", self.path.display(), e.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::validate::STEP_ACTIONS;
    use super::*;
    use crate::config::{Rate, Users, Workers};
    use std::time::Duration;

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
        parse_text(text)
            .and_then(|s| s.check_alone())
            .expect_err("should be rejected")
            .0
    }

    #[test]
    fn example_parses() {
        let s = parse_text(EXAMPLE).unwrap();
        assert_eq!(s.targets.len(), 2);
        assert_eq!(s.targets[0].weight, 3);
        assert_eq!(s.targets[1].weight, 1);
        assert_eq!(s.settings.load.workers, Some(Workers::Count(4)));
        assert_eq!(s.settings.load.duration, Some(Duration::from_secs(120)));
        assert_eq!(s.steps.len(), 6);
        assert_eq!(
            s.steps[1],
            Step::WaitFor {
                selector: "#report-table".into(),
                timeout: Duration::from_secs(5)
            }
        );
        assert_eq!(s.count.as_ref().unwrap().len(), 7);
        assert_eq!(s.settings.version.expect.as_deref(), Some("2.4.1"));
        let rollout = s.slo.for_phase(Phase::Rollout).unwrap();
        assert_eq!(rollout.min_success_percent, 99.5);
        assert_eq!(rollout.max_failed_loads, Some(2));
        assert_eq!(s.slo.for_phase(Phase::Settle), s.slo.default);
    }

    #[test]
    fn the_example_names_every_setting() {
        for e in Config::default().entries() {
            let (table, key) = e.key.split_once('.').unwrap();
            let section = EXAMPLE
                .split(&format!("[{table}]\n"))
                .nth(1)
                .unwrap_or_else(|| panic!("no [{table}] in the example"));
            let section = section.split("\n[").next().unwrap_or(section);
            assert!(
                section
                    .lines()
                    .any(|l| l.trim_start_matches("# ").starts_with(&format!("{key} = "))),
                "the example's [{table}] does not show {key}"
            );
        }
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
        assert_eq!(s.settings.load.rate, Some(Rate(4.0)));
        assert_eq!(s.settings.load.max_workers, Some(Users(6)));
        assert_eq!(s.settings.load.workers, None);
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
        assert_eq!(s.settings.request.insecure, Some(true));
        assert!(
            s.summary().contains("    request.insecure = true\n"),
            "{}",
            s.summary()
        );
        assert_eq!(parse_text("").unwrap().settings.request.insecure, None);
        let e = error("[request]\ninsecure = \"yes\"\n");
        assert!(e.contains("line 2") && e.contains("true or false"), "{e}");
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
        assert_eq!(s.settings.load.duration, Some(Duration::from_secs(90)));
        assert_eq!(s.settings.load.idle, Some(Duration::from_millis(250)));
        let e = error("[load]\nload_timeout = \"0s\"\n");
        assert!(
            e.contains("--load-timeout (`[load] load_timeout`) 0s")
                && e.contains("longer than zero"),
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
    fn an_open_tab_cannot_goto() {
        let e = error("[open_tabs]\ncount = 1\n[[open_tabs.step]]\ngoto = \"/b\"\n");
        assert!(
            e.contains("line 4, column 8") && e.contains("cannot goto"),
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
            e.contains("`[load] workers`")
                && e.contains("`[load] rate`")
                && e.contains("exclude each other"),
            "{e}"
        );
        let e = error("[load]\nmax_workers = 2\n");
        assert!(
            e.contains("`[load] max_workers`") && e.contains("needs --rate"),
            "{e}"
        );
        let e = error("[load]\nrate = \"5 per second\"\n");
        assert!(e.contains("line 2, column 8") && e.contains("30/m"), "{e}");
        let e = error("[load]\nworkers = 0\n");
        assert!(
            e.contains("line 2, column 11") && e.contains("1 to 64"),
            "{e}"
        );
        let s = parse_text("[load]\nworkers = \"auto\"\nworkers_ceiling = 6\n").unwrap();
        assert_eq!(s.settings.load.workers, Some(Workers::Auto));
        let e = error("[load]\nworkers_ceiling = 6\n");
        assert!(e.contains("only applies to --workers auto"), "{e}");
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
        assert!(
            e.contains("`[version] js`") && e.contains("keep one"),
            "{e}"
        );
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
    fn phase_slos_read_values_as_slo_does() {
        let s = parse_text(
            "[slo.rollout]\nmin_success_percent = \"99.5%\"\nmax_failed_loads = \"3\"\n",
        )
        .unwrap();
        let rollout = s.slo.for_phase(Phase::Rollout).unwrap();
        assert_eq!(
            (rollout.min_success_percent, rollout.max_failed_loads),
            (99.5, Some(3))
        );
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
