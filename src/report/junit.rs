//! JUnit XML for CI test-report pages: one testsuite per phase, each testcase answering one
//! question, and one testcase per failing resource so the CI page lists the culprits by name.
//!
//! Written for what GitLab and Jenkins read: every testcase has a classname (GitLab groups by
//! it, and drops testcases whose classname and name repeat), names are unique within a
//! classname, and whatever a person should read goes in a testcase's `<system-out>` (GitLab
//! ignores the testsuite's).

use anyhow::Result;
use junit_report::{
    Duration, OffsetDateTime, ReportBuilder, TestCase, TestCaseBuilder, TestSuite, TestSuiteBuilder,
};

use std::path::{Path, PathBuf};

use super::text::{self, status_word, time_of};
use super::{Exporter, evidence};
use crate::model::{FailingResource, FailureClass, Phase, PhaseReport, Report, Status};

/// Culprits listed one testcase each per phase; the JSON report has the rest.
const MAX_RESOURCE_CASES: usize = 50;

/// The JUnit exporter; `dir` is where the file goes (absolute; None: the current directory),
/// which attachment paths are relative to, as GitLab expects.
pub struct Junit {
    pub dir: Option<PathBuf>,
}

impl Exporter for Junit {
    fn render(&self, report: &Report) -> Result<Vec<u8>> {
        render_in(report, self.dir.as_deref())
    }
}

pub fn render(report: &Report) -> Result<Vec<u8>> {
    render_in(report, None)
}

fn render_in(report: &Report, dir: Option<&Path>) -> Result<Vec<u8>> {
    let base = match dir {
        Some(d) => d.to_path_buf(),
        None => std::env::current_dir()?,
    };
    let attach = Attach { report, base };
    let mut junit = ReportBuilder::new();
    for phase in &report.phases {
        junit.add_testsuite(phase_suite(&attach, phase));
    }
    if !report.checks.is_empty() || report.deploy.is_some() {
        junit.add_testsuite(checks_suite(report));
    }
    let mut out = Vec::new();
    junit.build().write_xml(&mut out)?;
    Ok(out)
}

/// A failing testcase's evidence: one `[[ATTACHMENT|path]]` line for its screenshot (GitLab shows
/// a failed testcase's first attachment; Jenkins' junit-attachments reads the same line), and
/// its HAR file named as text.
struct Attach<'a> {
    report: &'a Report,
    base: PathBuf,
}

impl Attach<'_> {
    fn lines(&self, phase: Phase, class: Option<FailureClass>, url: Option<&str>) -> String {
        let Some((_, a)) = evidence::first(self.report, phase, class, url) else {
            return String::new();
        };
        let rel = |p: &String| {
            evidence::relative(Path::new(p), &self.base)
                .display()
                .to_string()
        };
        let mut out = String::new();
        if let Some(png) = &a.screenshot {
            out += &format!("\n[[ATTACHMENT|{}]]", rel(png));
        }
        if let Some(har) = &a.har {
            out += &format!("\nHAR of the load: {}", rel(har));
        }
        out
    }

    /// Adds the evidence to a failing testcase's output.
    fn to(
        &self,
        case: &mut TestCase,
        phase: Phase,
        class: Option<FailureClass>,
        url: Option<&str>,
    ) {
        let lines = self.lines(phase, class, url);
        if !lines.is_empty() {
            let own = case.system_out.take().unwrap_or_default();
            case.set_system_out(format!("{own}{lines}").trim_start());
        }
    }
}

fn phase_suite(attach: &Attach, phase: &PhaseReport) -> TestSuite {
    let report = attach.report;
    let s = &phase.summary;
    // CI tools sum testcase times into the suite's: only the one about every load carries the
    // phase's duration, the others are views of the same loads.
    let time = Duration::seconds_f64(s.duration_s);
    let view = Duration::ZERO;
    let class = format!("rollprobe.{}", phase.phase);
    let culprits: Vec<&FailingResource> = s
        .failing_resources
        .iter()
        .filter(|r| report.counted(Some(phase.phase), r.class, &r.url))
        .collect();
    let mut cases = Vec::new();

    let all_ok = "all page loads succeed";
    let mut summary = if phase.verdict.status != Status::Fail {
        success(all_ok, &class, time)
    } else {
        let first: Vec<String> = culprits
            .iter()
            .take(3)
            .map(|r| format!("{} {}", r.how(), r.url))
            .collect();
        failure(
            all_ok,
            &class,
            time,
            "site_failed",
            &format!("{}; first: {}", phase.verdict.reason, first.join(", ")),
            &culprits
                .iter()
                .map(|r| resource_line(r))
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    summary.set_system_out(&phase_summary(report, phase));
    if !summary.is_success() {
        attach.to(&mut summary, phase.phase, None, None);
    }
    cases.push(summary);

    cases.extend(class_cases(attach, phase, &culprits, &class));

    let prober = "prober ran cleanly";
    cases.push(if phase.verdict.status == Status::Inconclusive {
        let mut case = TestCaseBuilder::error(prober, view, "inconclusive", &phase.verdict.reason);
        case.set_classname(&class);
        case.build()
    } else {
        success(prober, &class, view)
    });

    for r in culprits.iter().take(MAX_RESOURCE_CASES) {
        let mut case = TestCaseBuilder::failure(
            &format!("{} {}", r.how(), r.url),
            view,
            r.class.as_str(),
            &resource_line(r),
        );
        case.set_classname(&format!("{class}.resources"));
        let mut case = case.build();
        attach.to(&mut case, phase.phase, Some(r.class), Some(&r.url));
        cases.push(case);
    }

    unique_names(&mut cases);
    let mut suite = TestSuiteBuilder::new(&format!("rollprobe {}: {}", phase.phase, report.target));
    suite
        .add_testcases(cases)
        .set_timestamp(timestamp(phase.started_at_ms));
    suite.build()
}

/// The phase's verdict and culprits as text, for the testcase about every load.
fn phase_summary(report: &Report, phase: &PhaseReport) -> String {
    let s = &phase.summary;
    format!(
        "{}{}: {}\nthe verdict rests on {} judged load(s)\n{}",
        if report.interrupted {
            "INTERRUPTED RUN (Ctrl-C or SIGTERM): results cover the loads finished before the stop\n"
        } else {
            ""
        },
        status_word(phase.verdict.status),
        phase.verdict.reason,
        s.judged(),
        text::failing_resources(report, Some(phase.phase), &s.failing_resources, usize::MAX)
    )
}

/// Makes every name unique within its classname: GitLab keys testcases by both and keeps one
/// of each. The first keeps its name, the next get " (2)", " (3)", ...
fn unique_names(cases: &mut [TestCase]) {
    let mut seen: std::collections::HashMap<(Option<String>, String), usize> = Default::default();
    for case in cases {
        let n = seen
            .entry((case.classname.clone(), case.name.clone()))
            .or_default();
        *n += 1;
        if *n > 1 {
            case.name = format!("{} ({n})", case.name);
        }
    }
}

/// One testcase per failure class that counts: "no missing hashed assets", ...
fn class_cases(
    attach: &Attach,
    phase: &PhaseReport,
    culprits: &[&FailingResource],
    class: &str,
) -> Vec<TestCase> {
    let (report, s, view) = (attach.report, &phase.summary, Duration::ZERO);
    let mut cases = Vec::new();
    for kind in FailureClass::ALL
        .into_iter()
        .filter(|c| report.settings.counts(*c))
    {
        let name = question(kind);
        let loads = s.failed_loads_by_class.get(&kind).copied().unwrap_or(0);
        // Against the baseline, a class fails only with a resource the deployment changed.
        let counted = report.baseline.is_none() || culprits.iter().any(|r| r.class == kind);
        cases.push(if loads == 0 || !counted {
            success(name, class, view)
        } else {
            let failures = s.failures_by_class.get(&kind).copied().unwrap_or(0);
            let details: Vec<String> = culprits
                .iter()
                .filter(|r| r.class == kind)
                .map(|r| resource_line(r))
                .collect();
            let mut case = failure(
                name,
                class,
                view,
                kind.as_str(),
                &format!(
                    "{failures} {kind} failure(s) in {loads} of {} loads",
                    s.loads
                ),
                &details.join("\n"),
            );
            attach.to(&mut case, phase.phase, Some(kind), None);
            case
        });
    }
    cases
}

/// Questions about the run as a whole: the final version, the deploy command.
fn checks_suite(report: &Report) -> TestSuite {
    let time = Duration::ZERO;
    let class = "rollprobe.checks";
    let mut cases: Vec<TestCase> = report
        .checks
        .iter()
        .map(|c| {
            let body = check_detail(report, c);
            if c.passed {
                success(&c.name, class, time)
            } else if c.warning {
                // A warning must not fail the CI page, and should still be read there.
                let mut case = success(&c.name, class, time);
                case.set_system_out(&format!("WARNING: {}\n{body}", c.message));
                case
            } else {
                failure(&c.name, class, time, "check_failed", &c.message, &body)
            }
        })
        .collect();
    cases.extend(baseline_cases(report, class, time));
    if let Some(d) = &report.deploy {
        let name = "deploy command succeeded";
        cases.push(match d.exit_code {
            Some(0) => success(name, class, time),
            code => {
                let how = code.map_or("was killed".to_string(), |c| format!("exited {c}"));
                failure(
                    name,
                    class,
                    time,
                    "deploy_failed",
                    &format!("`{}` {how}", d.command.join(" ")),
                    &report.notes.join("\n"),
                )
            }
        });
    }
    // The run's whole summary, where GitLab shows it: in the first check's output.
    if let Some(first) = cases.first_mut() {
        let out = match first.system_out.take() {
            Some(own) => format!("{own}\n\n{}", text::render(report)),
            None => text::render(report),
        };
        first.set_system_out(&out);
    }
    unique_names(&mut cases);
    let mut suite = TestSuiteBuilder::new(&format!("rollprobe checks: {}", report.target));
    suite
        .add_testcases(cases)
        .set_timestamp(timestamp(report.started_at_ms));
    suite.build()
}

/// Against the baseline: whether it could vouch for the site (an error when not: inconclusive),
/// and the failures it already had, each with its rates before and after, as a testcase that
/// passes: they did not count.
fn baseline_cases(report: &Report, class: &str, time: Duration) -> Vec<TestCase> {
    let Some(c) = &report.baseline else {
        return Vec::new();
    };
    let vouch = "the baseline vouches for the site";
    let mut cases = vec![match &c.cannot_vouch {
        None => success(vouch, class, time),
        Some(why) => {
            let mut case = TestCaseBuilder::error(vouch, time, "inconclusive", why);
            case.set_classname(class);
            case.build()
        }
    }];
    let kept: Vec<String> = c
        .failures
        .iter()
        .filter(|f| f.pre_existing() && !f.changed())
        .map(|f| f.figures(c.baseline_loads))
        .collect();
    let mut case = success(
        "failures the baseline already had (not counted)",
        class,
        time,
    );
    if !kept.is_empty() {
        case.set_system_out(&format!("{}\n{}", c.test, kept.join("\n")));
    }
    cases.push(case);
    cases
}

/// What a failed check's testcase says beyond its message: for retention, every asset that is
/// not served.
fn check_detail(report: &Report, c: &crate::model::Check) -> String {
    match &report.retention {
        Some(r) if c.name == crate::model::RETENTION_CHECK_NAME => r
            .assets
            .iter()
            .filter(|a| a.kept != crate::model::Kept::Served)
            .map(|a| {
                format!(
                    "{} {} {} ({} of {} requests gone{})",
                    a.kept.as_str(),
                    a.how.as_deref().unwrap_or(""),
                    a.url,
                    a.gone_attempts,
                    a.attempts,
                    if a.answered_by.is_empty() {
                        String::new()
                    } else {
                        format!(", answered by {}", a.answered_by.join(", "))
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => c.message.clone(),
    }
}

fn success(name: &str, class: &str, time: Duration) -> TestCase {
    let mut case = TestCase::success(name, time);
    case.set_classname(class);
    case
}

fn failure(
    name: &str,
    class: &str,
    time: Duration,
    kind: &str,
    message: &str,
    body: &str,
) -> TestCase {
    let mut case = TestCaseBuilder::failure(name, time, kind, message);
    case.set_classname(class).set_trace(body);
    case.build()
}

fn question(class: FailureClass) -> &'static str {
    match class {
        FailureClass::MissingAsset => "no missing hashed assets",
        FailureClass::WrongContent => "no assets answered with the wrong content",
        FailureClass::HttpError => "no HTTP errors",
        FailureClass::NetworkError => "no network errors",
        FailureClass::TlsError => "no certificate errors",
        FailureClass::Timeout => "no timeouts",
        FailureClass::NotRendered => "the app renders the expected element",
        FailureClass::BlankPage => "no blank pages",
        FailureClass::StepFailed => "journey steps succeed",
        FailureClass::ReloadLoop => "no page reloads itself in a loop",
        FailureClass::JsError => "no JavaScript errors",
        FailureClass::ProberError => "no prober errors",
    }
}

fn resource_line(r: &FailingResource) -> String {
    let versions = if r.versions.is_empty() {
        String::new()
    } else {
        format!(", served by {}", r.versions.join(", "))
    };
    format!(
        "{} {} ({}) x{}, first {}, last {}{versions}",
        r.how(),
        r.url,
        r.class,
        r.count,
        time_of(r.first_unix_ms),
        time_of(r.last_unix_ms)
    )
}

fn timestamp(unix_ms: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(unix_ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use crate::judge::fixtures;

    /// (testcase name, classname, failed)
    type Case = (String, String, bool);

    /// Each suite's name and testcases.
    fn suites(name: &str) -> Vec<(String, Vec<Case>)> {
        let xml = String::from_utf8(super::render(&fixtures::report(name)).unwrap()).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        doc.descendants()
            .filter(|n| n.has_tag_name("testsuite"))
            .map(|s| {
                let cases = s
                    .children()
                    .filter(|c| c.has_tag_name("testcase"))
                    .map(|c| {
                        let attr = |a| c.attribute(a).unwrap_or("").to_string();
                        let failed = c.children().any(|f| f.has_tag_name("failure"));
                        (attr("name"), attr("classname"), failed)
                    })
                    .collect();
                (s.attribute("name").unwrap().to_string(), cases)
            })
            .collect()
    }

    #[test]
    fn a_suite_per_phase_and_one_for_the_checks() {
        let names: Vec<String> = suites("failing-baseline")
            .into_iter()
            .map(|s| s.0)
            .collect();
        let target = "http://127.0.0.1:18431/";
        assert_eq!(
            names,
            ["baseline", "rollout", "settle", "checks"].map(|p| format!("rollprobe {p}: {target}"))
        );
    }

    #[test]
    fn failing_questions_and_culprits_are_failed_testcases() {
        let (_, cases) = suites("naive").remove(0);
        let failed: Vec<&str> = cases.iter().filter(|c| c.2).map(|c| c.0.as_str()).collect();
        assert!(failed.contains(&"all page loads succeed"), "{failed:?}");
        assert!(failed.contains(&"no missing hashed assets"), "{failed:?}");
        assert!(
            failed.iter().any(|n| n.starts_with("404 http://")),
            "{failed:?}"
        );
        assert!(cases.iter().any(|c| c.0 == "no timeouts" && !c.2));
        let (_, steady) = suites("steady").remove(0);
        assert!(steady.iter().all(|c| !c.2), "{steady:?}");
    }

    /// GitLab's and Jenkins' reading: every testcase has a classname, no name repeats within
    /// one, and output sits in testcases (a testsuite's own is ignored).
    #[test]
    fn every_testcase_has_a_classname_a_unique_name_and_the_summary_inside() {
        for name in ["naive", "steady", "failing-baseline", "failed-step"] {
            let xml = String::from_utf8(super::render(&fixtures::report(name)).unwrap()).unwrap();
            let doc = roxmltree::Document::parse(&xml).unwrap();
            let mut seen = std::collections::HashSet::new();
            for case in doc.descendants().filter(|n| n.has_tag_name("testcase")) {
                let class = case.attribute("classname").unwrap_or("");
                assert!(class.starts_with("rollprobe."), "{name}: {case:?}");
                let key = (class, case.attribute("name").unwrap());
                assert!(seen.insert(key), "{name}: {key:?} twice");
            }
            for suite in doc.descendants().filter(|n| n.has_tag_name("testsuite")) {
                assert!(
                    !suite.children().any(|c| c.has_tag_name("system-out")),
                    "{name}: a testsuite-level system-out"
                );
                let out: String = suite
                    .descendants()
                    .filter(|c| c.has_tag_name("system-out"))
                    .filter_map(|c| c.text())
                    .collect();
                assert!(
                    ["PASS", "FAIL", "INCONCLUSIVE"]
                        .iter()
                        .any(|w| out.contains(w)),
                    "{name}: {out}"
                );
            }
        }
    }

    #[test]
    fn repeated_names_get_a_number() {
        use junit_report::Duration;
        let mut cases = ["a", "a", "b", "a"].map(|n| super::success(n, "c", Duration::ZERO));
        super::unique_names(&mut cases);
        let names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "a (2)", "b", "a (3)"]);
    }
}
