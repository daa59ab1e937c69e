//! A tiny static HTTP/1.1 server: a fixed table of routes, each with an
//! optional delay. Pods are sites; tests use it to serve custom pages, and the
//! requests that stay open while the page is up (an event stream, a WebSocket).

use super::{
    http::{Body, Headers, Request, Response, websocket_accept},
    server::{Handler, Server, handler},
};
use std::{collections::HashMap, sync::Arc, time::Duration};

/// How often an event stream sends: often enough that a test sees ticks quickly.
const TICK_EVERY: Duration = Duration::from_secs(1);

/// How a route answers, beyond its status, type and body.
#[derive(Clone, Debug)]
enum Answer {
    /// The body, once.
    Once,
    /// The body again and again, this far apart, without end.
    Repeat(Duration),
    /// A WebSocket handshake; 400 for a request that is not one.
    WebSocket,
}

#[derive(Clone, Debug)]
pub struct Route {
    /// Matched exactly against the request path (query string ignored).
    pub path: String,
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub headers: Headers,
    /// Wait before the response head is sent.
    pub delay: Duration,
    /// Pause between the two halves of the body (zero: send in one go).
    pub pause_midway: Duration,
    answer: Answer,
}

impl Route {
    pub fn new(path: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Route {
        Route {
            path: path.into(),
            status: 200,
            content_type: content_type.into(),
            body: body.into(),
            headers: Headers::new(),
            delay: Duration::ZERO,
            pause_midway: Duration::ZERO,
            answer: Answer::Once,
        }
    }

    /// Server-sent events without end, like a page's live feed: `data: tick` at
    /// once and every second after, until the client goes away or the server stops.
    pub fn event_stream(path: &str) -> Route {
        Route {
            answer: Answer::Repeat(TICK_EVERY),
            ..Route::new(path, "text/event-stream", "data: tick\n\n")
        }
    }

    /// Accepts a WebSocket (101 with its `Sec-WebSocket-Accept`) and holds it
    /// open, discarding what the client sends, until the client closes or the
    /// server stops. A request without the upgrade headers gets 400.
    pub fn websocket(path: &str) -> Route {
        Route {
            answer: Answer::WebSocket,
            ..Route::new(path, "", "").status(101)
        }
    }

    pub fn html(path: &str, body: impl Into<Vec<u8>>) -> Route {
        Route::new(path, "text/html; charset=utf-8", body)
    }

    /// The default answer for unknown paths.
    pub fn not_found() -> Route {
        Route::new("", "text/plain; charset=utf-8", "not found\n").status(404)
    }

    pub fn status(mut self, status: u16) -> Route {
        self.status = status;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Route {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Route {
        self.delay = delay;
        self
    }

    pub fn pause_midway(mut self, pause: Duration) -> Route {
        self.pause_midway = pause;
        self
    }

    fn respond(&self, req: &Request) -> Response {
        let body = match self.answer {
            Answer::Once => Body::Full {
                data: self.body.clone(),
                pause_midway: self.pause_midway,
            },
            Answer::Repeat(every) => Body::Repeat {
                chunk: self.body.clone(),
                every,
            },
            Answer::WebSocket => return self.handshake(req),
        };
        let mut headers = vec![("Content-Type".to_string(), self.content_type.clone())];
        headers.extend(self.headers.iter().cloned());
        Response {
            status: self.status,
            headers,
            body,
        }
    }

    fn handshake(&self, req: &Request) -> Response {
        let Some(accept) = websocket_accept(req) else {
            return Response::text(400, "expected a WebSocket upgrade\n");
        };
        let mut headers = self.headers.clone();
        headers.push(("Sec-WebSocket-Accept".into(), accept));
        Response {
            status: self.status,
            headers,
            body: Body::Upgrade {
                protocol: "websocket".into(),
            },
        }
    }
}

/// Route lookup with a fallback for unknown paths.
pub struct RouteTable {
    routes: HashMap<String, Route>,
    not_found: Route,
}

impl RouteTable {
    pub fn new(routes: Vec<Route>) -> RouteTable {
        RouteTable::with_not_found(routes, Route::not_found())
    }

    pub fn with_not_found(routes: Vec<Route>, not_found: Route) -> RouteTable {
        let routes = routes.into_iter().map(|r| (r.path.clone(), r)).collect();
        RouteTable { routes, not_found }
    }

    pub fn handler(self) -> Handler {
        let table = Arc::new(self);
        handler(move |req: Request| {
            let table = table.clone();
            async move {
                let route = table.routes.get(req.path()).unwrap_or(&table.not_found);
                tokio::time::sleep(route.delay).await;
                route.respond(&req)
            }
        })
    }
}

pub struct Site {
    server: Server,
}

impl Site {
    /// Serves `routes` on a free loopback port.
    pub async fn start(routes: Vec<Route>) -> anyhow::Result<Site> {
        let server = Server::start(0, RouteTable::new(routes).handler())?;
        Ok(Site { server })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// `path` should start with `/`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port(), path)
    }

    /// Closes the port; in-flight responses get a moment to finish.
    pub async fn shutdown(self) {
        self.server
            .drain(tokio::time::sleep(Duration::from_millis(500)))
            .await;
    }
}
