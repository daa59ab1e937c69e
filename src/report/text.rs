//! The summary people read at the end of a run, in a terminal or a CI log.

use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

use crate::model::{
    FailingResource, FailureClass, Kind, Phase, Population, PopulationFailure, Report, Source,
    Status,
};

const SHOWN_RESOURCES: usize = 10;
const SHOWN_TAB_FAILURES: usize = 3;

pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): {} — {}",
        status_word(report.verdict.status),
        report.basis(),
        report.target,
        report.verdict.reason
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
    if let Some(caveat) = report.settings.certificate_caveat() {
        let _ = writeln!(out, "  certs     {caveat}");
    }
    if !report.settings.resolve.is_empty() {
        let _ = writeln!(out, "  resolve   {}", report.settings.resolve.join(", "));
    }
    if let (n @ 1.., Some(ms)) = (s.long_lived_requests, report.settings.long_request_ms) {
        let _ = writeln!(
            out,
            "  streams   {n} long-lived requests (event streams, WebSockets, fetches open over {}): loads did not wait for them to end",
            crate::model::shown(Duration::from_millis(ms))
        );
    }
    phase_lines(&mut out, report);
    judged_line(&mut out, report);
    evidence_line(&mut out, report);
    deploy_and_versions(&mut out, report);
    baseline_lines(&mut out, report);
    retention_lines(&mut out, report);
    for check in &report.checks {
        let mark = match (check.passed, check.warning) {
            (true, _) => "ok  ",
            (false, true) => "WARN",
            (false, false) => "FAIL",
        };
        let _ = writeln!(out, "  check     {mark} {}: {}", check.name, check.message);
    }
    population_lines(&mut out, report);
    cause_lines(&mut out, report);
    for note in &report.notes {
        let _ = writeln!(out, "  note      {note}");
    }
    prober_line(&mut out, report);
    let listed = failing_resources(report, None, &s.failing_resources, SHOWN_RESOURCES);
    if !listed.is_empty() {
        let _ = writeln!(out, "  failing resources:");
        out.push_str(&listed);
    }
    for diagnosis in report.diagnoses().iter().take(4) {
        let _ = writeln!(out, "  diagnosis: {diagnosis}");
    }
    out
}

/// The pods that failed, then each cause with its fix.
fn cause_lines(out: &mut String, report: &Report) {
    let failed = super::causes::failed_pods(report);
    if let (Some(pods), false) = (&report.pods, failed.is_empty()) {
        let (n, answered) = (
            pods.pods.len(),
            pods.pods.iter().filter(|p| p.answers > 0).count(),
        );
        let failed = failed.join("; ");
        let _ = writeln!(
            out,
            "  pods      {n} ({answered} answered); failed: {failed}"
        );
    }
    for c in &report.causes {
        let _ = writeln!(out, "  cause     {}", super::causes::cause_line(c));
        let _ = writeln!(out, "            fix: {}", c.fix);
    }
}

/// A line per phase around a deploy; the failed classes otherwise.
fn phase_lines(out: &mut String, report: &Report) {
    let s = &report.summary;
    if report.phases.len() > 1 {
        for p in &report.phases {
            let pre = match p.pre_existing_only {
                0 => String::new(),
                n => format!(" ({n} only on pre-existing failures)"),
            };
            let _ = writeln!(
                out,
                "  {:<9} {:<12} {:>4} loads, {:>3} failed{}{pre}  {} .. {}",
                p.phase.as_str(),
                status_word(p.verdict.status),
                p.summary.loads,
                p.summary.failed,
                by_class(&p.summary.failed_loads_by_class),
                time_of(p.started_at_ms),
                time_of(p.ended_at_ms)
            );
        }
    } else if !s.failed_loads_by_class.is_empty() {
        let _ = writeln!(
            out,
            "  failed loads by class:{}",
            by_class(&s.failed_loads_by_class)
        );
    }
}

/// Each population of users who stay, per phase, and its first failures as the story of
/// the user.
fn population_lines(out: &mut String, report: &Report) {
    for kind in Kind::ALL {
        if let Some(p) = report.population(kind) {
            one_population(out, report, kind, p);
        }
    }
}

fn one_population(out: &mut String, report: &Report, kind: Kind, p: &Population) {
    let round = kind.round();
    let phases: Vec<String> = p
        .phases
        .iter()
        .map(|ph| {
            let opened = match ph.openings {
                0 => String::new(),
                n => format!("{n} {} + ", kind.opening()),
            };
            let of = ph.openings + ph.rounds;
            let worker = match ph.from_service_worker {
                0 => String::new(),
                n => format!(" ({n} answered by the service worker)"),
            };
            format!(
                "{} {opened}{} {round}(s), {} of {of} failed{worker}",
                ph.phase, ph.rounds, ph.failed
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "  {:<9} {} {}, a {round} {} after the previous one: {}",
        match kind {
            Kind::OpenTabs => "tabs",
            Kind::ReturningUsers => "returning",
        },
        p.tabs,
        kind.title(),
        crate::model::shown(Duration::from_secs_f64(p.every_s)),
        phases.join("; ")
    );
    if p.cut > 0 {
        let _ = writeln!(
            out,
            "        {} {round}(s) in flight when probing ended were cut short by the stop",
            p.cut
        );
    }
    let counted = p
        .failures
        .iter()
        .filter(|f| report.counted(Some(f.phase), f.class, &f.url));
    for f in counted.take(SHOWN_TAB_FAILURES) {
        let _ = writeln!(out, "        {}", story(kind, f));
    }
    let gone = p.failures.iter().find(|f| {
        matches!(
            f.class,
            FailureClass::MissingAsset | FailureClass::WrongContent
        ) && report.counted(Some(f.phase), f.class, &f.url)
    });
    if let Some(gone) = gone {
        let _ = writeln!(out, "  diagnosis: {}", diagnosis(kind, gone));
    }
}

/// One failure as the user's story: `tab 0 opened on v1 at 12:00:03, asked for
/// /assets/index-3f9a1c.js at 12:00:41, answered 404 by v2 (missing_asset)`.
fn story(kind: Kind, f: &PopulationFailure) -> String {
    let who = format!(
        "{} {} {} on {} at {}",
        kind.user(),
        f.tab,
        kind.opened(),
        f.opened_on.as_deref().unwrap_or("an unknown version"),
        time_of(f.opened_at_ms),
    );
    // A step is not a request: what failed is the step, as it says.
    if f.class == FailureClass::StepFailed {
        return format!(
            "{who}, {} {} at {}: {}",
            kind.round(),
            f.round,
            time_of(f.at_unix_ms),
            f.message
        );
    }
    let how = f.answer().unwrap_or_else(|| f.class.to_string());
    let by = f
        .answered_by
        .as_ref()
        .map(|v| format!(" by {v}"))
        .unwrap_or_default();
    let from = f
        .source
        .map(|s| format!(" {}", s.words()))
        .unwrap_or_default();
    let now_runs = match &f.runs {
        Some(v) => format!(", running {v}"),
        None => String::new(),
    };
    format!(
        "{who}{now_runs}, asked for {} at {}, answered {how}{by}{from} ({})",
        f.url,
        time_of(f.at_unix_ms),
        f.class
    )
}

/// What a user who stays met, and what it means for every visit after.
fn diagnosis(kind: Kind, gone: &PopulationFailure) -> String {
    let (runs, url) = (gone.runs(), &gone.url);
    match (kind, gone.source) {
        (_, Some(Source::ServiceWorkerCache)) => format!(
            "a {} running {runs} gets {url} broken from its service worker's cache: every visit until a new worker takes over gets it so, whatever the server answers now",
            kind.user()
        ),
        (_, Some(Source::HttpCache)) => format!(
            "a {} running {runs} gets {url} broken from the browser's HTTP cache: it keeps it as long as the answer's Cache-Control allows",
            kind.user()
        ),
        (Kind::OpenTabs, _) => format!(
            "a tab runs {runs} and {runs}'s {url} is no longer served: its next lazy chunk will fail"
        ),
        (Kind::ReturningUsers, _) => format!(
            "a returning user running {runs} asked for {url}, which is no longer served as it was"
        ),
    }
}

/// Lines shown of each list of the comparison with the baseline.
const SHOWN_COMPARED: usize = 5;

/// What the deployment changed against the baseline, and what it already had: the figures
/// behind the verdict.
fn baseline_lines(out: &mut String, report: &Report) {
    let Some(c) = &report.baseline else { return };
    let _ = writeln!(
        out,
        "  baseline  judged against {} baseline load(s) ({})",
        c.baseline_loads, c.test
    );
    if let Some(why) = &c.cannot_vouch {
        let _ = writeln!(out, "    cannot vouch: {why}");
    }
    let new = c.failures.iter().filter(|f| !f.pre_existing()).count();
    if new > 0 {
        let _ = writeln!(
            out,
            "    new       {new} resource(s) failing as the baseline's never did (failing resources below)"
        );
    }
    for (word, rose) in [("rose", true), ("before", false)] {
        let listed: Vec<_> = c
            .failures
            .iter()
            .filter(|f| f.pre_existing() && f.changed() == rose)
            .collect();
        for f in listed.iter().take(SHOWN_COMPARED) {
            let _ = writeln!(out, "    {word:<9} {}", f.figures(c.baseline_loads));
        }
        if listed.len() > SHOWN_COMPARED {
            let _ = writeln!(
                out,
                "    {word:<9} ... and {} more (see the JSON report)",
                listed.len() - SHOWN_COMPARED
            );
        }
    }
}

/// How many loads each verdict rests on: prober errors and abandoned loads say nothing.
fn judged_line(out: &mut String, report: &Report) {
    let per_phase: Vec<String> = report
        .phases
        .iter()
        .map(|p| {
            let n = p.summary.judged();
            if report.phases.len() > 1 {
                format!("{} {n}", p.phase)
            } else {
                n.to_string()
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "  judged    the verdict rests on {} load(s)",
        per_phase.join(", ")
    );
}

/// Where the screenshots and HAR files of failed loads went, when any were saved.
fn evidence_line(out: &mut String, report: &Report) {
    let saved: Vec<&str> = report
        .loads
        .iter()
        .filter_map(|l| l.artifacts.as_ref())
        .filter_map(|a| a.screenshot.as_deref().or(a.har.as_deref()))
        .collect();
    let Some(first) = saved.first() else { return };
    let dir = std::path::Path::new(first)
        .parent()
        .map_or(String::new(), |d| format!("{}/", d.display()));
    let _ = writeln!(
        out,
        "  evidence  {} failed load(s) saved in {dir} (screenshot and HAR file each)",
        saved.len()
    );
}

/// How the deploy command ended, and the versions served.
fn deploy_and_versions(out: &mut String, report: &Report) {
    if let Some(d) = &report.deploy {
        let how = d
            .exit_code
            .map_or("was killed".to_string(), |c| format!("exited {c}"));
        let log = d
            .log
            .as_ref()
            .map(|l| format!(", output in {l}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  deploy    `{}` {how} after {:.1}s{log}",
            d.command.join(" "),
            d.ended_at_ms.saturating_sub(d.started_at_ms) as f64 / 1000.0
        );
    }
    if let Some(v) = &report.versions {
        let seen: Vec<String> = v
            .seen
            .iter()
            .map(|s| format!("{} (in {} loads)", s.version, s.loads))
            .collect();
        let _ = write!(out, "  versions  {}", seen.join(", "));
        if let Some(w) = &v.mixed_window {
            let _ = write!(
                out,
                "; mixed {} .. {} ({:.1}s)",
                time_of(w.start_unix_ms),
                time_of(w.end_unix_ms),
                w.end_unix_ms.saturating_sub(w.start_unix_ms) as f64 / 1000.0
            );
        }
        out.push('\n');
    }
}

/// What the retention check found: a count line, then each asset not served.
fn retention_lines(out: &mut String, report: &Report) {
    let Some(r) = &report.retention else { return };
    if r.not_checked.is_some() {
        return;
    }
    let of = if r.old_versions.is_empty() {
        String::new()
    } else {
        format!(" of {}", r.old_versions.join(", "))
    };
    let mut counts = vec![format!("{} served", r.served.len())];
    if !r.gone.is_empty() {
        counts.push(format!("{} gone", r.gone.len()));
    }
    if !r.unchecked.is_empty() {
        counts.push(format!("{} unchecked", r.unchecked.len()));
    }
    let _ = writeln!(
        out,
        "  retention {} assets{of} after the deployment: {} ({} requests each, {:.1}s)",
        r.assets.len(),
        counts.join(", "),
        r.attempts,
        r.duration_ms as f64 / 1000.0
    );
    let not_served: Vec<_> = r
        .assets
        .iter()
        .filter(|a| a.kept != crate::model::Kept::Served)
        .collect();
    for a in not_served.iter().take(SHOWN_RESOURCES) {
        let answered = if a.answered_by.is_empty() {
            String::new()
        } else {
            format!(" [answered by {}]", a.answered_by.join(", "))
        };
        let _ = writeln!(
            out,
            "    {:<9} {} {}{answered}",
            a.kept.as_str(),
            a.how.as_deref().unwrap_or(""),
            a.url
        );
    }
    if not_served.len() > SHOWN_RESOURCES {
        let _ = writeln!(
            out,
            "    ... and {} more (see the JSON report)",
            not_served.len() - SHOWN_RESOURCES
        );
    }
}

/// Which browser ran, and the prober's own downtime when Chromium had to be relaunched.
fn prober_line(out: &mut String, report: &Report) {
    if let Some(browser) = &report.prober.browser {
        let _ = writeln!(out, "  browser   {browser}");
    }
    let dialogs = report.dialogs();
    if !dialogs.is_empty() {
        let _ = writeln!(
            out,
            "  dialogs   answered as a user would: {}",
            dialogs.join(", ")
        );
    }
    workers_line(out, report);
    if report.settings.context_per_worker {
        let _ = writeln!(
            out,
            "  context   one per worker, cleared between its loads: its renderer and open connections carried over (--context per-worker)"
        );
    }
    if report.prober.browser_relaunches > 0 {
        let down_ms: u64 = report
            .prober
            .browser_outages
            .iter()
            .map(|o| o.to_unix_ms.saturating_sub(o.from_unix_ms))
            .sum();
        let _ = writeln!(
            out,
            "  prober    Chromium died and was relaunched {} time(s), {:.1}s without a browser (not the site's downtime)",
            report.prober.browser_relaunches,
            down_ms as f64 / 1000.0
        );
    }
}

/// `--workers auto`: the counts it went through and where it held, e.g.
/// `auto, 2 → 4 → 8 → 16 → 8 (ceiling 16), 8 from 12 s on`.
fn workers_line(out: &mut String, report: &Report) {
    let steps = &report.prober.worker_steps;
    let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
        return;
    };
    let counts: Vec<String> = steps.iter().map(|s| s.workers.to_string()).collect();
    let held_from = last.at_ms.saturating_sub(first.at_ms) as f64 / 1000.0;
    let _ = writeln!(
        out,
        "  workers   auto, {} (ceiling {}), {} from {held_from:.0} s on",
        counts.join(" → "),
        report.settings.workers,
        last.workers
    );
}

pub fn status_word(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Inconclusive => "INCONCLUSIVE",
    }
}

fn by_class(classes: &std::collections::BTreeMap<crate::model::FailureClass, u64>) -> String {
    classes
        .iter()
        .map(|(class, n)| format!(" {class} {n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// One line per failing resource that counts against the site, most frequent first.
/// Against the baseline, only what counted against `phase` (the whole run: None).
pub fn failing_resources(
    report: &Report,
    phase: Option<Phase>,
    resources: &[FailingResource],
    max: usize,
) -> String {
    let mut out = String::new();
    let culprits: Vec<&FailingResource> = resources
        .iter()
        .filter(|r| report.counted(phase, r.class, &r.url))
        .collect();
    for r in culprits.iter().take(max) {
        let versions = if r.versions.is_empty() {
            String::new()
        } else {
            format!(" [answered by {}]", r.versions.join(", "))
        };
        // A page-level failure has no status or error: its class says it all.
        let how = Some(r.how())
            .filter(|h| h != r.class.as_str())
            .map(|h| h + " ")
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "    {:>5}x {:<13} {how}{}{versions}  ({} .. {})",
            r.count,
            r.class.as_str(),
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
    let mut full = String::new();
    // humantime refuses a time past the year 9999: a corrupt report, not a reason to panic.
    match write!(full, "{}", humantime::format_rfc3339_millis(t)) {
        Ok(()) => full.get(11..23).unwrap_or(&full).to_string(),
        Err(_) => "--:--:--.---".into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::judge::fixtures;

    #[test]
    fn the_summary_leads_with_the_verdict_and_names_the_culprits() {
        let text = super::render(&fixtures::report("naive"));
        assert!(
            text.starts_with("FAIL (absolute): http://127.0.0.1:18431/ — "),
            "{text}"
        );
        assert!(text.contains("failing resources:"), "{text}");
        assert!(
            text.contains("missing_asset 404 http://127.0.0.1:18431/assets/"),
            "{text}"
        );
        assert!(text.contains("diagnosis: index.html from v"), "{text}");
        let steady = super::render(&fixtures::report("steady"));
        assert!(steady.starts_with("PASS (absolute): "), "{steady}");
        assert!(!steady.contains("failing resources"), "{steady}");
    }

    #[test]
    fn certificates_not_fully_checked_are_said_in_the_summary_and_the_settings() {
        use crate::model::Certificates;
        let mut r = fixtures::report("steady");
        let checked = super::render(&r);
        assert!(!checked.contains("certs"), "{checked}");
        let json = serde_json::to_value(&r).unwrap();
        assert!(
            json["settings"].get("certificates").is_none(),
            "the default is omitted"
        );

        r.settings.certificates = Certificates::Insecure;
        let text = super::render(&r);
        assert!(
            text.contains("\n  certs     NOT checked: any certificate was accepted (insecure)"),
            "{text}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["settings"]["certificates"], "insecure");

        r.settings.certificates = Certificates::Trusted;
        r.settings.trusted_certs = vec!["c.pem: CN=staging (spki sha256/AAAA)".into()];
        let text = super::render(&r);
        assert!(
            text.contains(
                "certs     checked, also trusting 1 certificate (--trust-cert): c.pem: CN=staging"
            ),
            "{text}"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["settings"]["certificates"], "trusted");
        assert_eq!(
            json["settings"]["trusted_certs"][0],
            "c.pem: CN=staging (spki sha256/AAAA)"
        );
        let html = crate::report::html::render(&r);
        assert!(
            html.contains("certificates checked, also trusting 1 certificate"),
            "{html}"
        );
    }

    /// A report is read back from files by `merge`: a time past what RFC 3339 can write (an
    /// older version wrote u64::MAX for a span it never saw) reads as unknown, not a panic.
    #[test]
    fn time_of_day_to_the_millisecond_and_unknown_past_the_year_9999() {
        assert_eq!(super::time_of(1_796_235_817_637), "18:23:37.637");
        assert_eq!(super::time_of(u64::MAX), "--:--:--.---");
    }

    #[test]
    fn phases_get_a_line_each_around_a_deploy() {
        let text = super::render(&fixtures::absolute_report("failing-baseline"));
        for phase in ["baseline  FAIL", "rollout   FAIL", "settle "] {
            assert!(text.contains(phase), "{phase}: {text}");
        }
        assert!(
            text.contains("check     ok   final version is v2")
                || text.contains("check     FAIL final version is v2"),
            "{text}"
        );
    }
}
