//! The HTML report's pods section: the causes of the failures with their fixes, and a row per
//! pod (version, created, ready, told to stop, gone, answers, failures) with its life and its
//! failures drawn over the run's time.

use std::fmt::Write;

use super::esc;
use crate::model::{PodReport, Report};
use crate::report::{causes::cause_line, text::time_of};

/// `section#pods`: `li.cause[data-cause][data-sure]`, then `tr.pod-row[data-pod][data-version]
/// [data-failed]` each with `div.pod-life` holding `span.alive`, `span.ready`, `span.stop` and
/// a `span.fail[data-at]` per failure of the pod.
pub fn section(out: &mut String, r: &Report) {
    if r.pods.is_none() && r.causes.is_empty() {
        return;
    }
    out.push_str("<section id=\"pods\"><h2>Pods and causes</h2>\n");
    if !r.causes.is_empty() {
        out.push_str("<ul class=\"causes\">\n");
        for c in &r.causes {
            let _ = writeln!(
                out,
                r#"<li class="cause" data-cause="{kind}" data-sure="{sure}" data-failures="{n}"><b>{line}</b><br>fix: {fix}</li>"#,
                kind = serde_json::to_value(c.cause)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                sure = serde_json::to_value(c.sure)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                n = c.failures,
                line = esc(&cause_line(c)),
                fix = esc(&c.fix),
            );
        }
        out.push_str("</ul>\n");
    }
    let Some(pods) = &r.pods else {
        out.push_str("</section>\n");
        return;
    };
    if let Some(header) = &pods.header {
        let _ = writeln!(out, "<p>Pods named by {}.</p>", esc(header));
    }
    if let Some(e) = pods.events.as_ref().and_then(|e| e.error.as_ref()) {
        let _ = writeln!(
            out,
            "<p class=\"fail-text\">Pod events not read: {}.</p>",
            esc(e)
        );
    }
    out.push_str("<table><thead><tr><th>pod</th><th>version</th><th>created</th><th>ready</th><th>told to stop</th><th>gone</th><th>answers</th><th>failed</th><th style=\"width:35%\">over the run</th></tr></thead><tbody>\n");
    for p in pods.pods.iter().take(super::MAX_ROWS) {
        row(out, r, p);
    }
    out.push_str("</tbody></table></section>\n");
}

fn row(out: &mut String, r: &Report, p: &PodReport) {
    let life = &p.life;
    let when = |at: Option<u64>| at.map_or(String::new(), time_of);
    let failed: u64 = p.failed.values().sum();
    let classes: Vec<String> = p.failed.iter().map(|(c, n)| format!("{c} {n}")).collect();
    let _ = write!(
        out,
        r#"<tr class="pod-row" data-pod="{pod}" data-version="{version}" data-failed="{failed}"><td>{pod}</td><td>{version}</td><td>{created}</td><td>{ready}</td><td>{stop}</td><td>{gone}</td><td class="num">{answers}</td><td class="{cls}">{classes}</td><td>"#,
        pod = esc(&life.pod),
        version = esc(life.version.as_deref().unwrap_or("")),
        created = when(life.created_at_ms.or(life.routed_at_ms)),
        ready = when(life.ready_at_ms),
        stop = when(life.stopping_at_ms),
        gone = when(life.gone_at_ms),
        answers = p.answers,
        cls = if failed > 0 { "fail-text" } else { "" },
        classes = esc(&classes.join(", ")),
    );
    let (t0, t1) = (r.started_at_ms, r.finished_at_ms.max(r.started_at_ms + 1));
    let x = |at: u64| (at.clamp(t0, t1) - t0) as f64 * 100.0 / (t1 - t0) as f64;
    out.push_str(r#"<div class="pod-life" style="position:relative;height:14px;background:#f1f3f8;border-radius:3px">"#);
    let from = life
        .created_at_ms
        .or(life.routed_at_ms)
        .or(p.first_answer_ms)
        .unwrap_or(t0);
    let to = life.gone_at_ms.or(p.last_answer_ms).unwrap_or(t1);
    let _ = write!(
        out,
        r#"<span class="alive" style="position:absolute;left:{:.2}%;width:{:.2}%;top:3px;height:8px;background:#c7d2fe"></span>"#,
        x(from),
        (x(to) - x(from)).max(0.5)
    );
    for (cls, at, color) in [
        ("ready", life.ready_at_ms, "var(--ok)"),
        ("stop", life.stopping_at_ms, "#333"),
    ] {
        if let Some(at) = at {
            let _ = write!(
                out,
                r#"<span class="{cls}" title="{cls} {t}" style="position:absolute;left:{x:.2}%;top:0;width:2px;height:14px;background:{color}"></span>"#,
                t = time_of(at),
                x = x(at)
            );
        }
    }
    for f in r
        .failures
        .iter()
        .filter(|f| f.pod.as_deref().is_some_and(|p| life.named_by(p)))
    {
        let _ = write!(
            out,
            r#"<span class="fail" data-at="{at}" title="{class} {t}" style="position:absolute;left:{x:.2}%;top:4px;width:3px;height:6px;background:var(--fail)"></span>"#,
            at = f.at_unix_ms,
            class = f.class,
            t = time_of(f.at_unix_ms),
            x = x(f.at_unix_ms)
        );
    }
    out.push_str("</div></td></tr>\n");
}
