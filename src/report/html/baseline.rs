//! The HTML report's comparison with the baseline: each resource that failed, its rate before
//! the deployment and in each phase after it, and whether that counted.

use std::fmt::Write;

use super::esc;
use crate::model::{Report, p_shown};

/// `section#baseline`, with `tr.compared-row[data-class][data-url][data-counted]` per resource
/// and `td[data-phase][data-change]` per later phase.
pub fn section(out: &mut String, r: &Report) {
    let Some(c) = &r.baseline else { return };
    out.push_str("<section id=\"baseline\"><h2>Against the baseline</h2>\n");
    let _ = writeln!(
        out,
        "<p>Judged on what the deployment changed, against {} baseline load(s): a failure the baseline already had counts only if its rate rose ({}). <code>--count-pre-existing</code> counts every failure.</p>",
        c.baseline_loads,
        esc(&c.test)
    );
    if let Some(why) = &c.cannot_vouch {
        let _ = writeln!(
            out,
            "<p class=\"fail-text\" id=\"cannot-vouch\">The baseline cannot vouch for the site: {}.</p>",
            esc(why)
        );
    }
    if c.failures.is_empty() {
        out.push_str("<p class=\"empty\">Nothing failed before or after.</p></section>\n");
        return;
    }
    let phases: Vec<String> = c.failures[0]
        .phases
        .iter()
        .map(|p| format!("<th>{}</th>", p.phase))
        .collect();
    let _ = writeln!(
        out,
        "<table><thead><tr><th>class</th><th>resource</th><th>baseline</th>{}<th></th></tr></thead><tbody>",
        phases.concat()
    );
    for f in c.failures.iter().take(super::MAX_ROWS) {
        let counted = f.changed();
        let cells: Vec<String> = f
            .phases
            .iter()
            .map(|p| {
                let p_value = p
                    .p_value
                    .map(|v| format!(", {}", p_shown(v)))
                    .unwrap_or_default();
                format!(
                    "<td data-phase=\"{}\" data-change=\"{}\">{} of {} ({}{p_value})</td>",
                    p.phase,
                    p.change.as_str(),
                    p.failed,
                    p.of,
                    p.change.as_str()
                )
            })
            .collect();
        let _ = writeln!(
            out,
            r#"<tr class="compared-row{muted}" data-class="{class}" data-url="{url}" data-counted="{counted}"><td>{class}</td><td class="url">{url}</td><td>{b} of {n}</td>{cells}<td>{why}</td></tr>"#,
            muted = if counted { "" } else { " muted" },
            class = f.class,
            url = esc(&f.url),
            b = f.baseline,
            n = c.baseline_loads,
            cells = cells.concat(),
            why = match (counted, f.pre_existing()) {
                (true, true) => "rose: counted",
                (true, false) => "new: counted",
                (false, _) => "pre-existing: not counted",
            },
        );
    }
    if c.failures.len() > super::MAX_ROWS {
        let _ = writeln!(
            out,
            r#"<tr><td colspan="{}">… and {} more in the JSON report</td></tr>"#,
            4 + phases.len(),
            c.failures.len() - super::MAX_ROWS
        );
    }
    out.push_str("</tbody></table>\n</section>\n");
}
