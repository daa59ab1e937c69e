//! One DevTools connection over the pipe Chromium opens with `--remote-debugging-pipe`: it reads
//! fd 3 and writes fd 4, one JSON message per write, each ended by a NUL byte. Calls are matched
//! to their replies by id; events are routed by session to whoever subscribed to that session,
//! and a session a subscribed one auto-attached (a worker, a service worker, an out-of-process
//! frame) is routed with it, registered before its first event can arrive.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chromiumoxide_types::Command;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::sync::{mpsc, oneshot};

/// An event of a subscribed session or of one it attached.
#[derive(Debug)]
pub struct Event {
    /// The session that sent it: the subscribed one or a child of it.
    pub session: String,
    pub method: String,
    pub params: Box<RawValue>,
}

impl Event {
    /// The event's parameters as `T`; None when they do not decode (Chromium renames a field
    /// now and then: such an event is skipped, never an error that ends the load).
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_str(self.params.get()).ok()
    }
}

type Reply = Result<Box<RawValue>, String>;

struct Route {
    events: mpsc::UnboundedSender<Event>,
    /// The subscribed session this one was attached by; None for the subscribed one.
    parent: Option<String>,
}

#[derive(Default)]
struct State {
    pending: HashMap<u64, oneshot::Sender<Reply>>,
    routes: HashMap<String, Route>,
    /// Why the connection is gone, once it is, and when (Unix ms).
    closed: Option<String>,
    closed_at_ms: Option<u64>,
}

pub struct Connection {
    out: mpsc::UnboundedSender<Vec<u8>>,
    state: Arc<Mutex<State>>,
    next_id: AtomicU64,
}

#[derive(Serialize)]
struct Outgoing<'a, P: Serialize> {
    id: u64,
    method: &'a str,
    params: P,
    #[serde(rename = "sessionId", skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
}

#[derive(Deserialize)]
struct Incoming {
    id: Option<u64>,
    method: Option<String>,
    params: Option<Box<RawValue>>,
    result: Option<Box<RawValue>>,
    error: Option<Failure>,
    #[serde(rename = "sessionId")]
    session: Option<String>,
}

#[derive(Deserialize)]
struct Failure {
    code: i64,
    message: String,
}

#[derive(Deserialize)]
struct Attached {
    #[serde(rename = "sessionId")]
    session: String,
}

impl Connection {
    /// Talks over `to_browser` (the browser's fd 3) and `from_browser` (its fd 4). The reader
    /// and writer run as tasks until the browser closes its end; then every pending and later
    /// call fails at once, and every subscriber's stream ends.
    pub fn start(to_browser: pipe::Sender, from_browser: pipe::Receiver) -> Connection {
        let (out, mut outgoing) = mpsc::unbounded_channel::<Vec<u8>>();
        let state = Arc::new(Mutex::new(State::default()));
        let mut writer = to_browser;
        let writer_state = state.clone();
        tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                if let Err(e) = writer.write_all(&message).await {
                    close(&writer_state, format!("writing to the browser: {e}"));
                    return;
                }
            }
        });
        let reader_state = state.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::with_capacity(1 << 16, from_browser);
            let mut message = Vec::new();
            loop {
                message.clear();
                match reader.read_until(0, &mut message).await {
                    Ok(0) => {
                        break close(&reader_state, "the browser closed the connection".into());
                    }
                    Ok(_) => {
                        if message.last() == Some(&0) {
                            message.pop();
                        }
                        dispatch(&reader_state, &message);
                    }
                    Err(e) => break close(&reader_state, format!("reading from the browser: {e}")),
                }
            }
        });
        Connection {
            out,
            state,
            next_id: AtomicU64::new(1),
        }
    }

    /// Whether the browser is still there.
    pub fn is_open(&self) -> bool {
        self.state.lock().expect("cdp lock").closed.is_none()
    }

    /// When the browser went away, Unix ms.
    pub fn closed_at_ms(&self) -> Option<u64> {
        self.state.lock().expect("cdp lock").closed_at_ms
    }

    /// Sends `cmd` to `session` (None: the browser) and waits for its reply, without a bound:
    /// callers bound it (the probe does, with `--cdp-timeout`).
    pub async fn call<C: Command>(
        &self,
        session: Option<&str>,
        cmd: C,
    ) -> Result<C::Response, String> {
        let method = cmd.identifier();
        let raw = self.call_raw(session, &method, &cmd).await?;
        serde_json::from_str(raw.get()).map_err(|e| format!("{method}: unexpected reply: {e}"))
    }

    async fn call_raw(
        &self,
        session: Option<&str>,
        method: &str,
        params: &impl Serialize,
    ) -> Reply {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut bytes = serde_json::to_vec(&Outgoing {
            id,
            method,
            params,
            session,
        })
        .map_err(|e| format!("{method}: {e}"))?;
        bytes.push(0);
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.state.lock().expect("cdp lock");
            if let Some(why) = &state.closed {
                return Err(format!("{method}: {why}"));
            }
            state.pending.insert(id, tx);
        }
        if self.out.send(bytes).is_err() {
            return Err(format!("{method}: the browser connection is closed"));
        }
        match rx.await {
            Ok(reply) => reply.map_err(|e| format!("{method}: {e}")),
            Err(_) => Err(format!("{method}: the browser connection is closed")),
        }
    }

    /// The events of `session` and of every session it attaches, from now on.
    pub fn subscribe(&self, session: &str) -> mpsc::UnboundedReceiver<Event> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.state.lock().expect("cdp lock");
        if state.closed.is_none() {
            state.routes.insert(
                session.to_string(),
                Route {
                    events: tx,
                    parent: None,
                },
            );
        }
        rx
    }

    /// Stops routing `session`'s events and those of the sessions it attached.
    pub fn forget(&self, session: &str) {
        let mut state = self.state.lock().expect("cdp lock");
        state
            .routes
            .retain(|id, route| id != session && route.parent.as_deref() != Some(session));
    }
}

/// Hands one message to the call waiting for it, or to the subscriber of its session.
fn dispatch(state: &Mutex<State>, message: &[u8]) {
    let Ok(incoming) = serde_json::from_slice::<Incoming>(message) else {
        return;
    };
    let mut state = state.lock().expect("cdp lock");
    if let Some(id) = incoming.id {
        if let Some(tx) = state.pending.remove(&id) {
            let reply = match (incoming.result, incoming.error) {
                (_, Some(failure)) => Err(format!("{} ({})", failure.message, failure.code)),
                (Some(result), None) => Ok(result),
                (None, None) => RawValue::from_string("{}".into()).map_err(|e| e.to_string()),
            };
            let _ = tx.send(reply);
        }
        return;
    }
    let Some(method) = incoming.method else {
        return;
    };
    let Some(session) = incoming.session else {
        // A page rollprobe attached is gone (closed, crashed): its stream ends once the events
        // it sent before are taken.
        if method == "Target.detachedFromTarget"
            && let Some(gone) = incoming
                .params
                .and_then(|p| serde_json::from_str::<Attached>(p.get()).ok())
        {
            state.routes.retain(|id, route| {
                *id != gone.session && route.parent.as_deref() != Some(gone.session.as_str())
            });
        }
        return;
    };
    let params = incoming
        .params
        .unwrap_or_else(|| RawValue::from_string("{}".into()).expect("an empty object"));
    let Some(route) = state.routes.get(&session) else {
        return;
    };
    let events = route.events.clone();
    let root = route.parent.clone().unwrap_or_else(|| session.clone());
    match method.as_str() {
        "Target.attachedToTarget" => {
            if let Ok(child) = serde_json::from_str::<Attached>(params.get()) {
                let route = Route {
                    events: events.clone(),
                    parent: Some(root),
                };
                state.routes.insert(child.session, route);
            }
        }
        "Target.detachedFromTarget" => {
            if let Ok(child) = serde_json::from_str::<Attached>(params.get()) {
                state.routes.remove(&child.session);
            }
        }
        _ => {}
    }
    let _ = events.send(Event {
        session,
        method,
        params,
    });
}

/// Fails every pending call and ends every subscriber's stream.
fn close(state: &Mutex<State>, why: String) {
    let mut state = state.lock().expect("cdp lock");
    state.closed.get_or_insert(why.clone());
    state
        .closed_at_ms
        .get_or_insert_with(|| crate::clock::unix_ms(std::time::SystemTime::now()));
    for (_, tx) in state.pending.drain() {
        let _ = tx.send(Err(why.clone()));
    }
    state.routes.clear();
}
