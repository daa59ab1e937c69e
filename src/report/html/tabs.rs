//! The sections of the users who stay (open tabs, returning users): openings and rounds per
//! phase, and the first failures as each user's story.

use std::fmt::Write;

use super::{esc, status_class};
use crate::model::{Kind, Population, Report};
use crate::report::text::{status_word, time_of};

/// Failures listed; the JSON report has the rest.
const MAX_ROWS: usize = 50;

pub(super) fn populations(out: &mut String, r: &Report) {
    for kind in Kind::ALL {
        if let Some(p) = r.population(kind) {
            population(out, r, kind, p);
        }
    }
}

fn population(out: &mut String, r: &Report, kind: Kind, p: &Population) {
    let (id, intro) = match kind {
        Kind::OpenTabs => (
            "open-tabs",
            "tabs opened at the start and kept open, a round",
        ),
        Kind::ReturningUsers => (
            "returning-users",
            "users whose browser remembers (HTTP cache, service workers, storage), first visiting at the start and coming back (a navigation, then a reload)",
        ),
    };
    let title = kind.title();
    let round = kind.round();
    let _ = writeln!(
        out,
        r#"<section id="{id}"><h2>{Title}</h2><p>{} {intro} {} after the previous one.{cut}</p>"#,
        p.tabs,
        crate::model::shown(std::time::Duration::from_secs_f64(p.every_s)),
        Title = capitalized(title),
        cut = match p.cut {
            0 => String::new(),
            n =>
                format!(" {n} {round}(s) in flight when probing ended were cut short by the stop."),
        },
    );
    let _ = writeln!(
        out,
        "<table><thead><tr><th>phase</th><th>verdict</th><th>{}s</th><th>{round}s</th><th>ok</th><th>failed</th><th>prober errors</th><th>reason</th></tr></thead><tbody>",
        kind.opening()
    );
    for ph in &p.phases {
        let _ = writeln!(
            out,
            r#"<tr class="tab-phase {cls}" data-phase="{phase}" data-openings="{openings}" data-rounds="{rounds}" data-failed="{failed}"><td>{phase}</td><td class="badge {cls}">{word}</td><td>{openings}</td><td>{rounds}</td><td>{ok}</td><td>{failed}</td><td>{prober}</td><td>{reason}</td></tr>"#,
            cls = status_class(ph.verdict.status),
            word = status_word(ph.verdict.status),
            phase = ph.phase,
            openings = ph.openings,
            rounds = ph.rounds,
            ok = ph.ok,
            failed = ph.failed,
            prober = ph.prober_errors,
            reason = esc(&ph.verdict.reason),
        );
    }
    out.push_str("</tbody></table>\n");
    failures(out, r, kind, p);
    out.push_str("</section>\n");
}

/// The first failures, each user's story in a row; those failing only as the baseline's
/// loads did are muted.
fn failures(out: &mut String, r: &Report, kind: Kind, p: &Population) {
    if !p.failures.is_empty() {
        let _ = writeln!(
            out,
            "<table class=\"tab-failures\"><thead><tr><th>{}</th><th>{}</th><th>runs</th><th>asked for</th><th>at</th><th>answer</th><th>answered by</th><th>from</th><th>class</th></tr></thead><tbody>",
            kind.user(),
            kind.opened()
        );
        for f in p.failures.iter().take(MAX_ROWS) {
            let how = f.answer().unwrap_or_default();
            let _ = writeln!(
                out,
                r#"<tr class="tab-failure{muted}" data-class="{class}" data-source="{source}"><td>{tab}</td><td>{opened}</td><td>{runs}</td><td>{url}</td><td>{at}</td><td>{how}</td><td>{by}</td><td>{from}</td><td>{class}</td></tr>"#,
                tab = f.tab,
                opened = time_of(f.opened_at_ms),
                runs = esc(f.runs()),
                url = esc(&f.url),
                at = time_of(f.at_unix_ms),
                how = esc(&how),
                by = esc(f.answered_by.as_deref().unwrap_or("")),
                source = f.source.map_or("network", |s| s.key()),
                from = f.source.map_or("network", |s| s.words()),
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
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
