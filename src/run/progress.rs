//! Live progress: a spinner line on a terminal, a plain status line every few seconds in CI logs.
//! Other output during the run (the deploy command's lines) goes through [`Console`] so it does
//! not tear the spinner.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;

use crate::judge::recorder::Snapshot;
use crate::model::Phase;

const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// Where lines go while the progress display runs.
#[derive(Clone)]
pub struct Console {
    bar: Option<ProgressBar>,
}

impl Console {
    /// A spinner when stderr is a terminal and progress is wanted; plain lines otherwise.
    pub fn new(show_progress: bool) -> Console {
        let bar = (show_progress && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}")
                    .expect("valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Console { bar }
    }

    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

/// Renders snapshots until the sender goes away.
pub async fn show(
    console: Console,
    mut rx: watch::Receiver<Snapshot>,
    phase: watch::Receiver<Phase>,
    enabled: bool,
) {
    let t0 = Instant::now();
    let render = |s: &Snapshot| line(s, *phase.borrow(), t0.elapsed());
    match (&console.bar, enabled) {
        (_, false) => while rx.changed().await.is_ok() {},
        (Some(bar), true) => {
            while rx.changed().await.is_ok() {
                bar.set_message(render(&rx.borrow()));
            }
            bar.finish_and_clear();
        }
        (None, true) => {
            let mut ticker = tokio::time::interval(PLAIN_EVERY);
            ticker.tick().await;
            loop {
                tokio::select! {
                    changed = rx.changed() => if changed.is_err() { break },
                    _ = ticker.tick() => {
                        eprintln!("[{:>5.0}s] {}", t0.elapsed().as_secs_f64(), render(&rx.borrow()));
                    }
                }
            }
        }
    }
}

fn line(s: &Snapshot, phase: Phase, elapsed: Duration) -> String {
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
    // The counts are the whole run's; the phase is only where the run is now.
    if phase != Phase::Run {
        out.push_str(&format!(" — now in {phase}"));
    }
    out
}
