//! The open tabs' section: rounds per phase, and the first failures as each tab's story.

use std::fmt::Write;

use super::{esc, status_class};
use crate::model::Report;
use crate::report::text::{status_word, time_of};

/// Failures listed; the JSON report has the rest.
const MAX_ROWS: usize = 50;

pub(super) fn open_tabs(out: &mut String, r: &Report) {
    let Some(tabs) = &r.open_tabs else { return };
    let _ = writeln!(
        out,
        r#"<section id="open-tabs"><h2>Open tabs</h2><p>{} tabs opened at the start and kept open, a round {} after the previous one.</p>"#,
        tabs.tabs,
        crate::model::shown(std::time::Duration::from_secs_f64(tabs.every_s))
    );
    out.push_str("<table><thead><tr><th>phase</th><th>verdict</th><th>rounds</th><th>ok</th><th>failed</th><th>prober errors</th><th>reason</th></tr></thead><tbody>\n");
    for p in &tabs.phases {
        let _ = writeln!(
            out,
            r#"<tr class="tab-phase {cls}" data-phase="{phase}" data-rounds="{rounds}" data-failed="{failed}"><td>{phase}</td><td class="badge {cls}">{word}</td><td>{rounds}</td><td>{ok}</td><td>{failed}</td><td>{prober}</td><td>{reason}</td></tr>"#,
            cls = status_class(p.verdict.status),
            word = status_word(p.verdict.status),
            phase = p.phase,
            rounds = p.rounds,
            ok = p.ok,
            failed = p.failed,
            prober = p.prober_errors,
            reason = esc(&p.verdict.reason),
        );
    }
    out.push_str("</tbody></table>\n");
    if !tabs.failures.is_empty() {
        out.push_str("<table class=\"tab-failures\"><thead><tr><th>tab</th><th>opened</th><th>runs</th><th>asked for</th><th>at</th><th>answer</th><th>answered by</th><th>class</th></tr></thead><tbody>\n");
        for f in tabs.failures.iter().take(MAX_ROWS) {
            let how = f
                .status
                .map(|s| s.to_string())
                .or_else(|| f.error.clone())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                r#"<tr class="tab-failure{muted}" data-class="{class}"><td>{tab}</td><td>{opened}</td><td>{runs}</td><td>{url}</td><td>{at}</td><td>{how}</td><td>{by}</td><td>{class}</td></tr>"#,
                tab = f.tab,
                opened = time_of(f.opened_at_ms),
                runs = esc(f.opened_on.as_deref().unwrap_or("")),
                url = esc(&f.url),
                at = time_of(f.at_unix_ms),
                how = esc(&how),
                by = esc(f.answered_by.as_deref().unwrap_or("")),
                class = f.class,
                // Failing only as the baseline's loads did: not counted.
                muted = if r.counted(Some(f.phase), f.class, &f.url) {
                    ""
                } else {
                    " muted"
                },
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n");
}
