//! The users a run's workers load with. Making one costs a few CDP round trips and a renderer,
//! so [`Users`] makes the next one while the current load waits out its idle window, and a load
//! costs navigate + idle. A user made ahead has never navigated, and nobody listens to its
//! events until its load starts: no event of another load reaches it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::LoadSettings;
use super::kept::{ContextLife, Kept};
use super::user::FreshUser;
use crate::browser::Chromium;
use crate::model::Observation;

/// The users of a run's loads, made ahead of them.
pub struct Users {
    settings: Arc<LoadSettings>,
    kind: Kind,
}

enum Kind {
    /// Each load a new context ([`ContextLife::PerLoad`]).
    PerLoad(Ahead),
    /// Each worker its own context ([`ContextLife::PerWorker`]).
    PerWorker(Kept),
}

/// Fresh users made ahead: at most `ahead` wait at once (one per load that can run at the same
/// time), so the prober never holds more contexts than it has users.
struct Ahead {
    ahead: usize,
    waiting: Mutex<VecDeque<JoinHandle<Result<FreshUser, String>>>>,
}

impl Users {
    /// For `workers` loads at once at most.
    pub fn new(settings: &LoadSettings, workers: usize) -> Users {
        let kind = match settings.context {
            ContextLife::PerLoad => Kind::PerLoad(Ahead {
                ahead: workers,
                waiting: Mutex::new(VecDeque::new()),
            }),
            ContextLife::PerWorker => Kind::PerWorker(Kept::new(workers, settings.cdp_timeout)),
        };
        Users {
            settings: Arc::new(settings.clone()),
            kind,
        }
    }

    /// Waits until `worker`'s next user is ready: a kept context is cleared before the load
    /// that follows starts its clock.
    pub async fn ready(&self, worker: usize) {
        if let Kind::PerWorker(kept) = &self.kind {
            kept.ready(worker).await;
        }
    }

    /// A user for `worker`'s next load: one made ahead when one is ready, else a new one. A
    /// user made ahead that failed is made again here, so only this load's own attempt can
    /// count against the prober.
    pub async fn take(&self, chromium: &Arc<Chromium>, worker: usize) -> Result<FreshUser, String> {
        let ahead = match &self.kind {
            Kind::PerWorker(kept) => return kept.take(chromium, &self.settings, worker).await,
            Kind::PerLoad(ahead) => ahead,
        };
        // Only a finished one: one still waiting for another load to go quiet would make this
        // load wait for that one.
        let made = {
            let mut waiting = ahead.waiting.lock().expect("users lock");
            let done = waiting.iter().position(|made| made.is_finished());
            done.and_then(|i| waiting.remove(i))
        };
        // One made by a browser that has since been relaunched is gone with it.
        if let Some(made) = made
            && let Ok(Ok(user)) = made.await
            && Arc::ptr_eq(&user.chromium, chromium)
        {
            return Ok(user);
        }
        FreshUser::new(chromium, &self.settings).await
    }

    /// Starts making a user for a later load once `when` fires or is dropped (the current load,
    /// `worker`'s with `user`, went quiet, or ended before it did).
    pub fn make_when(
        &self,
        chromium: &Arc<Chromium>,
        user: &FreshUser,
        worker: usize,
        when: oneshot::Receiver<()>,
    ) {
        let ahead = match &self.kind {
            Kind::PerWorker(kept) => {
                return kept.make_when(chromium, &self.settings, user, worker, when);
            }
            Kind::PerLoad(ahead) => ahead,
        };
        let mut waiting = ahead.waiting.lock().expect("users lock");
        if waiting.len() >= ahead.ahead {
            return;
        }
        let (chromium, settings) = (chromium.clone(), self.settings.clone());
        waiting.push_back(tokio::spawn(async move {
            let _ = when.await;
            FreshUser::new(&chromium, &settings).await
        }));
    }

    /// `worker`'s load with `user` is over: the user goes, or its kept context is cleared for
    /// the worker's next load.
    pub fn release(&self, user: FreshUser, worker: usize, obs: &Observation) {
        match &self.kind {
            Kind::PerWorker(kept) => kept.release(worker, user, obs),
            Kind::PerLoad(_) => user.retire(self.settings.cdp_timeout),
        }
    }
}

impl Drop for Ahead {
    /// Users nobody will take die with the browser, which the run closes next.
    fn drop(&mut self) {
        if let Ok(waiting) = self.waiting.get_mut() {
            for handle in waiting.drain(..) {
                handle.abort();
            }
        }
    }
}
