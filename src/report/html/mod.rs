//! A self-contained HTML report: one file, inline CSS and inline SVG, no script, no network.
//! Open it from a CI artifact, mail it, print it.
//!
//! Elements carry stable ids, classes and `data-*` attributes so tests and scripts can read the
//! numbers back: `#verdict[data-status]`, `rect.bar.{ok,failed,prober}[data-second][data-count]`,
//! `rect.phase[data-phase]`, `rect.version[data-version][data-second][data-count]`,
//! `tr.class-row[data-class]`, `tr.failure-row[data-phase][data-class][data-url][data-count]`,
//! `tr.check[data-passed]`, `tr.slow-load[data-load-id][data-duration-ms]`,
//! `tr.retention-row[data-kept][data-url]`, `img.thumb[data-load-id]` (a failed load's
//! screenshot, in its failing resource rows).

use std::fmt::Write;

mod baseline;
mod evidence;
mod pods;
mod retention;
mod settings;
mod tabs;
mod timeline;

use super::Exporter;
use super::text::{status_word, time_of};
use crate::model::{FailingResource, FailureClass, Load, Outcome, Report, Status};

const SLOWEST: usize = 10;
/// Failure rows per phase; the JSON report has the rest.
const MAX_ROWS: usize = 200;

/// The HTML exporter; `dir` is where the file goes (absolute; None: standard output), which the
/// evidence's paths are written relative to, so the report and its `-artifacts/` folder can be
/// kept or attached together anywhere.
pub struct Html {
    pub dir: Option<std::path::PathBuf>,
}

impl Exporter for Html {
    fn render(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        let Some(dir) = &self.dir else {
            return Ok(render(report).into_bytes());
        };
        let mut report = report.clone();
        for l in &mut report.loads {
            if let Some(a) = &mut l.artifacts {
                for path in [&mut a.screenshot, &mut a.har].into_iter().flatten() {
                    *path = crate::report::evidence::relative(std::path::Path::new(path), dir)
                        .display()
                        .to_string();
                }
            }
        }
        Ok(render(&report).into_bytes())
    }
}

/// Text made safe for HTML element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Inconclusive => "inconclusive",
    }
}

fn secs(from_ms: u64, to_ms: u64) -> f64 {
    to_ms.saturating_sub(from_ms) as f64 / 1000.0
}

pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let status = status_word(report.verdict.status);
    let _ = write!(
        out,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{tool}">
<title>rollprobe {status}: {target}</title>
<style>{CSS}</style>
</head>
<body>
"#,
        tool = esc(&report.tool),
        target = esc(&report.target),
    );
    verdict(&mut out, report);
    summary(&mut out, report);
    timeline::timeline(&mut out, report);
    failures(&mut out, report);
    baseline::section(&mut out, report);
    tabs::populations(&mut out, report);
    pods::section(&mut out, report);
    checks(&mut out, report);
    retention::section(&mut out, report);
    deploy(&mut out, report);
    versions(&mut out, report);
    slowest(&mut out, report);
    settings::all(&mut out, report);
    footer(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

fn verdict(out: &mut String, r: &Report) {
    let v = &r.verdict;
    let _ = write!(
        out,
        r#"<header id="verdict" class="verdict {cls}" data-status="{cls}" data-exit-code="{code}">
<div class="status">{word} <span class="basis">({basis})</span></div>
<div class="reason">{reason}</div>
<div class="target"><a href="{target}" rel="noreferrer">{target}</a> · {start} – {end} UTC ({dur:.1} s){interrupted}</div>
</header>
"#,
        cls = status_class(v.status),
        code = v.exit_code,
        word = status_word(v.status),
        basis = r.basis(),
        reason = esc(&v.reason),
        target = esc(&r.target),
        start = time_of(r.started_at_ms),
        end = time_of(r.finished_at_ms),
        dur = secs(r.started_at_ms, r.finished_at_ms),
        interrupted = if r.interrupted {
            format!(
                " · <strong>interrupted</strong> ({} loads abandoned)",
                r.prober.abandoned_loads
            )
        } else {
            String::new()
        },
    );
}

fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    let _ = write!(
        out,
        r#"<section id="summary">
<div class="stats">
<div class="stat" data-stat="loads"><b>{loads}</b>loads</div>
<div class="stat ok" data-stat="ok"><b>{ok}</b>ok</div>
<div class="stat failed" data-stat="failed"><b>{failed}</b>failed</div>
<div class="stat prober" data-stat="prober_errors"><b>{prober}</b>prober errors</div>
<div class="stat" data-stat="p50"><b>{p50:.0} ms</b>p50 load</div>
<div class="stat" data-stat="p95"><b>{p95:.0} ms</b>p95 load</div>
<div class="stat" data-stat="max"><b>{max:.0} ms</b>slowest load</div>
<div class="stat" data-stat="requests"><b>{requests}</b>requests</div>{long_lived}
</div>
"#,
        loads = s.loads,
        ok = s.ok,
        failed = s.failed,
        prober = s.prober_errors,
        p50 = s.load_ms.p50,
        p95 = s.load_ms.p95,
        max = s.load_ms.max,
        requests = s.requests,
        long_lived = if s.long_lived_requests > 0 {
            format!(
                "\n<div class=\"stat\" data-stat=\"long_lived_requests\" title=\"event streams, WebSockets and long polls the loads did not wait for\"><b>{}</b>long-lived requests</div>",
                s.long_lived_requests
            )
        } else {
            String::new()
        },
    );
    if !r.phases.is_empty() {
        out.push_str(
            "<table id=\"phases\"><thead><tr><th>phase</th><th>verdict</th><th>loads</th><th>ok</th>\
             <th>failed</th><th>prober errors</th><th>p95</th><th>from</th><th>to</th><th>reason</th></tr></thead><tbody>\n",
        );
        for p in &r.phases {
            let _ = writeln!(
                out,
                r#"<tr class="phase-row {cls}" data-phase="{phase}" data-status="{cls}" data-loads="{loads}" data-failed="{failed}"><td>{phase}</td><td class="badge {cls}">{word}</td><td>{loads}</td><td>{ok}</td><td>{failed}</td><td>{prober}</td><td>{p95:.0} ms</td><td>{from}</td><td>{to}</td><td>{reason}</td></tr>"#,
                cls = status_class(p.verdict.status),
                word = status_word(p.verdict.status),
                phase = p.phase,
                loads = p.summary.loads,
                ok = p.summary.ok,
                failed = p.summary.failed,
                prober = p.summary.prober_errors,
                p95 = p.summary.load_ms.p95,
                from = time_of(p.started_at_ms),
                to = time_of(p.ended_at_ms),
                reason = esc(&p.verdict.reason),
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}

fn failures(out: &mut String, r: &Report) {
    out.push_str("<section id=\"failures\"><h2>Failures</h2>\n");
    let s = &r.summary;
    if s.failed_loads_by_class.is_empty() && s.failures_by_class.is_empty() {
        out.push_str("<p class=\"empty\">No failures.</p></section>\n");
        return;
    }
    out.push_str(
        "<table id=\"classes\"><thead><tr><th>class</th><th>failed loads</th><th>failures</th><th></th></tr></thead><tbody>\n",
    );
    for class in FailureClass::ALL {
        let loads = s.failed_loads_by_class.get(&class).copied().unwrap_or(0);
        let n = s.failures_by_class.get(&class).copied().unwrap_or(0);
        if loads == 0 && n == 0 {
            continue;
        }
        let counted = r.settings.counts(class);
        let _ = writeln!(
            out,
            r#"<tr class="class-row{muted}" data-class="{class}" data-loads="{loads}" data-failures="{n}" data-counted="{counted}"><td>{class}</td><td>{loads}</td><td>{n}</td><td>{why}</td></tr>"#,
            muted = if counted { "" } else { " muted" },
            why = if counted {
                ""
            } else {
                "recorded, not counted against the site"
            },
        );
    }
    out.push_str("</tbody></table>\n");
    for p in &r.phases {
        if p.summary.failing_resources.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            r#"<h3>{phase}: failing resources</h3><table class="resources" data-phase="{phase}"><thead><tr><th>count</th><th>class</th><th>how</th><th>URL</th><th>first seen</th><th>last seen</th><th>served by</th><th>screenshot</th></tr></thead><tbody>"#,
            phase = p.phase
        );
        for f in p.summary.failing_resources.iter().take(MAX_ROWS) {
            failure_row(out, r, p.phase, f);
        }
        if p.summary.failing_resources.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                r#"<tr><td colspan="8">… and {} more in the JSON report</td></tr>"#,
                p.summary.failing_resources.len() - MAX_ROWS
            );
        }
        out.push_str("</tbody></table>\n");
    }
    for diagnosis in r.diagnoses() {
        let _ = writeln!(
            out,
            r#"<p class="diagnosis"><b>Diagnosis:</b> {}</p>"#,
            esc(diagnosis)
        );
    }
    out.push_str("</section>\n");
}

fn failure_row(out: &mut String, r: &Report, phase: crate::model::Phase, f: &FailingResource) {
    let _ = writeln!(
        out,
        r#"<tr class="failure-row{muted}" data-phase="{phase}" data-class="{class}" data-url="{url}" data-count="{count}" data-first-ms="{first}" data-last-ms="{last}"><td class="num">{count}</td><td>{class}</td><td>{how}</td><td class="url">{url}</td><td>{first_t}</td><td>{last_t}</td><td>{versions}</td>{evidence}</tr>"#,
        muted = if r.counted(Some(phase), f.class, &f.url) {
            ""
        } else {
            " muted"
        },
        class = f.class,
        url = esc(&f.url),
        count = f.count,
        first = f.first_unix_ms,
        last = f.last_unix_ms,
        how = esc(&f.how()),
        first_t = time_of(f.first_unix_ms),
        last_t = time_of(f.last_unix_ms),
        versions = esc(&f.versions.join(", ")),
        evidence = evidence::cell(r, phase, f),
    );
}

fn checks(out: &mut String, r: &Report) {
    if r.checks.is_empty() && r.notes.is_empty() {
        return;
    }
    out.push_str("<section id=\"checks\"><h2>Checks and notes</h2>\n");
    if !r.checks.is_empty() {
        out.push_str("<table><tbody>\n");
        for c in &r.checks {
            let _ = writeln!(
                out,
                r#"<tr class="check {cls}" data-passed="{passed}"><td class="badge {cls}">{word}</td><td>{name}</td><td>{message}</td></tr>"#,
                cls = match (c.passed, c.warning) {
                    (true, _) => "pass",
                    (false, true) => "inconclusive",
                    (false, false) => "fail",
                },
                word = match (c.passed, c.warning) {
                    (true, _) => "ok",
                    (false, true) => "WARN",
                    (false, false) => "FAIL",
                },
                passed = c.passed,
                name = esc(&c.name),
                message = esc(&c.message),
            );
        }
        out.push_str("</tbody></table>\n");
    }
    if !r.notes.is_empty() {
        out.push_str("<ul id=\"notes\">\n");
        for n in &r.notes {
            let _ = writeln!(out, "<li class=\"note\">{}</li>", esc(n));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn deploy(out: &mut String, r: &Report) {
    let Some(d) = &r.deploy else { return };
    let how = d
        .exit_code
        .map_or("was killed or could not start".to_string(), |c| {
            format!("exited {c}")
        });
    let _ = writeln!(
        out,
        r#"<section id="deploy" data-exit-code="{code}"><h2>Deploy command</h2>
<pre class="command">{command}</pre>
<p class="{cls}">{how}; ran {start} – {end} UTC ({dur:.1} s){log}</p>
</section>"#,
        code = d.exit_code.map_or("none".to_string(), |c| c.to_string()),
        command = esc(&d.command.join(" ")),
        cls = if d.exit_code == Some(0) {
            "pass-text"
        } else {
            "fail-text"
        },
        start = time_of(d.started_at_ms),
        end = time_of(d.ended_at_ms),
        dur = secs(d.started_at_ms, d.ended_at_ms),
        log = d
            .log
            .as_ref()
            .map(|l| format!("; output in <code>{}</code>", esc(l)))
            .unwrap_or_default(),
    );
}

fn versions(out: &mut String, r: &Report) {
    let Some(v) = &r.versions else { return };
    out.push_str("<section id=\"versions\"><h2>Versions served</h2><table><thead><tr><th>version</th><th>loads</th><th>first</th><th>last</th></tr></thead><tbody>\n");
    for s in &v.seen {
        let _ = writeln!(
            out,
            r#"<tr class="version-row" data-version="{ver}" data-loads="{loads}"><td>{ver}</td><td>{loads}</td><td>{first}</td><td>{last}</td></tr>"#,
            ver = esc(&s.version),
            loads = s.loads,
            first = time_of(s.first_unix_ms),
            last = time_of(s.last_unix_ms),
        );
    }
    out.push_str("</tbody></table>\n");
    if let Some(w) = &v.mixed_window {
        let _ = writeln!(
            out,
            "<p id=\"mixed-window\">Two versions were served at once from {} to {} UTC ({:.1} s): users could get a page of one version and assets of another.</p>",
            time_of(w.start_unix_ms),
            time_of(w.end_unix_ms),
            secs(w.start_unix_ms, w.end_unix_ms)
        );
    }
    out.push_str("</section>\n");
}

fn slowest(out: &mut String, r: &Report) {
    let mut loads: Vec<&Load> = r.loads.iter().collect();
    if loads.is_empty() {
        return;
    }
    loads.sort_by(|a, b| {
        b.duration_ms
            .total_cmp(&a.duration_ms)
            .then(a.id.cmp(&b.id))
    });
    out.push_str("<section id=\"slowest\"><h2>Slowest loads</h2><table><thead><tr><th>load</th><th>duration</th><th>started</th><th>phase</th><th>outcome</th><th>classes</th><th>requests</th><th>version</th></tr></thead><tbody>\n");
    for l in loads.into_iter().take(SLOWEST) {
        let outcome = match l.outcome {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::ProberError => "prober_error",
        };
        let classes: Vec<&str> = l.classes.iter().map(|c| c.as_str()).collect();
        let _ = writeln!(
            out,
            r#"<tr class="slow-load {outcome}" data-load-id="{id}" data-duration-ms="{ms:.0}"><td>#{id}</td><td class="num">{ms:.0} ms</td><td>{at}</td><td>{phase}</td><td>{outcome}</td><td>{classes}</td><td>{requests}</td><td>{version}</td></tr>"#,
            id = l.id,
            ms = l.duration_ms,
            at = time_of(l.started_at_ms),
            phase = l.phase,
            classes = classes.join(", "),
            requests = l.requests,
            version = esc(l.version.as_deref().unwrap_or("")),
        );
    }
    out.push_str("</tbody></table></section>\n");
}

fn footer(out: &mut String, r: &Report) {
    let s = &r.settings;
    let mut settings = vec![
        format!(
            "{} workers{}",
            s.workers,
            if s.context_per_worker {
                ", a context each"
            } else {
                ""
            }
        ),
        format!("idle {} ms", s.idle_ms),
        format!("load timeout {} ms", s.load_timeout_ms),
        format!("SLO {} %", s.slo.min_success_percent),
    ];
    if let Some(max) = s.slo.max_failed_loads {
        settings.push(format!("up to {max} failed loads"));
    }
    if !s.ignore.is_empty() {
        settings.push(format!("ignoring {}", s.ignore.join(", ")));
    }
    if s.fail_on_js_error {
        settings.push("JS errors fail loads".to_string());
    }
    if let Some(v) = &s.version_source {
        settings.push(format!("version from {v}"));
    }
    if let Some(caveat) = s.certificate_caveat() {
        settings.push(format!("certificates {caveat}"));
    }
    if !s.resolve.is_empty() {
        settings.push(format!("resolving {}", s.resolve.join(", ")));
    }
    if r.truncated.failures_dropped > 0 || r.truncated.detailed_loads_dropped > 0 {
        settings.push(format!(
            "{} failures and {} load details not kept",
            r.truncated.failures_dropped, r.truncated.detailed_loads_dropped
        ));
    }
    let dialogs = r.dialogs();
    if !dialogs.is_empty() {
        settings.push(format!("dialogs answered: {}", dialogs.join(", ")));
    }
    if let Some(browser) = &r.prober.browser {
        settings.push(format!("ran in {browser}"));
    }
    if r.prober.browser_relaunches > 0 {
        settings.push(format!(
            "Chromium relaunched {} time(s)",
            r.prober.browser_relaunches
        ));
    }
    let _ = writeln!(
        out,
        r#"<footer>{tool}, report schema {schema} · {settings} · times are UTC</footer>"#,
        tool = esc(&r.tool),
        schema = r.schema_version,
        settings = esc(&settings.join(" · ")),
    );
}

const CSS: &str = r#"
:root { --ok: #2e7d32; --fail: #c62828; --warn: #b26a00; --prober: #9e9e9e; --ink: #1d1d1f; --mute: #6b6b70; --line: #e3e3e8; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 20px 32px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
.verdict { border-radius: 10px; padding: 16px 20px; color: #fff; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.verdict.pass { background: var(--ok); } .verdict.fail { background: var(--fail); } .verdict.inconclusive { background: var(--warn); }
.verdict .status { font-size: 40px; font-weight: 800; letter-spacing: .04em; line-height: 1.1; }
.verdict .reason { font-size: 18px; margin-top: 4px; }
.verdict .target { margin-top: 8px; opacity: .9; word-break: break-all; } .verdict a { color: inherit; }
.stats { display: flex; flex-wrap: wrap; gap: 8px; margin: 14px 0; }
.stat { flex: 1 1 110px; border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; color: var(--mute); font-size: 12px; }
.stat b { display: block; font-size: 20px; color: var(--ink); }
.stat.ok b { color: var(--ok); } .stat.failed b { color: var(--fail); } .stat.prober b { color: var(--prober); }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--mute); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.evidence img.thumb { width: 160px; height: auto; border: 1px solid var(--line); display: block; }
td.evidence .har, td.evidence .shot { font-size: 11px; color: var(--mute); word-break: break-all; }
td.url { word-break: break-all; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
.badge { font-weight: 700; } .badge.pass { color: var(--ok); } .badge.fail { color: var(--fail); } .badge.inconclusive { color: var(--warn); }
tr.muted { color: var(--mute); }
.pass-text { color: var(--ok); } .fail-text { color: var(--fail); }
pre.command { background: #f5f5f7; padding: 8px 10px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; }
svg { width: 100%; height: auto; display: block; font: 10px system-ui, sans-serif; }
svg .bar.ok { fill: var(--ok); } svg .bar.failed { fill: var(--fail); } svg .bar.prober { fill: var(--prober); }
svg .phase.even { fill: #f1f3f8; } svg .phase.odd { fill: #e6e9f2; }
svg .phase-label { fill: var(--mute); font-size: 11px; }
svg .axis line { stroke: #999; } svg .axis text, svg .tick, svg .strip-label { fill: var(--mute); }
svg .deploy-mark { stroke: #333; stroke-dasharray: 4 3; stroke-width: 1.2; }
svg .mixed-window { fill: none; stroke: var(--fail); stroke-width: 1.5; stroke-dasharray: 3 2; }
.legend { color: var(--mute); font-size: 12px; }
.key { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 3px 0 8px; vertical-align: -1px; }
.key.ok { background: var(--ok); } .key.failed { background: var(--fail); } .key.prober { background: var(--prober); }
.key.deploy { border-left: 2px dashed #333; border-radius: 0; width: 4px; }
.key.mixed { border: 1.5px dashed var(--fail); }
.empty { color: var(--mute); }
footer { margin-top: 28px; color: var(--mute); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  section, table, svg { break-inside: avoid; }
  h2 { break-after: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { text-decoration: none; }
}
"#;

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{
        Check, DeployRecord, Phase, PhaseReport, ProberStats, Summary, Truncation, Verdict,
    };

    pub(super) const T0: u64 = 1_700_000_000_000;

    pub(super) fn load(id: u64, at_ms: u64, outcome: Outcome, version: Option<&str>) -> Load {
        Load {
            id,
            worker: (id % 4) as usize,
            phase: Phase::Run,
            url: None,
            started_at_ms: at_ms,
            duration_ms: 100.0 + (id * 37 % 900) as f64,
            outcome,
            classes: match outcome {
                Outcome::Failed => vec![FailureClass::MissingAsset],
                Outcome::ProberError => vec![FailureClass::ProberError],
                Outcome::Ok => vec![],
            },
            failed_on: vec![],
            requests: 12,
            long_lived_requests: 0,
            version: version.map(str::to_string),
            served_by: vec![],
            pods: vec![],
            artifacts: None,
            dialogs: Vec::new(),
        }
    }

    fn verdict(status: Status, reason: &str) -> Verdict {
        Verdict {
            status,
            exit_code: if status == Status::Pass { 0 } else { 1 },
            reason: reason.to_string(),
        }
    }

    fn summary_of(loads: &[Load]) -> Summary {
        let of = |o: Outcome| loads.iter().filter(|l| l.outcome == o).count() as u64;
        Summary {
            loads: loads.len() as u64,
            ok: of(Outcome::Ok),
            failed: of(Outcome::Failed),
            prober_errors: of(Outcome::ProberError),
            ..Summary::default()
        }
    }

    /// A plain run over `duration_ms` from `T0` with these loads, versions derived from them.
    pub(super) fn report(loads: Vec<Load>, duration_ms: u64) -> Report {
        let settings = serde_json::from_value(serde_json::json!({
            "workers": 4,
            "idle_ms": 500,
            "load_timeout_ms": 30000,
            "ignore": [],
            "fail_on_js_error": false,
            "slo": { "min_success_percent": 100.0 },
        }))
        .unwrap();
        Report {
            schema_version: crate::model::SCHEMA_VERSION,
            tool: "rollprobe test".to_string(),
            target: "https://staging.example.com/".to_string(),
            settings,
            started_at_ms: T0,
            finished_at_ms: T0 + duration_ms,
            interrupted: false,
            verdict: verdict(Status::Pass, "every load succeeded"),
            summary: summary_of(&loads),
            phases: vec![],
            open_tabs: None,
            returning_users: None,
            checks: vec![],
            notes: vec![],
            deploy: None,
            baseline: None,
            versions: crate::judge::versions::analyse(&loads),
            retention: None,
            pods: None,
            causes: Vec::new(),
            prober: ProberStats::default(),
            loads,
            failures: vec![],
            failed_load_details: vec![],
            truncated: Truncation::default(),
        }
    }

    /// Four loads a second over two minutes, from half a second before the report's start,
    /// switching from version `1.0<b>` to `2.0` over the rollout phase.
    fn deploy_loads() -> Vec<Load> {
        (0..480u64)
            .map(|i| {
                let at = T0 - 500 + i * 250;
                let outcome = match i {
                    i if i % 17 == 0 => Outcome::Failed,
                    i if i % 29 == 0 => Outcome::ProberError,
                    _ => Outcome::Ok,
                };
                let version = match at.saturating_sub(T0) {
                    ms if ms < 50_000 => "1.0<b>",
                    ms if ms < 70_000 && i % 2 == 0 => "1.0<b>",
                    _ => "2.0",
                };
                let mut l = load(i, at, outcome, Some(version));
                l.phase = match at.saturating_sub(T0) {
                    ms if ms < 40_000 => Phase::Baseline,
                    ms if ms < 80_000 => Phase::Rollout,
                    _ => Phase::Settle,
                };
                l
            })
            .collect()
    }

    /// A URL built to break out of its attribute, then more rows than the report shows.
    fn rollout_failures() -> Vec<FailingResource> {
        let hostile = FailingResource {
            url: "https://cdn.example.com/app.js?\"><script>alert('x')</script>".to_string(),
            class: FailureClass::MissingAsset,
            status: Some(404),
            error: None,
            count: 9,
            first_unix_ms: T0 + 41_000,
            last_unix_ms: T0 + 79_000,
            versions: vec!["2.0".to_string(), "1.0<b>".to_string()],
        };
        let resets = (0..205u64).map(|i| FailingResource {
            url: format!("https://cdn.example.com/chunk-{i}.js"),
            class: FailureClass::NetworkError,
            status: None,
            error: Some("net::ERR_CONNECTION_RESET".to_string()),
            count: 1,
            first_unix_ms: T0 + 42_000 + i,
            last_unix_ms: T0 + 42_000 + i,
            versions: vec![],
        });
        std::iter::once(hostile).chain(resets).collect()
    }

    fn phase_report(
        r: &Report,
        phase: Phase,
        (from, to): (u64, u64),
        status: Status,
        failing: Vec<FailingResource>,
    ) -> PhaseReport {
        let in_phase: Vec<Load> = r
            .loads
            .iter()
            .filter(|l| l.phase == phase)
            .cloned()
            .collect();
        let mut summary = summary_of(&in_phase);
        summary.failing_resources = failing;
        summary.load_ms.p95 = 812.4;
        PhaseReport {
            phase,
            started_at_ms: T0 + from,
            ended_at_ms: T0 + to,
            verdict: verdict(status, "phase <reason>"),
            summary,
            pre_existing_only: 0,
        }
    }

    /// A deploy run with every section of the report filled, hostile strings included.
    fn deploy_report() -> Report {
        let mut r = report(deploy_loads(), 120_000);
        r.settings.ignore = vec!["*/beacon*".to_string()];
        r.settings.version_source = Some("header X-App-Version".to_string());
        r.settings.slo.max_failed_loads = Some(2);
        r.settings.fail_on_js_error = true;
        r.settings.all = vec![crate::model::SettingValue {
            key: "judge.expect_selector".into(),
            flag: "--expect-selector".into(),
            value: Some("#app > <b>".into()),
            from: crate::model::SettingSource::File,
        }];
        r.interrupted = true;
        r.prober.abandoned_loads = 2;
        r.prober.browser_relaunches = 1;
        r.truncated.failures_dropped = 3;
        r.verdict = verdict(Status::Fail, "rollout: 9 failed loads > 2 allowed <&>");
        r.phases = vec![
            phase_report(&r, Phase::Baseline, (0, 40_000), Status::Pass, vec![]),
            phase_report(
                &r,
                Phase::Rollout,
                (40_000, 80_000),
                Status::Fail,
                rollout_failures(),
            ),
            phase_report(
                &r,
                Phase::Settle,
                (80_000, 120_000),
                Status::Inconclusive,
                vec![],
            ),
        ];
        r.summary.failed_loads_by_class =
            [(FailureClass::MissingAsset, 29), (FailureClass::JsError, 2)]
                .into_iter()
                .collect();
        r.summary.failures_by_class = [
            (FailureClass::MissingAsset, 31),
            (FailureClass::ProberError, 4),
        ]
        .into_iter()
        .collect();
        r.summary.load_ms.p50 = 231.5;
        r.summary.load_ms.max = 1999.0;
        r.summary.requests = 5760;
        r.checks = vec![
            Check {
                name: "final version is 2.0".to_string(),
                passed: true,
                message: "settle served 2.0 only".to_string(),
                warning: false,
            },
            Check {
                name: "x<y".to_string(),
                passed: false,
                message: "\"quoted\" & 'single'".to_string(),
                warning: false,
            },
        ];
        r.notes = vec!["the baseline <already> failed".to_string()];
        r.deploy = Some(DeployRecord {
            command: vec!["./deploy.sh".to_string(), "--to=\"prod\"".to_string()],
            exit_code: Some(0),
            started_at_ms: T0 + 40_000,
            ended_at_ms: T0 + 80_500,
            log: Some("deploy <log>.txt".to_string()),
        });
        r.failures = vec![crate::model::Failure {
            load_id: 17,
            phase: Phase::Rollout,
            class: FailureClass::MissingAsset,
            url: "https://cdn.example.com/app.js".to_string(),
            status: Some(404),
            error: None,
            message: "404".to_string(),
            at_unix_ms: T0 + 41_000,
            version: Some("2.0".to_string()),
            pod: None,
            page_version: None,
            source: None,
            cache: Default::default(),
            cacheable_s: None,
            diagnosis: Some("page from 1.0, asset <only> in 2.0".to_string()),
        }];
        r
    }

    /// `data-second` to `data-count` of the timeline bars of one class.
    fn bar_counts(html: &str, class: &str) -> BTreeMap<u64, u64> {
        let tag = format!(r#"<rect class="bar {class}" data-second=""#);
        html.split(&tag)
            .skip(1)
            .map(|rest| {
                let (second, rest) = rest.split_once('"').unwrap();
                let count = rest.strip_prefix(r#" data-count=""#).unwrap();
                let count = count.split_once('"').unwrap().0;
                (second.parse().unwrap(), count.parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn failed_bars_count_the_failed_loads_of_each_second() {
        let r = deploy_report();
        let html = render(&r);
        for (class, outcome) in [
            ("failed", Outcome::Failed),
            ("ok", Outcome::Ok),
            ("prober", Outcome::ProberError),
        ] {
            let mut expected = BTreeMap::new();
            for l in r.loads.iter().filter(|l| l.outcome == outcome) {
                *expected.entry(l.started_at_ms / 1000).or_insert(0u64) += 1;
            }
            assert_eq!(bar_counts(&html, class), expected, "{class} bars");
        }
    }

    #[test]
    fn hostile_strings_are_escaped_and_rows_capped() {
        let html = render(&deploy_report());
        assert!(!html.contains("<script>"), "raw markup from the report");
        assert!(!html.contains("1.0<b>"), "raw markup from a version");
        assert!(html.contains(r#"data-version="1.0&lt;b&gt;""#));
        let row = html
            .lines()
            .find(|l| {
                l.contains(r#"class="failure-row" data-phase="rollout" data-class="missing_asset""#)
            })
            .expect("the missing asset's row");
        assert!(
            row.contains(r#"data-url="https://cdn.example.com/app.js?&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;""#),
            "{row}"
        );
        assert_eq!(html.matches("<tr class=\"failure-row").count(), MAX_ROWS);
        assert!(html.contains("… and 6 more in the JSON report"));
        assert!(
            html.contains(r#"<tr class="setting" data-key="judge.expect_selector" data-from="file"><td><code>judge.expect_selector</code></td><td><code>--expect-selector</code></td><td>#app &gt; &lt;b&gt;</td><td>file</td></tr>"#),
            "every setting, escaped"
        );
    }

    #[test]
    fn a_run_without_loads_says_so() {
        let html = render(&report(vec![], 10_000));
        assert!(html.contains("No loads were recorded."));
        assert!(!html.contains("timeline-chart"));
        assert!(!html.contains("id=\"slowest\""));
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"/a?x=<script>&y="1"'"#),
            "/a?x=&lt;script&gt;&amp;y=&quot;1&quot;&#39;"
        );
    }
}
