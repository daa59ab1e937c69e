//! The users a run's workers load with. Making a fresh one costs a few CDP round trips and a
//! renderer, so [`Users`] makes the next one while the current load waits out its idle window,
//! and a load costs navigate + idle. A prepared user has never navigated and nobody listens to
//! its events until its load starts: nothing of another load reaches it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::LoadSettings;
use super::kept::{ContextLife, Kept};
use super::user::FreshUser;
use crate::browser::Chromium;
use crate::model::Observation;

/// Users made ahead of their loads: at most `ahead` wait at once (one per load that can run at
/// the same time), so the prober never holds more contexts than it has users. With contexts
/// kept per worker ([`ContextLife::PerWorker`]), each of the `ahead` workers has its own.
pub struct Users {
    settings: Arc<LoadSettings>,
    ahead: usize,
    waiting: Mutex<VecDeque<JoinHandle<Result<FreshUser, String>>>>,
    kept: Option<Kept>,
}

impl Users {
    pub fn new(settings: &LoadSettings, ahead: usize) -> Users {
        Users {
            settings: Arc::new(settings.clone()),
            ahead,
            waiting: Mutex::new(VecDeque::new()),
            kept: (settings.context == ContextLife::PerWorker).then(|| Kept::new(ahead)),
        }
    }

    /// A user for `worker`'s next load: one made ahead when one is ready, else a new one. A
    /// user made ahead that failed is made again here, so only this load's own attempt can
    /// count against the prober.
    pub async fn take(&self, chromium: &Arc<Chromium>, worker: usize) -> Result<FreshUser, String> {
        if let Some(kept) = &self.kept {
            return kept.take(chromium, &self.settings, worker).await;
        }
        // Only a finished one: one still waiting for another load to go quiet would make this
        // load wait for that one.
        let made = {
            let mut waiting = self.waiting.lock().expect("users lock");
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
        if let Some(kept) = &self.kept {
            return kept.make_when(chromium, &self.settings, user, worker, when);
        }
        let mut waiting = self.waiting.lock().expect("users lock");
        if waiting.len() >= self.ahead {
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
        let limit = self.settings.cdp_timeout;
        match &self.kept {
            Some(kept) => kept.release(worker, user, obs, limit),
            None => user.retire(limit),
        }
    }
}

impl Drop for Users {
    /// Users nobody will take die with the browser, which the run closes next.
    fn drop(&mut self) {
        if let Ok(waiting) = self.waiting.get_mut() {
            for handle in waiting.drain(..) {
                handle.abort();
            }
        }
    }
}
