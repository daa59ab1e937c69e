//! Live progress: a spinner line on a terminal, a plain status line every few seconds in CI logs.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;

use crate::recorder::Snapshot;

const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Renders snapshots until the sender goes away. Runs as its own task so a slow terminal never
/// holds up the recorder.
pub async fn show(mut rx: watch::Receiver<Snapshot>, enabled: bool) {
    if !enabled {
        while rx.changed().await.is_ok() {}
        return;
    }
    let t0 = Instant::now();
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        while rx.changed().await.is_ok() {
            bar.set_message(line(&rx.borrow(), t0.elapsed()));
        }
        bar.finish_and_clear();
    } else {
        let mut ticker = tokio::time::interval(PLAIN_EVERY);
        ticker.tick().await;
        loop {
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { break },
                _ = ticker.tick() => {
                    eprintln!("[{:>5.0}s] {}", t0.elapsed().as_secs_f64(), line(&rx.borrow(), t0.elapsed()));
                }
            }
        }
    }
}

fn line(s: &Snapshot, elapsed: Duration) -> String {
    let rate = s.loads as f64 / elapsed.as_secs_f64().max(0.001);
    let mut out = format!("{} loads ({rate:.2}/s), {} failed", s.loads, s.failed);
    if !s.failed_by_class.is_empty() {
        let classes: Vec<String> = s
            .failed_by_class
            .iter()
            .map(|(class, n)| format!("{class} {n}"))
            .collect();
        out.push_str(&format!(" [{}]", classes.join(", ")));
    }
    if s.prober_errors > 0 {
        out.push_str(&format!(", {} prober errors", s.prober_errors));
    }
    out
}
