//! How busy the prober's machine is. A saturated CPU slows Chromium down and stretches load
//! times, so timeouts in saturated seconds may be the prober's own doing, not the site's.

use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::clock::unix_ms;

/// Busy share of all cores above which the machine counts as saturated.
pub const SATURATED: f64 = 0.95;

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub unix_s: u64,
    /// Share of all cores busy over the second before, 0.0 to 1.0.
    pub busy: f64,
}

/// Samples /proc/stat once a second until `stop` turns true; empty where /proc is missing.
pub async fn sample(mut stop: watch::Receiver<bool>) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut last = read();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return samples,
        }
        let now = read();
        if let (Some((busy0, total0)), Some((busy1, total1))) = (last, now)
            && total1 > total0
        {
            samples.push(Sample {
                unix_s: unix_ms(SystemTime::now()) / 1000,
                busy: (busy1 - busy0) as f64 / (total1 - total0) as f64,
            });
        }
        last = now;
    }
}

/// (busy, total) jiffies of all cores.
fn read() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = cpu
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...: idle and iowait are not busy.
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// Whether the machine was saturated in the second of `unix_ms` (or the one before, since a
/// slow load is slowed before it times out).
pub fn saturated_at(samples: &[Sample], unix_ms: u64) -> bool {
    let s = unix_ms / 1000;
    samples
        .iter()
        .any(|x| (x.unix_s == s || x.unix_s + 1 == s) && x.busy >= SATURATED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_machine() {
        let (busy, total) = read().expect("/proc/stat");
        assert!(busy <= total && total > 0);
    }

    #[test]
    fn saturation_covers_the_second_and_the_one_after() {
        let samples = [
            Sample {
                unix_s: 10,
                busy: 0.99,
            },
            Sample {
                unix_s: 11,
                busy: 0.2,
            },
        ];
        assert!(saturated_at(&samples, 10_500));
        assert!(saturated_at(&samples, 11_200));
        assert!(!saturated_at(&samples, 12_100));
    }
}
