//! A self-contained HTML report: one file, inline CSS and inline SVG, no script, no network.
//! Open it from a CI artifact, mail it, print it.
//!
//! Elements carry stable ids, classes and `data-*` attributes so tests and scripts can read the
//! numbers back: `#verdict[data-status]`, `rect.bar.{ok,failed,prober}[data-second][data-count]`,
//! `rect.phase[data-phase]`, `rect.version[data-version][data-second][data-count]`,
//! `tr.class-row[data-class]`, `tr.failure-row[data-phase][data-class][data-url][data-count]`,
//! `tr.check[data-passed]`, `tr.slow-load[data-load-id][data-duration-ms]`.

use super::Exporter;
use super::text::{status_word, time_of};
use crate::judge::counted_in;
use crate::model::{FailingResource, FailureClass, Load, Outcome, Report, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

/// At most this many bars: longer runs get wider buckets (see `data-bucket-s`).
const MAX_BUCKETS: u64 = 600;
const SLOWEST: usize = 10;
/// Failure rows per phase; the JSON report has the rest.
const MAX_ROWS: usize = 200;
const VERSION_COLOURS: [&str; 6] = [
    "#4e79a7", "#f28e2b", "#76b7b2", "#b07aa1", "#edc948", "#9c755f",
];

pub struct Html;

impl Exporter for Html {
    fn render(&self, report: &Report) -> anyhow::Result<Vec<u8>> {
        Ok(render(report).into_bytes())
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
    timeline(&mut out, report);
    failures(&mut out, report);
    checks(&mut out, report);
    deploy(&mut out, report);
    versions(&mut out, report);
    slowest(&mut out, report);
    footer(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

fn verdict(out: &mut String, r: &Report) {
    let v = &r.verdict;
    let _ = write!(
        out,
        r#"<header id="verdict" class="verdict {cls}" data-status="{cls}" data-exit-code="{code}">
<div class="status">{word}</div>
<div class="reason">{reason}</div>
<div class="target"><a href="{target}" rel="noreferrer">{target}</a> · {start} – {end} UTC ({dur:.1} s){interrupted}</div>
</header>
"#,
        cls = status_class(v.status),
        code = v.exit_code,
        word = status_word(v.status),
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
<div class="stat" data-stat="requests"><b>{requests}</b>requests</div>
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

/// Loads per second (by start time) as stacked bars, phases shaded behind them, and below a
/// strip of the app versions served.
fn timeline(out: &mut String, r: &Report) {
    out.push_str("<section id=\"timeline\"><h2>Timeline</h2>\n");
    let load_secs = r.loads.iter().map(|l| l.started_at_ms / 1000);
    let Some(first_load) = load_secs.clone().min() else {
        out.push_str("<p class=\"empty\">No loads were recorded.</p></section>\n");
        return;
    };
    let t0 = (r.started_at_ms / 1000).min(first_load);
    let t1 = r
        .finished_at_ms
        .div_ceil(1000)
        .max(load_secs.max().unwrap_or(0) + 1)
        .max(t0 + 1);
    let bucket = (t1 - t0).div_ceil(MAX_BUCKETS).max(1);
    let n = (t1 - t0).div_ceil(bucket);
    let bucket_of = |ms: u64| (ms / 1000).saturating_sub(t0) / bucket;

    let mut counts = vec![[0u64; 3]; n as usize];
    for l in &r.loads {
        let i = (bucket_of(l.started_at_ms) as usize).min(counts.len() - 1);
        let k = match l.outcome {
            Outcome::Failed => 0,
            Outcome::Ok => 1,
            Outcome::ProberError => 2,
        };
        counts[i][k] += 1;
    }
    let top = counts
        .iter()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);

    // Geometry, in viewBox units.
    let (left, right, width) = (44.0, 8.0, 1000.0);
    let plot_w = width - left - right;
    let (bars_top, bars_h) = (18.0, 170.0);
    let bars_bottom = bars_top + bars_h;
    let has_versions = r.versions.as_ref().is_some_and(|v| !v.timeline.is_empty());
    let strip_top = bars_bottom + 26.0;
    let strip_h = 26.0;
    let height = if has_versions {
        strip_top + strip_h + 6.0
    } else {
        bars_bottom + 26.0
    };
    let bw = plot_w / n as f64;
    let x_ms = |ms: u64| {
        let s = (ms as f64 / 1000.0 - t0 as f64) / bucket as f64;
        left + s.clamp(0.0, n as f64) * bw
    };

    let _ = writeln!(
        out,
        r#"<svg id="timeline-chart" viewBox="0 0 {width} {height}" role="img" aria-label="loads per {bucket} s by outcome" data-start-s="{t0}" data-bucket-s="{bucket}" data-buckets="{n}" data-max="{top}" xmlns="http://www.w3.org/2000/svg">"#
    );
    // Phases, shaded behind the bars.
    for (i, p) in r.phases.iter().enumerate() {
        let (x0, x1) = (x_ms(p.started_at_ms), x_ms(p.ended_at_ms));
        let _ = writeln!(
            out,
            r#"<rect class="phase phase-{phase} {cls}" data-phase="{phase}" x="{x0:.2}" y="{bars_top}" width="{w:.2}" height="{bars_h}"><title>{phase}: {from} – {to}, {word}</title></rect><text class="phase-label" x="{tx:.2}" y="{ty}">{phase}</text>"#,
            phase = p.phase,
            cls = if i % 2 == 0 { "even" } else { "odd" },
            w = (x1 - x0).max(0.0),
            from = time_of(p.started_at_ms),
            to = time_of(p.ended_at_ms),
            word = status_word(p.verdict.status),
            tx = x0 + 3.0,
            ty = bars_top - 5.0,
        );
    }
    // Grid and axes.
    let _ = writeln!(
        out,
        r#"<g class="axis"><line x1="{left}" y1="{bars_bottom}" x2="{xr}" y2="{bars_bottom}"/><line x1="{left}" y1="{bars_top}" x2="{left}" y2="{bars_bottom}"/><text x="{lx}" y="{ty}" text-anchor="end">{top}</text><text x="{lx}" y="{bars_bottom}" text-anchor="end">0</text></g>"#,
        xr = width - right,
        lx = left - 4.0,
        ty = bars_top + 8.0,
    );
    // Time labels every `step` bars, at most about 8 of them.
    let step = n.div_ceil(8).max(1);
    for i in (0..=n).step_by(step as usize) {
        let x = left + i as f64 * bw;
        let at = (t0 + i * bucket) * 1000;
        let _ = writeln!(
            out,
            r#"<text class="tick" x="{x:.2}" y="{y}" text-anchor="{anchor}">{label}</text>"#,
            y = bars_bottom + 14.0,
            label = time_of(at).get(..8).unwrap_or_default(),
            anchor = if i == 0 {
                "start"
            } else if (n - i) * 4 < step {
                "end"
            } else {
                "middle"
            },
        );
    }
    // Bars: failed at the bottom where they catch the eye, then ok, then prober errors.
    let scale = bars_h / top as f64;
    for (i, c) in counts.iter().enumerate() {
        let second = t0 + i as u64 * bucket;
        let mut y = bars_bottom;
        for (k, class) in [(0, "failed"), (1, "ok"), (2, "prober")] {
            if c[k] == 0 {
                continue;
            }
            let h = c[k] as f64 * scale;
            y -= h;
            let _ = writeln!(
                out,
                r#"<rect class="bar {class}" data-second="{second}" data-count="{count}" x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}"><title>{at}: {count} {class}</title></rect>"#,
                count = c[k],
                x = left + i as f64 * bw + bw * 0.08,
                w = bw * 0.84,
                at = time_of(second * 1000),
            );
        }
    }
    if let Some(d) = &r.deploy {
        for (ms, what) in [
            (d.started_at_ms, "deploy start"),
            (d.ended_at_ms, "deploy end"),
        ] {
            let x = x_ms(ms);
            let _ = writeln!(
                out,
                r#"<line class="deploy-mark" data-what="{what}" x1="{x:.2}" y1="{bars_top}" x2="{x:.2}" y2="{bars_bottom}"><title>{what} {at}</title></line>"#,
                at = time_of(ms),
            );
        }
    }
    if let Some(v) = r.versions.as_ref().filter(|_| has_versions) {
        let colour = |version: &str| {
            let i = v
                .seen
                .iter()
                .position(|s| s.version == version)
                .unwrap_or(0);
            VERSION_COLOURS[i % VERSION_COLOURS.len()]
        };
        let _ = writeln!(
            out,
            r#"<text class="strip-label" x="{lx}" y="{y}" text-anchor="end">version</text>"#,
            lx = left - 4.0,
            y = strip_top + strip_h / 2.0 + 4.0,
        );
        let mut buckets: BTreeMap<u64, BTreeMap<&str, u64>> = BTreeMap::new();
        for s in &v.timeline {
            let b = s.unix_s.saturating_sub(t0) / bucket;
            for (version, count) in &s.loads {
                *buckets.entry(b).or_default().entry(version).or_default() += count;
            }
        }
        for (b, by_version) in buckets {
            let total: u64 = by_version.values().sum();
            let mut y = strip_top;
            for (version, count) in by_version {
                let h = strip_h * count as f64 / total.max(1) as f64;
                let _ = writeln!(
                    out,
                    r#"<rect class="version" data-version="{ver}" data-second="{second}" data-count="{count}" x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}"><title>{at}: {count} load(s) served {ver}</title></rect>"#,
                    ver = esc(version),
                    second = t0 + b * bucket,
                    x = left + b.min(n - 1) as f64 * bw,
                    w = bw,
                    fill = colour(version),
                    at = time_of((t0 + b * bucket) * 1000),
                );
                y += h;
            }
        }
        if let Some(w) = &v.mixed_window {
            let (x0, x1) = (x_ms(w.start_unix_ms), x_ms(w.end_unix_ms + 1000));
            let _ = writeln!(
                out,
                r#"<rect class="mixed-window" x="{x0:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}"><title>mixed versions {from} – {to}</title></rect>"#,
                y = strip_top - 3.0,
                w = (x1 - x0).max(1.0),
                h = strip_h + 6.0,
                from = time_of(w.start_unix_ms),
                to = time_of(w.end_unix_ms),
            );
        }
    }
    out.push_str("</svg>\n<p class=\"legend\"><span class=\"key failed\"></span>failed <span class=\"key ok\"></span>ok <span class=\"key prober\"></span>prober error");
    if r.deploy.is_some() {
        out.push_str(" <span class=\"key deploy\"></span>deploy command start/end");
    }
    if let Some(v) = &r.versions {
        for (i, s) in v.seen.iter().enumerate() {
            let _ = write!(
                out,
                r#" <span class="key" style="background:{}"></span>{}"#,
                VERSION_COLOURS[i % VERSION_COLOURS.len()],
                esc(&s.version)
            );
        }
        if v.mixed_window.is_some() {
            out.push_str(" <span class=\"key mixed\"></span>versions mixed");
        }
    }
    let _ = writeln!(
        out,
        " · bars count loads by start time, {bucket} s per bar</p>\n</section>"
    );
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
        let counted = counted_in(&r.settings, class);
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
            r#"<h3>{phase}: failing resources</h3><table class="resources" data-phase="{phase}"><thead><tr><th>count</th><th>class</th><th>how</th><th>URL</th><th>first seen</th><th>last seen</th><th>served by</th></tr></thead><tbody>"#,
            phase = p.phase
        );
        for f in p.summary.failing_resources.iter().take(MAX_ROWS) {
            failure_row(out, r, p.phase.as_str(), f);
        }
        if p.summary.failing_resources.len() > MAX_ROWS {
            let _ = writeln!(
                out,
                r#"<tr><td colspan="7">… and {} more in the JSON report</td></tr>"#,
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

fn failure_row(out: &mut String, r: &Report, phase: &str, f: &FailingResource) {
    let _ = writeln!(
        out,
        r#"<tr class="failure-row{muted}" data-phase="{phase}" data-class="{class}" data-url="{url}" data-count="{count}" data-first-ms="{first}" data-last-ms="{last}"><td class="num">{count}</td><td>{class}</td><td>{how}</td><td class="url">{url}</td><td>{first_t}</td><td>{last_t}</td><td>{versions}</td></tr>"#,
        muted = if counted_in(&r.settings, f.class) {
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
                cls = if c.passed { "pass" } else { "fail" },
                word = if c.passed { "ok" } else { "FAIL" },
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
        format!("{} workers", s.workers),
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
    if r.truncated.failures_dropped > 0 || r.truncated.detailed_loads_dropped > 0 {
        settings.push(format!(
            "{} failures and {} load details not kept",
            r.truncated.failures_dropped, r.truncated.detailed_loads_dropped
        ));
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
    use super::esc;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"/a?x=<script>&y="1"'"#),
            "/a?x=&lt;script&gt;&amp;y=&quot;1&quot;&#39;"
        );
    }
}
