//! Probing: the browser, the workers, the open tabs and the collector, from the browser's start
//! to its shutdown. Whoever drives the run (a timer, a deploy command, a signal) talks to it
//! through [`Control`]: the current phase, and when to stop.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use anyhow::Result;
use futures::future::OptionFuture;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use super::browser::{start_browser, stop_browser};
use super::collect::{Collected, collect};
use super::tabs::{Staying, start_tabs};
use super::workers::{Counters, start_workers};
use super::{Control, Stop};
use crate::clock;
use crate::cpu;
use crate::judge::recorder::{Recorded, Snapshot};
use crate::model::{Observation, Round, RunFacts};
use crate::plan::RunConfig;
use crate::pod_events::Watch;

/// What a run leaves for the judge: its facts, its recorded loads, and (when asked to keep
/// them) every observation.
pub struct RunOutcome {
    pub facts: RunFacts,
    pub recorded: Recorded,
    /// Every observation in arrival order, when `keep_observations` was set.
    pub observations: Vec<Observation>,
}

/// Runs the probe until `control.stop` says so (or `max_loads` is reached); `progress` receives
/// a snapshot after every load.
pub async fn run_workers(
    cfg: RunConfig,
    mut control: Control,
    progress: watch::Sender<Snapshot>,
) -> Result<RunOutcome> {
    let started_at = SystemTime::now();
    // Without a browser the run still ends with its reports (inconclusive, the reason in the
    // notes), and the driver is not told to go on: no deploy starts while nobody watches.
    let browser = start_browser(&cfg, &mut control).await?;
    let pods = cfg.pods.as_ref().map(Watch::start); // before the driver may start the deploy
    if let (Ok(_), Some(ready)) = (&browser, control.ready.take()) {
        let _ = ready.send(());
    }
    let (cpu_stop, cpu_stop_rx) = watch::channel(false);
    let cpu_samples = tokio::spawn(cpu::sample(cpu_stop_rx));
    let t0 = std::time::Instant::now();
    let (tx, mut rx) = mpsc::unbounded_channel::<Observation>();
    let (round_tx, mut round_rx) = mpsc::unbounded_channel::<Round>();
    let counters = Arc::new(Counters::default());
    let (workers, tabs) = match &browser {
        Ok(supervisor) => (
            start_workers(&cfg, supervisor, &control, &counters, tx),
            start_tabs(&cfg, supervisor, &control, round_tx),
        ),
        // Nothing runs: the channels close at once.
        Err(_) => {
            drop((tx, round_tx));
            (JoinSet::new(), Staying::default())
        }
    };
    let first_phase = *control.phase.borrow_and_update();
    let mut collected = Collected::new(&cfg, first_phase, started_at);
    let interrupted = collect(
        &cfg,
        &mut control,
        (&mut rx, &mut round_rx),
        &mut collected,
        &progress,
    )
    .await
        || *control.stop.borrow() == Stop::Interrupt;
    // Whatever still runs after the grace period is abandoned, not waited for.
    let abandoned = counters.in_flight.load(Ordering::SeqCst);
    let ends = (workers, tabs);
    collected
        .last(&cfg, interrupted, ends, (&mut rx, &mut round_rx))
        .await;
    let finished_at = SystemTime::now();
    collected.end_phase(clock::unix_ms(finished_at));
    cpu_stop.send_replace(true);
    let cpu = cpu_samples.await.unwrap_or_default();
    let browser = stop_browser(browser).await;
    let duration_s = t0.elapsed().as_secs_f64();
    let Collected {
        recorder,
        kept,
        phases,
        ..
    } = collected;
    Ok(RunOutcome {
        recorded: recorder.finish(duration_s, &phases),
        facts: RunFacts {
            started_at_ms: clock::unix_ms(started_at),
            finished_at_ms: clock::unix_ms(finished_at),
            duration_s,
            phases,
            interrupted,
            browser_outages: browser.outages,
            abandoned_in_flight: abandoned,
            skipped_starts: counters.skipped.load(Ordering::SeqCst),
            cpu,
            deploy: None,
            browser_fault: browser.fault,
            browser: browser.described,
            worker_steps: counters.ramp.steps(),
            pod_events: OptionFuture::from(pods.map(Watch::finish)).await,
        },
        observations: kept,
    })
}
