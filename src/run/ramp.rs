//! `--workers auto`: finds how many users this machine can run. Most of a load is the idle
//! window, so up to several users per core the prober waits rather than computes, and one per
//! core leaves most of the machine unused. The ramp doubles the users while loads per second
//! still rise and the CPU has room, goes back to the best count once they stop rising, and
//! then holds, stepping down only when the machine is saturated and loads take longer than
//! they did at the start: then the prober, not the site, is slowing them down. The ceiling
//! keeps it polite to the site.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use tokio::sync::watch;

use crate::clock::unix_ms;
use crate::cpu::Meter;
use crate::defaults;
use crate::model::WorkerStep;

/// What the run did over one window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub loads_per_s: f64,
    /// Share of all cores busy; None where /proc is missing.
    pub busy: Option<f64>,
    /// Mean time of the loads that ended in the window; None when none did.
    pub mean_load_ms: Option<f64>,
}

/// The ramp's decisions, one per window.
#[derive(Debug)]
pub struct Ramp {
    ceiling: usize,
    users: usize,
    /// The count with the most loads per second so far, and that rate.
    best: Option<(usize, f64)>,
    holding: bool,
    /// Load time at the start, before the prober had more users than cores.
    first_mean_ms: Option<f64>,
}

impl Ramp {
    pub fn new(start: usize, ceiling: usize) -> Ramp {
        Ramp {
            ceiling,
            users: start.clamp(1, ceiling),
            best: None,
            holding: false,
            first_mean_ms: None,
        }
    }

    pub fn users(&self) -> usize {
        self.users
    }

    /// Whether the ramp is over and the count held.
    pub fn holding(&self) -> bool {
        self.holding
    }

    /// The user count for the next window, given how the last one went.
    pub fn next(&mut self, w: Window) -> usize {
        if self.first_mean_ms.is_none() {
            self.first_mean_ms = w.mean_load_ms;
        }
        let saturated = w.busy.is_some_and(|b| b >= defaults::AUTO_BUSY_LIMIT);
        if self.holding {
            let slower = match (w.mean_load_ms, self.first_mean_ms) {
                (Some(now), Some(first)) => now > first * defaults::AUTO_SLOWER,
                _ => false,
            };
            if saturated && slower && self.users > 1 {
                self.users -= 1;
            }
            return self.users;
        }
        let rose = self
            .best
            .is_none_or(|(_, rate)| w.loads_per_s > rate * defaults::AUTO_GAIN);
        if rose {
            self.best = Some((self.users, w.loads_per_s));
        }
        if rose && !saturated && self.users < self.ceiling {
            self.users = (self.users * 2).min(self.ceiling);
        } else {
            self.holding = true;
            self.users = self.best.map_or(self.users, |(best, _)| best);
        }
        self.users
    }
}

/// What the ramp reads of the run (loads ended and the sum of their times) and the steps it
/// took, kept here so they outlive the ramp, which stops with the workers.
#[derive(Default)]
pub struct Tally {
    ended: AtomicU64,
    load_ms: AtomicU64,
    steps: Mutex<Vec<WorkerStep>>,
}

impl Tally {
    pub fn add(&self, duration_ms: f64) {
        self.ended.fetch_add(1, Ordering::SeqCst);
        self.load_ms.fetch_add(duration_ms as u64, Ordering::SeqCst);
    }

    pub fn steps(&self) -> Vec<WorkerStep> {
        self.steps.lock().expect("ramp steps").clone()
    }

    fn took(&self, step: WorkerStep) {
        self.steps.lock().expect("ramp steps").push(step);
    }
}

/// Runs the ramp for as long as the workers run: tells `users` the count for each window and
/// books every step in `tally`.
pub async fn drive(mut ramp: Ramp, tally: Arc<Tally>, users: watch::Sender<usize>) {
    tally.took(step(ramp.users(), None));
    users.send_replace(ramp.users());
    let mut meter = Meter::new();
    let mut last = (Instant::now(), 0u64, 0u64);
    loop {
        tokio::time::sleep(defaults::AUTO_WINDOW).await;
        let now = (
            Instant::now(),
            tally.ended.load(Ordering::SeqCst),
            tally.load_ms.load(Ordering::SeqCst),
        );
        let (ended, ms) = (now.1 - last.1, now.2 - last.2);
        let window = Window {
            loads_per_s: ended as f64 / now.0.duration_since(last.0).as_secs_f64(),
            busy: meter.busy(),
            mean_load_ms: (ended > 0).then(|| ms as f64 / ended as f64),
        };
        last = now;
        let before = (ramp.users(), ramp.holding());
        let next = ramp.next(window);
        // The window that ended the ramp is booked even when the count stays: it says why.
        if next != before.0 || ramp.holding() != before.1 {
            tally.took(step(next, Some(window)));
            users.send_replace(next);
        }
    }
}

fn step(users: usize, after: Option<Window>) -> WorkerStep {
    WorkerStep {
        at_ms: unix_ms(SystemTime::now()),
        workers: users,
        loads_per_s: after.map(|w| (w.loads_per_s * 100.0).round() / 100.0),
        cpu_busy: after
            .and_then(|w| w.busy)
            .map(|b| (b * 100.0).round() / 100.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(loads_per_s: f64, busy: f64, mean: f64) -> Window {
        Window {
            loads_per_s,
            busy: Some(busy),
            mean_load_ms: Some(mean),
        }
    }

    /// Figures from this project's benchmark machine (2 cores, headless shell): loads/s rise
    /// up to about 8 users and flatten at 12.
    #[test]
    fn doubles_while_loads_per_second_rise_then_holds_at_the_best() {
        let mut ramp = Ramp::new(2, 16);
        assert_eq!(ramp.next(w(2.8, 0.35, 700.0)), 4);
        assert_eq!(ramp.next(w(5.4, 0.7, 720.0)), 8);
        assert_eq!(ramp.next(w(9.2, 0.8, 850.0)), 16);
        // 16 users brought nothing: back to 8, and stay.
        assert_eq!(ramp.next(w(9.4, 0.85, 1600.0)), 8);
        assert_eq!(ramp.next(w(9.1, 0.8, 860.0)), 8);
        assert_eq!(ramp.next(w(12.0, 0.8, 860.0)), 8);
    }

    #[test]
    fn stops_at_the_ceiling() {
        let mut ramp = Ramp::new(2, 6);
        assert_eq!(ramp.next(w(2.8, 0.3, 700.0)), 4);
        assert_eq!(ramp.next(w(5.4, 0.5, 700.0)), 6);
        assert_eq!(ramp.next(w(7.9, 0.6, 700.0)), 6);
        assert_eq!(ramp.next(w(8.0, 0.6, 700.0)), 6);
    }

    #[test]
    fn a_saturated_cpu_ends_the_ramp_and_a_slow_saturated_one_steps_down() {
        let mut ramp = Ramp::new(2, 16);
        assert_eq!(ramp.next(w(2.8, 0.4, 700.0)), 4);
        // More loads, but the CPU is full: hold at this count.
        assert_eq!(ramp.next(w(5.0, 0.95, 900.0)), 4);
        // Loads now take twice as long with the CPU full: the prober is the bottleneck.
        assert_eq!(ramp.next(w(4.0, 0.97, 1500.0)), 3);
        // A slow site with a CPU that has room is the site's: no step down.
        assert_eq!(ramp.next(w(1.0, 0.3, 5000.0)), 3);
    }

    #[test]
    fn a_machine_full_from_the_start_holds_there() {
        let mut ramp = Ramp::new(4, 16);
        assert_eq!(ramp.next(w(3.0, 0.99, 1400.0)), 4);
        assert_eq!(ramp.next(w(3.1, 0.99, 1400.0)), 4);
    }

    #[test]
    fn a_window_without_loads_is_no_gain() {
        let mut ramp = Ramp::new(2, 16);
        assert_eq!(ramp.next(w(2.0, 0.3, 700.0)), 4);
        let none = Window {
            loads_per_s: 0.0,
            busy: Some(0.1),
            mean_load_ms: None,
        };
        assert_eq!(ramp.next(none), 2);
    }
}
