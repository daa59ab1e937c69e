//! One app replica: a static site serving a bundle, whose serving behaviour
//! (which assets it has, what it answers for the others, how fast it answers)
//! depends on the failure mode.

use super::{
    Mode,
    app::{App, Bundle},
    events::{EventLog, PodEventKind},
    http::Request,
    ingress::FALLBACK_HEADER,
    server::{Bound, Handler, Server, handler},
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
        cdn: bool,
        log: &EventLog,
    ) -> anyhow::Result<Pod> {
        let bound = Bound::loopback(0)?;
        let port = bound.port();
        log.record(name, version, PodEventKind::Started, port);
        Ok(Pod {
            name: name.into(),
            version,
            port,
            state: State::Unready(
                bound,
                cached(routes(name, version, mode, app).handler(), cdn),
            ),
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
            .delay(delay)
            .pause_midway(pause)
    };
    RouteTable::with_not_found(routes.into_iter().map(finish).collect(), finish(unknown))
}

/// The pod's `Cache-Control`, set as a static host's config sets it, by path (nginx's
/// `location`) and on success only (nginx's `expires`). Behind a CDN: content-hashed files are
/// immutable for a year (an SPA fallback's page answered for one of them too, the trap of
/// `try_files $uri /index.html` in such a location) and pages are revalidated; a 404 gets no
/// header, so the CDN's default decides. Without one, nothing is stored anywhere.
fn cached(routes: Handler, cdn: bool) -> Handler {
    handler(move |req: Request| {
        let (routes, immutable) = (routes.clone(), content_hashed(req.path()));
        async move {
            let resp = routes(req).await;
            let control = match (cdn, resp.status) {
                (false, _) => "no-store",
                (true, 200..=299) if immutable => "public, max-age=31536000, immutable",
                (true, 200..=299) => "no-cache",
                (true, _) => return resp,
            };
            resp.with_header("Cache-Control", control)
        }
    })
}

/// A file whose name carries its content's hash, as bundlers write them: `index-3f9a1c7b.js`,
/// `main-XK2A7Q3B.js`, `chunk.5e8d20a1.css`, and whatever sits in the folders they keep for
/// such files (`/assets/`, `/_next/static/`, `/_app/immutable/`).
fn content_hashed(path: &str) -> bool {
    if ["/assets/", "/_next/static/", "/_app/immutable/"]
        .iter()
        .any(|dir| path.starts_with(dir))
    {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if matches!(ext, "html" | "json" | "txt" | "webmanifest" | "xml") {
        return false;
    }
    stem.rsplit(['-', '.']).next().is_some_and(|hash| {
        hash.len() >= 8
            && hash.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && hash.chars().any(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::content_hashed;

    #[test]
    fn content_hashed_files_are_told_by_their_names() {
        for path in [
            "/assets/index-3f9a1c7b.js",
            "/main-XK2A7Q3B.js",
            "/_next/static/chunks/app.js",
            "/workbox-1a2b3c4d.js",
            "/chunk.5e8d20a1.css",
        ] {
            assert!(content_hashed(path), "{path}");
        }
        for path in [
            "/",
            "/index.html",
            "/sw.js",
            "/registerSW.js",
            "/reports",
            "/favicon.ico",
        ] {
            assert!(!content_hashed(path), "{path}");
        }
    }
}
