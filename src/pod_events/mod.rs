//! `--pod-events FILE`: when each pod was created, became ready, was told to stop and was gone,
//! read once probing is over from what the simulator (`--events`) or kubectl wrote, in any of
//! the shapes they write: the simulator's JSON lines, and the stream of JSON objects of
//! `kubectl get events --watch -o json` or `kubectl get pods --watch -o json` (with or without
//! `--output-watch-events`). Each pod's events fold into one [`PodLife`].

mod kubernetes;
mod simulator;
mod watch;

pub use watch::{PodSource, Watch};

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::model::{PodEvents, PodLife};

/// The file's pods, or why it could not be read (then the run goes on without them).
pub fn read(path: &Path) -> PodEvents {
    let mut events = PodEvents {
        path: path.display().to_string(),
        ..PodEvents::default()
    };
    match std::fs::read_to_string(path) {
        Ok(text) => match parse(&text) {
            Ok((format, lives)) => {
                events.format = Some(format.to_string());
                events.lives = lives;
            }
            Err(e) => events.error = Some(e),
        },
        Err(e) => events.error = Some(format!("reading {}: {e}", path.display())),
    }
    events
}

/// The format the values are in, and each pod's life, in the order the pods were created.
pub fn parse(text: &str) -> Result<(&'static str, Vec<PodLife>), String> {
    let mut values = Vec::new();
    for value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        match value {
            Ok(value) => values.push(value),
            // A watch stopped mid-object leaves its last one cut short: the rest stands.
            Err(e) if e.is_eof() && !values.is_empty() => break,
            Err(e) => return Err(format!("not JSON values one after the other: {e}")),
        }
    }
    let Some(first) = values.first() else {
        return Ok(("empty", Vec::new()));
    };
    let (format, fold): (&str, fn(&Value, &mut Lives)) = if simulator::is(first) {
        ("simulator", simulator::fold)
    } else if kubernetes::is_event(first) {
        ("kubectl events", kubernetes::fold_event)
    } else if kubernetes::is_pod(first) {
        ("kubectl pods", kubernetes::fold_pod)
    } else {
        return Err(
            "neither the simulator's events nor kubectl's events or pods as JSON".to_string(),
        );
    };
    let mut lives = Lives::default();
    for value in &values {
        fold(value, &mut lives);
    }
    Ok((format, lives.finish()))
}

/// Pods by name, as their events arrive.
#[derive(Default)]
pub(crate) struct Lives(BTreeMap<String, PodLife>);

impl Lives {
    pub(crate) fn of(&mut self, pod: &str) -> &mut PodLife {
        self.0.entry(pod.to_string()).or_insert_with(|| PodLife {
            pod: pod.to_string(),
            ..PodLife::default()
        })
    }

    fn finish(self) -> Vec<PodLife> {
        let mut lives: Vec<PodLife> = self.0.into_values().collect();
        lives.sort_by_key(|l| (l.created_at_ms.or(l.routed_at_ms), l.pod.clone()));
        lives
    }
}

/// Keeps the earliest time an event of a kind was seen.
pub(crate) fn earliest(slot: &mut Option<u64>, at: Option<u64>) {
    if let Some(at) = at {
        *slot = Some(slot.map_or(at, |s| s.min(at)));
    }
}

#[cfg(test)]
mod tests;
