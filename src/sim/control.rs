//! Control API on its own loopback port, usable with plain curl:
//! `POST /rollout[?wait=1]`, `GET /wait`, `GET /status`, `POST /shutdown`.

use super::{
    Mode,
    events::{PodEvent, PodEventKind},
    http::{Request, Response},
    server::{Handler, handler},
    shared::{Phase, Shared},
};
use serde::Serialize;
use std::sync::Arc;

pub(crate) fn control_handler(shared: Arc<Shared>) -> Handler {
    handler(move |req: Request| {
        let shared = shared.clone();
        async move { route(&shared, req).await }
    })
}

async fn route(shared: &Shared, req: Request) -> Response {
    let wait = req
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "wait=1" || kv == "wait=true"));
    match (req.method.as_str(), req.path()) {
        ("POST", "/rollout") => {
            shared.request_rollout();
            if shared.mode == Mode::Steady {
                return Response::text(200, "steady mode: no rollout\n");
            }
            if wait {
                shared.wait_rollout_done().await;
                return Response::text(200, "done\n");
            }
            Response::text(200, "started\n")
        }
        ("GET", "/wait") => {
            shared.wait_rollout_done().await;
            Response::text(200, "done\n")
        }
        ("GET", "/status") => {
            let body = serde_json::to_vec_pretty(&status(shared)).expect("status serializes");
            Response::new(200, "application/json", body)
        }
        ("POST", "/shutdown") => {
            shared.halt();
            Response::text(200, "shutting down\n")
        }
        (_, "/rollout" | "/wait" | "/status" | "/shutdown") => {
            Response::text(405, "method not allowed\n")
        }
        _ => Response::text(
            404,
            "endpoints: POST /rollout[?wait=1], GET /wait, GET /status, POST /shutdown\n",
        ),
    }
}

#[derive(Serialize)]
struct Status {
    mode: Mode,
    phase: Phase,
    pods: Vec<PodStatus>,
    events: Vec<PodEvent>,
}

#[derive(Serialize)]
struct PodStatus {
    name: String,
    version: String,
    port: u16,
    /// Listening for connections.
    ready: bool,
    /// Receiving traffic from the ingress (possibly while dead, in no-drain).
    in_ingress: bool,
    #[serde(skip)]
    exited: bool,
}

/// Pod states are replayed from the event log, the single source of truth.
fn status(shared: &Shared) -> Status {
    let events = shared.log.snapshot();
    let mut pods: Vec<PodStatus> = Vec::new();
    for e in &events {
        if e.kind == PodEventKind::Started {
            pods.push(PodStatus {
                name: e.pod.clone(),
                version: e.version.clone(),
                port: e.port,
                ready: false,
                in_ingress: false,
                exited: false,
            });
        }
        let Some(pod) = pods.iter_mut().find(|p| p.name == e.pod) else {
            continue;
        };
        match e.kind {
            PodEventKind::Ready => pod.ready = true,
            PodEventKind::Joined => pod.in_ingress = true,
            PodEventKind::Left => pod.in_ingress = false,
            PodEventKind::Killed | PodEventKind::Stopped => {
                pod.ready = false;
                pod.exited = true;
            }
            _ => {}
        }
    }
    pods.retain(|p| !p.exited || p.in_ingress);
    Status {
        mode: shared.mode,
        phase: shared.progress.borrow().phase,
        pods,
        events,
    }
}
