//! The simulator's pod events (`rollprobe simulate --events FILE`): one JSON object a line,
//! `{"at_unix_ms", "pod", "version", "kind", "port"}`.

use serde_json::Value;

use super::{Lives, earliest};

pub(super) fn is(v: &Value) -> bool {
    v.get("at_unix_ms").is_some() && v.get("kind").is_some_and(Value::is_string)
}

pub(super) fn fold(v: &Value, lives: &mut Lives) {
    let (Some(pod), Some(kind)) = (v["pod"].as_str(), v["kind"].as_str()) else {
        return;
    };
    if pod.is_empty() {
        // The rollout's own events.
        return;
    }
    let at = v["at_unix_ms"].as_u64();
    let life = lives.of(pod);
    if let Some(version) = v["version"].as_str() {
        life.version = Some(version.to_string());
    }
    match kind {
        "started" => earliest(&mut life.created_at_ms, at),
        "joined" => earliest(&mut life.routed_at_ms, at),
        "ready" => earliest(&mut life.ready_at_ms, at),
        "left" => {
            earliest(&mut life.removed_at_ms, at);
            earliest(&mut life.stopping_at_ms, at);
        }
        "killed" => {
            earliest(&mut life.stopping_at_ms, at);
            earliest(&mut life.gone_at_ms, at);
        }
        // Stopped without leaving first: the simulator's teardown told it to.
        "stopped" => {
            earliest(&mut life.stopping_at_ms, at);
            earliest(&mut life.gone_at_ms, at);
        }
        _ => {}
    }
}
