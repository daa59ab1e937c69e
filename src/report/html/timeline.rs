//! The timeline chart: loads per second (by start time) as stacked bars, phases shaded behind
//! them, and below a strip of the app versions served.
//!
//! Counting is kept apart from drawing so the numbers can be checked without parsing SVG.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::esc;
use crate::model::{Outcome, Report, Versions};
use crate::report::text::{status_word, time_of};

/// At most this many bars: longer runs get wider buckets (see `data-bucket-s`).
const MAX_BUCKETS: u64 = 600;
const VERSION_COLOURS: [&str; 6] = [
    "#4e79a7", "#f28e2b", "#76b7b2", "#b07aa1", "#edc948", "#9c755f",
];
/// Bar classes in stacking order: failed at the bottom where they catch the eye.
const OUTCOMES: [&str; 3] = ["failed", "ok", "prober"];

// Geometry, in viewBox units.
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const WIDTH: f64 = 1000.0;
const PLOT_W: f64 = WIDTH - LEFT - RIGHT;
const BARS_TOP: f64 = 18.0;
const BARS_H: f64 = 170.0;
const BARS_BOTTOM: f64 = BARS_TOP + BARS_H;
const STRIP_TOP: f64 = BARS_BOTTOM + 26.0;
const STRIP_H: f64 = 26.0;

/// The run cut into equal buckets of whole seconds: one bar each.
#[derive(Debug)]
struct Buckets<'a> {
    /// The first second shown, Unix seconds: the run's start or an earlier first load.
    t0: u64,
    /// Seconds per bucket.
    width: u64,
    count: u64,
    /// Loads per bucket by outcome, in [`OUTCOMES`] order.
    loads: Vec<[u64; 3]>,
    /// Loads per version per bucket of the versions strip. Not clamped to `count`: a version
    /// sample past the last bar keeps its own second in `data-second`.
    versions: BTreeMap<u64, BTreeMap<&'a str, u64>>,
}

impl<'a> Buckets<'a> {
    /// `None` when there are no loads to draw.
    fn of(r: &'a Report) -> Option<Buckets<'a>> {
        let load_secs = r.loads.iter().map(|l| l.started_at_ms / 1000);
        let first_load = load_secs.clone().min()?;
        let t0 = (r.started_at_ms / 1000).min(first_load);
        let t1 = r
            .finished_at_ms
            .div_ceil(1000)
            .max(load_secs.max().unwrap_or(0) + 1)
            .max(t0 + 1);
        let width = (t1 - t0).div_ceil(MAX_BUCKETS).max(1);
        let count = (t1 - t0).div_ceil(width);
        let mut loads = vec![[0u64; 3]; count as usize];
        for l in &r.loads {
            let i = (((l.started_at_ms / 1000).saturating_sub(t0) / width) as usize)
                .min(loads.len() - 1);
            let k = match l.outcome {
                Outcome::Failed => 0,
                Outcome::Ok => 1,
                Outcome::ProberError => 2,
            };
            loads[i][k] += 1;
        }
        let mut versions: BTreeMap<u64, BTreeMap<&str, u64>> = BTreeMap::new();
        for s in r.versions.iter().flat_map(|v| &v.timeline) {
            let b = s.unix_s.saturating_sub(t0) / width;
            for (version, n) in &s.loads {
                *versions.entry(b).or_default().entry(version).or_default() += n;
            }
        }
        Some(Buckets {
            t0,
            width,
            count,
            loads,
            versions,
        })
    }

    /// The most loads in one bucket, at least 1: the top of the y axis.
    fn top(&self) -> u64 {
        self.loads
            .iter()
            .map(|c| c.iter().sum::<u64>())
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// The first second of bucket `i`, Unix seconds.
    fn second(&self, i: u64) -> u64 {
        self.t0 + i * self.width
    }
}

/// Bucket positions on the x axis.
struct Chart<'a> {
    buckets: Buckets<'a>,
    bar_w: f64,
}

impl Chart<'_> {
    fn x_bar(&self, i: u64) -> f64 {
        LEFT + i as f64 * self.bar_w
    }

    fn x_ms(&self, ms: u64) -> f64 {
        let b = &self.buckets;
        let s = (ms as f64 / 1000.0 - b.t0 as f64) / b.width as f64;
        LEFT + s.clamp(0.0, b.count as f64) * self.bar_w
    }
}

pub(super) fn timeline(out: &mut String, r: &Report) {
    out.push_str("<section id=\"timeline\"><h2>Timeline</h2>\n");
    let Some(buckets) = Buckets::of(r) else {
        out.push_str("<p class=\"empty\">No loads were recorded.</p></section>\n");
        return;
    };
    let chart = Chart {
        bar_w: PLOT_W / buckets.count as f64,
        buckets,
    };
    let strip = r.versions.as_ref().filter(|v| !v.timeline.is_empty());
    let height = match strip {
        Some(_) => STRIP_TOP + STRIP_H + 6.0,
        None => BARS_BOTTOM + 26.0,
    };
    let b = &chart.buckets;
    let _ = writeln!(
        out,
        r#"<svg id="timeline-chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="loads per {bucket} s by outcome" data-start-s="{t0}" data-bucket-s="{bucket}" data-buckets="{n}" data-max="{top}" xmlns="http://www.w3.org/2000/svg">"#,
        bucket = b.width,
        t0 = b.t0,
        n = b.count,
        top = b.top(),
    );
    phases(out, r, &chart);
    axes(out, &chart);
    bars(out, &chart);
    deploy_marks(out, r, &chart);
    if let Some(v) = strip {
        version_strip(out, v, &chart);
    }
    legend(out, r, chart.buckets.width);
}

/// Shaded behind the bars.
fn phases(out: &mut String, r: &Report, chart: &Chart) {
    for (i, p) in r.phases.iter().enumerate() {
        let (x0, x1) = (chart.x_ms(p.started_at_ms), chart.x_ms(p.ended_at_ms));
        let _ = writeln!(
            out,
            r#"<rect class="phase phase-{phase} {cls}" data-phase="{phase}" x="{x0:.2}" y="{BARS_TOP}" width="{w:.2}" height="{BARS_H}"><title>{phase}: {from} – {to}, {word}</title></rect><text class="phase-label" x="{tx:.2}" y="{ty}">{phase}</text>"#,
            phase = p.phase,
            cls = if i % 2 == 0 { "even" } else { "odd" },
            w = (x1 - x0).max(0.0),
            from = time_of(p.started_at_ms),
            to = time_of(p.ended_at_ms),
            word = status_word(p.verdict.status),
            tx = x0 + 3.0,
            ty = BARS_TOP - 5.0,
        );
    }
}

/// The axes, and time labels every `step` bars, at most about 8 of them.
fn axes(out: &mut String, chart: &Chart) {
    let b = &chart.buckets;
    let _ = writeln!(
        out,
        r#"<g class="axis"><line x1="{LEFT}" y1="{BARS_BOTTOM}" x2="{xr}" y2="{BARS_BOTTOM}"/><line x1="{LEFT}" y1="{BARS_TOP}" x2="{LEFT}" y2="{BARS_BOTTOM}"/><text x="{lx}" y="{ty}" text-anchor="end">{top}</text><text x="{lx}" y="{BARS_BOTTOM}" text-anchor="end">0</text></g>"#,
        xr = WIDTH - RIGHT,
        lx = LEFT - 4.0,
        ty = BARS_TOP + 8.0,
        top = b.top(),
    );
    let n = b.count;
    let step = n.div_ceil(8).max(1);
    for i in (0..=n).step_by(step as usize) {
        let _ = writeln!(
            out,
            r#"<text class="tick" x="{x:.2}" y="{y}" text-anchor="{anchor}">{label}</text>"#,
            x = chart.x_bar(i),
            y = BARS_BOTTOM + 14.0,
            label = time_of(b.second(i) * 1000).get(..8).unwrap_or_default(),
            anchor = if i == 0 {
                "start"
            } else if (n - i) * 4 < step {
                "end"
            } else {
                "middle"
            },
        );
    }
}

fn bars(out: &mut String, chart: &Chart) {
    let b = &chart.buckets;
    let scale = BARS_H / b.top() as f64;
    for (i, c) in b.loads.iter().enumerate() {
        let second = b.second(i as u64);
        let mut y = BARS_BOTTOM;
        for (count, class) in c.iter().zip(OUTCOMES) {
            if *count == 0 {
                continue;
            }
            let h = *count as f64 * scale;
            y -= h;
            let _ = writeln!(
                out,
                r#"<rect class="bar {class}" data-second="{second}" data-count="{count}" x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}"><title>{at}: {count} {class}</title></rect>"#,
                x = chart.x_bar(i as u64) + chart.bar_w * 0.08,
                w = chart.bar_w * 0.84,
                at = time_of(second * 1000),
            );
        }
    }
}

fn deploy_marks(out: &mut String, r: &Report, chart: &Chart) {
    let Some(d) = &r.deploy else { return };
    for (ms, what) in [
        (d.started_at_ms, "deploy start"),
        (d.ended_at_ms, "deploy end"),
    ] {
        let x = chart.x_ms(ms);
        let _ = writeln!(
            out,
            r#"<line class="deploy-mark" data-what="{what}" x1="{x:.2}" y1="{BARS_TOP}" x2="{x:.2}" y2="{BARS_BOTTOM}"><title>{what} {at}</title></line>"#,
            at = time_of(ms),
        );
    }
}

/// Each bucket's loads split by version, top to bottom, and the mixed window framed.
fn version_strip(out: &mut String, v: &Versions, chart: &Chart) {
    let b = &chart.buckets;
    let _ = writeln!(
        out,
        r#"<text class="strip-label" x="{lx}" y="{y}" text-anchor="end">version</text>"#,
        lx = LEFT - 4.0,
        y = STRIP_TOP + STRIP_H / 2.0 + 4.0,
    );
    for (&i, by_version) in &b.versions {
        let total: u64 = by_version.values().sum();
        let mut y = STRIP_TOP;
        for (version, &count) in by_version {
            let h = STRIP_H * count as f64 / total.max(1) as f64;
            let _ = writeln!(
                out,
                r#"<rect class="version" data-version="{ver}" data-second="{second}" data-count="{count}" x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" fill="{fill}"><title>{at}: {count} load(s) served {ver}</title></rect>"#,
                ver = esc(version),
                second = b.second(i),
                x = chart.x_bar(i.min(b.count - 1)),
                w = chart.bar_w,
                fill = colour(v, version),
                at = time_of(b.second(i) * 1000),
            );
            y += h;
        }
    }
    if let Some(w) = &v.mixed_window {
        let (x0, x1) = (
            chart.x_ms(w.start_unix_ms),
            chart.x_ms(w.end_unix_ms + 1000),
        );
        let _ = writeln!(
            out,
            r#"<rect class="mixed-window" x="{x0:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}"><title>mixed versions {from} – {to}</title></rect>"#,
            y = STRIP_TOP - 3.0,
            w = (x1 - x0).max(1.0),
            h = STRIP_H + 6.0,
            from = time_of(w.start_unix_ms),
            to = time_of(w.end_unix_ms),
        );
    }
}

/// Versions are coloured by order of first appearance, as in the legend.
fn colour(v: &Versions, version: &str) -> &'static str {
    let i = v
        .seen
        .iter()
        .position(|s| s.version == version)
        .unwrap_or(0);
    VERSION_COLOURS[i % VERSION_COLOURS.len()]
}

/// Closes the chart and explains its colours.
fn legend(out: &mut String, r: &Report, bucket: u64) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::html::tests::{T0, load, report};

    /// Two hours of loads every 3 s, switching version halfway, the report closed early.
    fn long_report() -> Report {
        let loads = (0..2400u64)
            .map(|i| {
                let outcome = if i % 7 == 3 {
                    Outcome::Failed
                } else {
                    Outcome::Ok
                };
                let version = if i < 1200 { "a" } else { "b" };
                load(i, T0 + 1_234 + i * 3_000, outcome, Some(version))
            })
            .collect();
        report(loads, 5_000_000)
    }

    #[test]
    fn a_long_run_gets_at_most_600_wider_bars_and_loses_no_load() {
        let r = long_report();
        let b = Buckets::of(&r).unwrap();
        assert_eq!((b.width, b.count), (12, 600));
        assert_eq!(b.loads.len(), 600);
        let drawn: u64 = b.loads.iter().flatten().sum();
        assert_eq!(drawn, r.loads.len() as u64);
        let failed: u64 = b.loads.iter().map(|c| c[0]).sum();
        assert_eq!(
            failed,
            r.loads
                .iter()
                .filter(|l| l.outcome == Outcome::Failed)
                .count() as u64
        );
        // Loads every 3 s into 12 s buckets: 4 a bar.
        assert!(
            b.loads.iter().all(|c| c.iter().sum::<u64>() == 4),
            "{:?}",
            b.loads
        );
        let strip: u64 = b.versions.values().flat_map(|v| v.values()).sum();
        assert_eq!(strip, r.loads.len() as u64);
        assert_eq!(b.versions[&300], BTreeMap::from([("b", 4)]));
    }

    #[test]
    fn loads_outside_the_run_land_in_the_first_and_last_bar() {
        let early = load(1, T0 - 2_500, Outcome::Ok, None);
        let late = load(2, T0 + 9_999, Outcome::Failed, None);
        let r = report(vec![early, late], 4_000);
        let b = Buckets::of(&r).unwrap();
        assert_eq!(b.t0, T0 / 1000 - 3, "the chart starts at the first load");
        assert_eq!((b.width, b.count), (1, 13));
        assert_eq!(b.loads[0], [0, 1, 0]);
        assert_eq!(b.loads[12], [1, 0, 0]);
        assert_eq!(b.top(), 1);
        assert!(Buckets::of(&report(vec![], 4_000)).is_none());
    }
}
