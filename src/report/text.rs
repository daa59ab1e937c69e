//! The summary people read at the end of a run, in a terminal or a CI log.

use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

use super::Report;
use crate::verdict::Status;

const SHOWN_RESOURCES: usize = 10;

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let verdict = match report.verdict.status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Inconclusive => "INCONCLUSIVE",
    };
    let _ = writeln!(
        out,
        "{verdict}: {} — {}",
        report.target, report.verdict.reason
    );
    if report.interrupted {
        let _ = writeln!(
            out,
            "  (interrupted: results cover the loads finished before the stop; {} abandoned)",
            report.prober.abandoned_loads
        );
    }
    let _ = writeln!(
        out,
        "  loads     {} in {:.1}s ({:.2}/s), {} ok, {} failed, {} prober errors",
        s.loads, s.duration_s, s.loads_per_s, s.ok, s.failed, s.prober_errors
    );
    let _ = writeln!(
        out,
        "  load time p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms; {} requests",
        s.load_ms.p50, s.load_ms.p95, s.load_ms.max, s.requests
    );
    if !s.failed_loads_by_class.is_empty() {
        let classes: Vec<String> = s
            .failed_loads_by_class
            .iter()
            .map(|(class, n)| format!("{class} {n}"))
            .collect();
        let _ = writeln!(out, "  failed loads by class: {}", classes.join(", "));
    }
    if report.prober.browser_relaunches > 0 {
        let _ = writeln!(
            out,
            "  Chromium was relaunched {} time(s)",
            report.prober.browser_relaunches
        );
    }
    let listed = failing_resources(report, SHOWN_RESOURCES);
    if !listed.is_empty() {
        let _ = writeln!(out, "  failing resources:");
        out.push_str(&listed);
    }
    out
}

/// One line per failing resource that counts against the site, most frequent first.
pub fn failing_resources(report: &Report, max: usize) -> String {
    let mut out = String::new();
    let culprits: Vec<_> = report
        .summary
        .failing_resources
        .iter()
        .filter(|r| report.counts(r.class))
        .collect();
    for r in culprits.iter().take(max) {
        let versions = if r.versions.is_empty() {
            String::new()
        } else {
            format!(" [{}]", r.versions.join(", "))
        };
        let _ = writeln!(
            out,
            "    {:>5}x {:<13} {} {}{versions}  ({} .. {})",
            r.count,
            r.class.as_str(),
            r.how(),
            r.url,
            time_of(r.first_unix_ms),
            time_of(r.last_unix_ms)
        );
    }
    if culprits.len() > max {
        let _ = writeln!(
            out,
            "    ... and {} more (see the JSON report)",
            culprits.len() - max
        );
    }
    out
}

/// Wall-clock time of day, UTC, to the millisecond: enough to line failures up with deploy logs.
pub fn time_of(unix_ms: u64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(unix_ms);
    let full = humantime::format_rfc3339_millis(t).to_string();
    full.get(11..23).unwrap_or(&full).to_string()
}
