//! JUnit XML for CI test-report pages: each testcase answers one question, and each failing
//! resource gets a testcase of its own so the CI page lists the culprits by name.

use std::path::Path;

use anyhow::Result;
use junit_report::{
    Duration, OffsetDateTime, ReportBuilder, TestCase, TestCaseBuilder, TestSuiteBuilder,
};

use super::{FailingResource, Report};
use crate::model::FailureClass;
use crate::verdict::Status;

/// The culprits listed one testcase each; past this the suite's system-out has the rest.
const MAX_RESOURCE_CASES: usize = 50;

pub fn write(report: &Report, path: &Path) -> Result<()> {
    let xml = render(report)?;
    super::write::atomically(path, |out| Ok(out.write_all(&xml)?))
}

pub fn render(report: &Report) -> Result<Vec<u8>> {
    let s = &report.summary;
    let time = Duration::seconds_f64(s.duration_s);
    let counted = |class: FailureClass| report.counts(class);
    let mut cases = Vec::new();

    let all_ok = "all page loads succeed";
    cases.push(if s.failed == 0 {
        TestCase::success(all_ok, time)
    } else {
        let first: Vec<String> = culprits(report)
            .take(3)
            .map(|r| format!("{} {}", r.how(), r.url))
            .collect();
        failure(
            all_ok,
            time,
            "site_failed",
            &format!(
                "{} of {} loads failed: {}; first: {}",
                s.failed,
                s.loads,
                by_class(report),
                first.join(", ")
            ),
            &super::text::failing_resources(report, usize::MAX),
        )
    });

    for class in FailureClass::ALL.into_iter().filter(|c| counted(*c)) {
        let name = question(class);
        let loads = s.failed_loads_by_class.get(&class).copied().unwrap_or(0);
        cases.push(if loads == 0 {
            TestCase::success(name, time)
        } else {
            let failures = s.failures_by_class.get(&class).copied().unwrap_or(0);
            let details: Vec<String> = culprits(report)
                .filter(|r| r.class == class)
                .map(resource_line)
                .collect();
            failure(
                name,
                time,
                class.as_str(),
                &format!("{failures} {class} failure(s) in {loads} load(s)"),
                &details.join("\n"),
            )
        });
    }

    let prober = "prober ran cleanly";
    cases.push(if report.verdict.status == Status::Inconclusive {
        let mut case = TestCaseBuilder::error(prober, time, "inconclusive", &report.verdict.reason);
        case.set_classname("rollprobe");
        case.build()
    } else {
        TestCase::success(prober, time)
    });

    for r in culprits(report).take(MAX_RESOURCE_CASES) {
        let mut case = TestCaseBuilder::failure(
            &format!("{} {}", r.how(), r.url),
            time,
            r.class.as_str(),
            &resource_line(r),
        );
        case.set_classname("failing resources");
        cases.push(case.build());
    }

    let mut suite = TestSuiteBuilder::new(&format!("rollprobe {}", report.target));
    suite
        .add_testcases(cases)
        .set_timestamp(timestamp(report.started_at_ms))
        .set_system_out(&super::text::render(report));
    let junit = ReportBuilder::new().add_testsuite(suite.build()).build();
    let mut out = Vec::new();
    junit.write_xml(&mut out)?;
    Ok(out)
}

fn failure(name: &str, time: Duration, kind: &str, message: &str, body: &str) -> TestCase {
    let mut case = TestCaseBuilder::failure(name, time, kind, message);
    case.set_classname("rollprobe").set_trace(body);
    case.build()
}

fn question(class: FailureClass) -> &'static str {
    match class {
        FailureClass::MissingAsset => "no missing hashed assets",
        FailureClass::HttpError => "no HTTP errors",
        FailureClass::NetworkError => "no network errors",
        FailureClass::Timeout => "no timeouts",
        FailureClass::JsError => "no JavaScript errors",
        FailureClass::ProberError => "no prober errors",
    }
}

/// Failing resources of the classes that count against the site, most frequent first.
fn culprits(report: &Report) -> impl Iterator<Item = &FailingResource> {
    report
        .summary
        .failing_resources
        .iter()
        .filter(|r| report.counts(r.class))
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
        super::text::time_of(r.first_unix_ms),
        super::text::time_of(r.last_unix_ms)
    )
}

fn by_class(report: &Report) -> String {
    report
        .summary
        .failed_loads_by_class
        .iter()
        .map(|(class, n)| format!("{class} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn timestamp(unix_ms: u64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(unix_ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
