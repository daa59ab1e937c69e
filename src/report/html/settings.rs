//! Every setting of the run: its key, its flag, the value it took and where from.

use std::fmt::Write;

use super::esc;
use crate::model::Report;

pub(super) fn all(out: &mut String, r: &Report) {
    if r.settings.all.is_empty() {
        return;
    }
    out.push_str(r#"<section id="settings"><details><summary>Every setting of this run</summary><table><thead><tr><th>scenario key</th><th>flag</th><th>value</th><th>from</th></tr></thead><tbody>"#);
    out.push('\n');
    for s in &r.settings.all {
        let _ = writeln!(
            out,
            r#"<tr class="setting" data-key="{key}" data-from="{from}"><td><code>{key}</code></td><td><code>{flag}</code></td><td>{value}</td><td>{from}</td></tr>"#,
            key = esc(&s.key),
            flag = esc(&s.flag),
            value = esc(s.value.as_deref().unwrap_or("-")),
            from = s.from.as_str(),
        );
    }
    out.push_str("</tbody></table></details></section>\n");
}
