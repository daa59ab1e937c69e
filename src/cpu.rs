//! How busy the prober's machine is, sampled once a second: the judge marks timeouts in
//! saturated seconds as possibly the prober's own doing.

use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use crate::clock::unix_ms;
use crate::model::CpuSample;

/// Samples /proc/stat once a second until `stop` turns true; empty where /proc is missing.
pub async fn sample(mut stop: watch::Receiver<bool>) -> Vec<CpuSample> {
    let mut samples = Vec::new();
    let mut meter = Meter::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => return samples,
        }
        if let Some(busy) = meter.busy() {
            samples.push(CpuSample {
                unix_s: unix_ms(SystemTime::now()) / 1000,
                busy,
            });
        }
    }
}

/// The share of all cores busy between two readings.
pub struct Meter {
    last: Option<(u64, u64)>,
}

impl Meter {
    pub fn new() -> Meter {
        Meter { last: read() }
    }

    /// Since the last call (or since `new`); None where /proc is missing.
    pub fn busy(&mut self) -> Option<f64> {
        let now = read();
        let busy = match (self.last, now) {
            (Some((busy0, total0)), Some((busy1, total1))) if total1 > total0 => {
                Some((busy1 - busy0) as f64 / (total1 - total0) as f64)
            }
            _ => None,
        };
        self.last = now;
        busy
    }
}

impl Default for Meter {
    fn default() -> Meter {
        Meter::new()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_machine() {
        let (busy, total) = read().expect("/proc/stat");
        assert!(busy <= total && total > 0);
    }
}
