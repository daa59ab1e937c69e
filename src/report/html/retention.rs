//! The HTML report's retention section: each asset of the old version, served or gone.

use std::fmt::Write;

use super::esc;
use crate::model::{Kept, Report};

/// `section#retention`, with `tr.retention-row[data-kept][data-url]` per asset.
pub fn section(out: &mut String, r: &Report) {
    let Some(ret) = &r.retention else { return };
    out.push_str("<section id=\"retention\"><h2>Old assets after the deployment</h2>\n");
    if let Some(why) = &ret.not_checked {
        let _ = writeln!(out, "<p class=\"empty\">Not checked: {}.</p>", esc(why));
        out.push_str("</section>\n");
        return;
    }
    let of = if ret.old_versions.is_empty() {
        "the previous version".to_string()
    } else {
        ret.old_versions.join(", ")
    };
    let _ = writeln!(
        out,
        "<p>Every static asset the first loads got from {of} was requested {n} times after the deployment, as a tab opened before it would ask for it: <b class=\"pass-text\">{served} served</b>, <b class=\"{gone_cls}\">{gone} gone</b>{unchecked}.</p>",
        of = esc(&of),
        n = ret.attempts,
        served = ret.served.len(),
        gone = ret.gone.len(),
        gone_cls = if ret.gone.is_empty() { "" } else { "fail-text" },
        unchecked = if ret.unchecked.is_empty() {
            String::new()
        } else {
            format!(", {} not shown to be served", ret.unchecked.len())
        },
    );
    out.push_str("<table><thead><tr><th>asset</th><th>kept</th><th>type</th><th>answer</th><th>gone / requests</th><th>answered by</th></tr></thead><tbody>\n");
    let mut rows: Vec<_> = ret.assets.iter().collect();
    // Gone first: the culprits lead.
    rows.sort_by_key(|a| std::cmp::Reverse(a.kept));
    for a in rows.into_iter().take(super::MAX_ROWS) {
        let cls = match a.kept {
            Kept::Served => "pass",
            Kept::Gone => "fail",
            Kept::Unchecked => "inconclusive",
        };
        let _ = writeln!(
            out,
            r#"<tr class="retention-row" data-kept="{kept}" data-url="{url}"><td class="url">{url}</td><td class="badge {cls}">{kept}</td><td>{kind}</td><td>{how}</td><td class="num">{gone} / {attempts}</td><td>{by}</td></tr>"#,
            kept = a.kept.as_str(),
            url = esc(&a.url),
            kind = esc(&a.resource_type),
            how = esc(a.how.as_deref().unwrap_or("2xx")),
            gone = a.gone_attempts,
            attempts = a.attempts,
            by = esc(&a.answered_by.join(", ")),
        );
    }
    out.push_str("</tbody></table></section>\n");
}
