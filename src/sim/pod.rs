//! One app replica: a static site serving a bundle, whose serving behaviour
//! (which assets it has, what it answers for the others, how fast it answers)
//! depends on the failure mode.

use super::{
    Mode,
    app::{App, Bundle},
    events::{EventLog, PodEventKind},
    ingress::FALLBACK_HEADER,
    server::{Bound, Handler, Server},
    site::{Route, RouteTable},
};
use std::{future::Future, time::Duration};

/// In `slow` mode this pod is degraded from the start, so probes see slow
/// loads immediately, until the rollout replaces it in its second step.
const SLOW_POD: &str = "v1-b";
const SLOW_DELAY: Duration = Duration::from_secs(8);
/// In `no-drain` mode responses take long enough to be caught in flight.
const NO_DRAIN_DELAY: Duration = Duration::from_millis(200);
const NO_DRAIN_PAUSE: Duration = Duration::from_millis(200);

enum State {
    /// Port reserved, not accepting: connections are refused.
    Unready(Bound, Handler),
    Serving(Server),
}

pub struct Pod {
    pub name: String,
    pub version: &'static str,
    pub port: u16,
    state: State,
}

impl Pod {
    pub fn create(
        name: &str,
        version: &'static str,
        mode: Mode,
        app: &App,
        log: &EventLog,
    ) -> anyhow::Result<Pod> {
        let bound = Bound::loopback(0)?;
        let port = bound.port();
        log.record(name, version, PodEventKind::Started, port);
        Ok(Pod {
            name: name.into(),
            version,
            port,
            state: State::Unready(bound, routes(name, version, mode, app).handler()),
        })
    }

    pub fn listen(self, log: &EventLog) -> anyhow::Result<Pod> {
        let State::Unready(bound, handler) = self.state else {
            return Ok(self);
        };
        let server = bound.listen(handler)?;
        log.record(&self.name, self.version, PodEventKind::Ready, self.port);
        Ok(Pod {
            state: State::Serving(server),
            ..self
        })
    }

    /// SIGKILL: in-flight requests are reset.
    pub async fn kill(self, log: &EventLog) {
        if let State::Serving(server) = self.state {
            server.kill().await;
        }
        log.record(&self.name, self.version, PodEventKind::Killed, self.port);
    }

    /// SIGTERM with a grace period that ends when `give_up` completes.
    pub async fn drain(self, give_up: impl Future<Output = ()>, log: &EventLog) {
        if let State::Serving(server) = self.state {
            server.drain(give_up).await;
        }
        log.record(&self.name, self.version, PodEventKind::Stopped, self.port);
    }
}

fn routes(name: &str, version: &'static str, mode: Mode, app: &App) -> RouteTable {
    let (delay, pause) = match mode {
        Mode::Slow if name == SLOW_POD => (SLOW_DELAY, Duration::ZERO),
        Mode::NoDrain => (NO_DRAIN_DELAY, NO_DRAIN_PAUSE),
        _ => (Duration::ZERO, Duration::ZERO),
    };
    let own = app.build(version);
    // Each image ships only its own build: the classic cross-version miss. Every other mode
    // uses the shared-assets fix, isolating its own failure; a file both builds have (an
    // unhashed one: a page, a service worker) is the pod's own version's.
    let served: Vec<&Bundle> = match mode {
        Mode::Naive | Mode::Steady | Mode::SpaFallback => vec![own],
        _ => {
            let other = app.all().iter().find(|b| !std::ptr::eq(*b, own));
            other.into_iter().chain([own]).collect()
        }
    };
    let unknown = match mode {
        // What makes deep links to client-side routes work also answers a missing
        // asset: the page, with 200, where the browser expected a script or stylesheet.
        Mode::SpaFallback => {
            Route::html("", own.index_html.clone()).header(FALLBACK_HEADER, "index.html")
        }
        _ => Route::not_found(),
    };
    // Later routes win a path: the page's own files last.
    let mut routes = vec![Route::new("/favicon.ico", "image/x-icon", "").status(204)];
    for asset in served.into_iter().flat_map(|b| &b.assets) {
        routes.push(Route::new(
            &asset.path,
            asset.content_type,
            asset.body.clone(),
        ));
    }
    routes.push(Route::html("/", own.index_html.clone()));
    routes.push(Route::html("/index.html", own.index_html.clone()));
    let finish = |r: Route| {
        r.header("X-App-Version", version)
            .header("X-Pod", name)
            .header("Cache-Control", "no-store")
            .delay(delay)
            .pause_midway(pause)
    };
    RouteTable::with_not_found(routes.into_iter().map(finish).collect(), finish(unknown))
}
