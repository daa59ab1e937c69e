//! What kubectl writes as JSON while it watches: core/v1 Events (`kubectl get events --watch
//! -o json`) and Pods (`kubectl get pods --watch -o json`), each object as the API returns it,
//! or wrapped as `{"type": "MODIFIED", "object": {...}}` with `--output-watch-events`.

use serde_json::Value;

use super::{Lives, earliest};

fn unwrapped(v: &Value) -> &Value {
    match v.get("object") {
        Some(object) if v.get("type").is_some() => object,
        _ => v,
    }
}

pub(super) fn is_event(v: &Value) -> bool {
    unwrapped(v).get("involvedObject").is_some()
}

pub(super) fn is_pod(v: &Value) -> bool {
    unwrapped(v)["kind"] == "Pod" || unwrapped(v)["status"].get("conditions").is_some()
}

/// An RFC 3339 time as Kubernetes writes it (`2026-12-05T10:00:01Z`, `…01.123456Z`).
fn ms(v: &Value) -> Option<u64> {
    let at = humantime::parse_rfc3339_weak(v.as_str()?).ok()?;
    Some(crate::clock::unix_ms(at))
}

/// A pod's version, by its ReplicaSet: the pod's name without its own suffix
/// (`web-7d9f8c6b5-x2x4k` is of `web-7d9f8c6b5`).
fn replica_set(pod: &str) -> Option<String> {
    pod.rsplit_once('-').map(|(rs, _)| rs.to_string())
}

/// A Pod's event: when it was scheduled, its containers started, it was told to stop.
pub(super) fn fold_event(v: &Value, lives: &mut Lives) {
    let e = unwrapped(v);
    let object = &e["involvedObject"];
    let (Some("Pod"), Some(pod)) = (object["kind"].as_str(), object["name"].as_str()) else {
        return;
    };
    let at = ["eventTime", "firstTimestamp", "lastTimestamp"]
        .iter()
        .find_map(|k| ms(&e[*k]))
        .or_else(|| ms(&e["metadata"]["creationTimestamp"]));
    let life = lives.of(pod);
    if life.version.is_none() {
        life.version = replica_set(pod);
    }
    match e["reason"].as_str().unwrap_or_default() {
        "Scheduled" | "Pulling" | "Pulled" | "Created" | "Started" => {
            earliest(&mut life.created_at_ms, at);
        }
        "Killing" => earliest(&mut life.stopping_at_ms, at),
        _ => {}
    }
}

/// A Pod as the watch sees it change: created, Ready, marked for deletion, its containers
/// terminated, deleted.
pub(super) fn fold_pod(v: &Value, lives: &mut Lives) {
    let p = unwrapped(v);
    let meta = &p["metadata"];
    let Some(pod) = meta["name"].as_str() else {
        return;
    };
    let life = lives.of(pod);
    let labels = &meta["labels"];
    let image_tag = p["spec"]["containers"][0]["image"]
        .as_str()
        .and_then(|image| image.rsplit_once(':'))
        .filter(|(_, tag)| !tag.contains('/'))
        .map(|(_, tag)| tag.to_string());
    life.version = (labels["app.kubernetes.io/version"].as_str())
        .or(labels["version"].as_str())
        .map(str::to_string)
        .or(image_tag)
        .or_else(|| labels["pod-template-hash"].as_str().map(str::to_string))
        .or(life.version.take());
    if let Some(ip) = p["status"]["podIP"].as_str() {
        life.ip = Some(ip.to_string());
    }
    earliest(&mut life.created_at_ms, ms(&meta["creationTimestamp"]));
    let ready = (p["status"]["conditions"].as_array().into_iter().flatten())
        .find(|c| c["type"] == "Ready" && c["status"] == "True");
    earliest(
        &mut life.ready_at_ms,
        ready.and_then(|c| ms(&c["lastTransitionTime"])),
    );
    // The deletion time is when the grace period ends: it was asked for that long before.
    let grace_ms = meta["deletionGracePeriodSeconds"].as_u64().unwrap_or(0) * 1000;
    let asked = ms(&meta["deletionTimestamp"]).map(|t| t.saturating_sub(grace_ms));
    earliest(&mut life.stopping_at_ms, asked);
    let statuses = p["status"]["containerStatuses"].as_array();
    let finished: Option<Vec<u64>> = (statuses.into_iter().flatten())
        .map(|s| ms(&s["state"]["terminated"]["finishedAt"]))
        .collect();
    if let Some(last) = finished.and_then(|f| f.into_iter().max()) {
        earliest(&mut life.gone_at_ms, Some(last));
    }
}
