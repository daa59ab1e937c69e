//! A tiny static HTTP/1.1 server: a fixed table of routes, each with an
//! optional delay. Pods are sites; tests use it to serve custom pages.

use super::{
    http::{Body, Headers, Request, Response},
    server::{Handler, Server, handler},
};
use std::{collections::HashMap, sync::Arc, time::Duration};

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

    fn respond(&self) -> Response {
        let mut headers = vec![("Content-Type".to_string(), self.content_type.clone())];
        headers.extend(self.headers.iter().cloned());
        Response {
            status: self.status,
            headers,
            body: Body::Full {
                data: self.body.clone(),
                pause_midway: self.pause_midway,
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
                route.respond()
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
