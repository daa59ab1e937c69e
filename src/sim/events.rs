//! Pod lifecycle log: in memory for the API, optionally on stderr and as
//! JSON lines so a probe report can be lined up against what happened.

use anyhow::Context;
use serde::Serialize;
use std::{
    fs::File,
    io::Write,
    path::Path,
    sync::Mutex,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PodEventKind {
    /// Process started; its port is reserved but may not be listening yet.
    Started,
    /// Listening for connections.
    Ready,
    Joined,
    Left,
    /// Died abruptly, resetting its open connections.
    Killed,
    /// Exited gracefully (after draining, or at simulator teardown).
    Stopped,
    RolloutStarted,
    RolloutFinished,
    RolloutStalled,
}

#[derive(Clone, Debug, Serialize)]
pub struct PodEvent {
    pub at_unix_ms: u64,
    /// Empty for rollout events.
    pub pod: String,
    /// For rollout events: the target version.
    pub version: String,
    pub kind: PodEventKind,
    /// Pod port; the ingress port for rollout events.
    pub port: u16,
}

impl PodEvent {
    pub fn at(&self) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_millis(self.at_unix_ms)
    }

    fn describe(&self) -> String {
        let (pod, version, port) = (&self.pod, &self.version, self.port);
        match self.kind {
            PodEventKind::Started => format!("{pod} started (port {port})"),
            PodEventKind::Ready => format!("{pod} listening (port {port})"),
            PodEventKind::Joined => format!("{pod} joined ingress (port {port})"),
            PodEventKind::Left => format!("{pod} left ingress (port {port})"),
            PodEventKind::Killed => format!("{pod} killed, open connections reset (port {port})"),
            PodEventKind::Stopped => format!("{pod} stopped (port {port})"),
            PodEventKind::RolloutStarted => format!("rollout to {version} started"),
            PodEventKind::RolloutFinished => format!("rollout to {version} finished"),
            PodEventKind::RolloutStalled => format!("rollout to {version} stalled"),
        }
    }
}

struct Sinks {
    events: Vec<PodEvent>,
    jsonl: Option<File>,
}

pub struct EventLog {
    origin: Instant,
    quiet: bool,
    sinks: Mutex<Sinks>,
}

impl EventLog {
    pub fn new(jsonl: Option<&Path>, quiet: bool) -> anyhow::Result<EventLog> {
        let jsonl = jsonl
            .map(|p| {
                File::create(p).with_context(|| format!("creating events file {}", p.display()))
            })
            .transpose()?;
        Ok(EventLog {
            origin: Instant::now(),
            quiet,
            sinks: Mutex::new(Sinks {
                events: Vec::new(),
                jsonl,
            }),
        })
    }

    pub fn record(&self, pod: &str, version: &str, kind: PodEventKind, port: u16) {
        let event = PodEvent {
            at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            pod: pod.into(),
            version: version.into(),
            kind,
            port,
        };
        if !self.quiet {
            let secs = self.origin.elapsed().as_secs_f64();
            eprintln!("[sim +{secs:.1}s] {}", event.describe());
        }
        let mut sinks = self.sinks.lock().expect("event log lock poisoned");
        if let Some(file) = sinks.jsonl.as_mut() {
            let line = serde_json::to_string(&event).expect("PodEvent serializes");
            if let Err(e) = writeln!(file, "{line}") {
                // Losing the file must not stop the simulation it documents.
                eprintln!("[sim] writing events file failed: {e}");
            }
        }
        sinks.events.push(event);
    }

    pub fn snapshot(&self) -> Vec<PodEvent> {
        self.sinks
            .lock()
            .expect("event log lock poisoned")
            .events
            .clone()
    }
}
