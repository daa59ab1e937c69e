//! Accept loop and connection lifecycle shared by ingress, pods, test sites
//! and the control API: keep-alive, graceful drain, and abrupt kill (RST).

use super::http::{Body, Request, Response, read_request, write_response};
use anyhow::Context;
use futures::future::BoxFuture;
use std::{future::Future, net::SocketAddr, sync::Arc};
use tokio::{
    io::{AsyncRead, AsyncWrite, BufReader},
    net::{TcpListener, TcpSocket, TcpStream},
    sync::watch,
    task::{JoinHandle, JoinSet},
};

pub type Handler = Arc<dyn Fn(Request) -> BoxFuture<'static, Response> + Send + Sync>;

/// Wraps an async closure as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    Arc::new(move |req| Box::pin(f(req)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    Running,
    /// Stop accepting, finish in-flight requests, close idle connections.
    Drain,
    /// Reset every connection now, like a process killed with SIGKILL.
    Kill,
}

/// A loopback port that is reserved but not listening yet: connections to it
/// are refused, which is exactly what an unready container looks like.
pub struct Bound {
    socket: TcpSocket,
    port: u16,
}

impl Bound {
    pub fn loopback(port: u16) -> anyhow::Result<Bound> {
        let socket = TcpSocket::new_v4().context("creating socket")?;
        socket.set_reuseaddr(true).context("setting SO_REUSEADDR")?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        socket
            .bind(addr)
            .with_context(|| format!("binding {addr}"))?;
        let port = socket.local_addr().context("reading bound port")?.port();
        Ok(Bound { socket, port })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn listen(self, handler: Handler) -> anyhow::Result<Server> {
        let listener = self
            .socket
            .listen(1024)
            .with_context(|| format!("listening on port {}", self.port))?;
        let (stop, stop_rx) = watch::channel(Stop::Running);
        let task = tokio::spawn(accept_loop(listener, handler, stop_rx));
        Ok(Server {
            port: self.port,
            stop,
            task: Some(task),
        })
    }
}

pub struct Server {
    port: u16,
    stop: watch::Sender<Stop>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub fn start(port: u16, handler: Handler) -> anyhow::Result<Server> {
        Bound::loopback(port)?.listen(handler)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every open connection is reset (SO_LINGER 0) and the port closes.
    pub async fn kill(mut self) {
        self.stop.send_replace(Stop::Kill);
        self.join().await;
    }

    /// Closes the port and lets in-flight requests finish; whatever is still
    /// running when `give_up` completes is killed.
    pub async fn drain(mut self, give_up: impl Future<Output = ()>) {
        self.stop.send_replace(Stop::Drain);
        let finished = match self.task.as_mut() {
            Some(task) => tokio::select! {
                _ = task => true,
                _ = give_up => false,
            },
            None => true,
        };
        if finished {
            self.task = None;
        } else {
            self.kill().await;
        }
    }

    async fn join(&mut self) {
        if let Some(task) = self.task.take() {
            // The task never panics by design; a JoinError would mean it was
            // aborted, and either way it is gone.
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    /// Safety net for early-return paths: never leave a listener behind.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, handler: Handler, mut stop: watch::Receiver<Stop>) {
    let mut conns = JoinSet::new();
    let conn_stop = stop.clone();
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s != Stop::Running) => break,
            accepted = listener.accept() => {
                // Accept errors (e.g. EMFILE) are transient; keep serving.
                if let Ok((stream, _)) = accepted {
                    conns.spawn(connection(stream, handler.clone(), conn_stop.clone()));
                }
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    while conns.join_next().await.is_some() {}
}

enum Outcome {
    Close,
    Reset,
}

async fn connection(mut stream: TcpStream, handler: Handler, mut stop: watch::Receiver<Stop>) {
    let outcome = tokio::select! {
        outcome = session(&mut stream, &handler, stop.clone()) => outcome,
        _ = stop.wait_for(|s| *s == Stop::Kill) => Outcome::Reset,
    };
    if let Outcome::Reset = outcome {
        // Failing to set linger only downgrades the RST to a FIN.
        let _ = stream.set_zero_linger();
    }
}

async fn session(
    stream: &mut TcpStream,
    handler: &Handler,
    mut stop: watch::Receiver<Stop>,
) -> Outcome {
    let (read, mut write) = stream.split();
    let mut read = BufReader::new(read);
    loop {
        let request = tokio::select! {
            r = read_request(&mut read) => r,
            _ = stop.wait_for(|s| *s != Stop::Running) => return Outcome::Close,
        };
        let request = match request {
            Ok(Some(request)) => request,
            Ok(None) => return Outcome::Close,
            Err(e) => {
                let resp = Response::text(400, format!("bad request: {e}\n"));
                let _ = write_response(&mut write, resp, false, false).await;
                return Outcome::Close;
            }
        };
        let head_only = request.is_head();
        let keep_alive = request.keep_alive();
        let response = handler(request).await;
        if response.body.ends_with_connection() {
            return open_ended(&mut read, &mut write, response, head_only, &mut stop).await;
        }
        let keep_alive = keep_alive && *stop.borrow() == Stop::Running;
        if write_response(&mut write, response, head_only, keep_alive)
            .await
            .is_err()
        {
            // Includes a truncated upstream body: the client must see a broken
            // connection rather than a silently short response.
            return Outcome::Reset;
        }
        if !keep_alive {
            return Outcome::Close;
        }
    }
}

/// Serves a response that ends only with its connection (an event stream, an
/// upgraded protocol) until the client hangs up or the server stops. Either way
/// the connection closes cleanly: a drain must not wait for a body without end.
async fn open_ended<R, W>(
    read: &mut R,
    write: &mut W,
    response: Response,
    head_only: bool,
    stop: &mut watch::Receiver<Stop>,
) -> Outcome
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let upgraded = matches!(response.body, Body::Upgrade { .. });
    let serve = async {
        let written = write_response(write, response, head_only, false).await;
        if upgraded && written.is_ok() {
            // The head was all: the other protocol is the client's to speak.
            std::future::pending::<()>().await;
        }
    };
    // Reading also notices a client that hung up between two writes; what it sent
    // after the request (WebSocket frames) has no one to answer it.
    let mut discard = tokio::io::sink();
    tokio::select! {
        _ = serve => {}
        _ = tokio::io::copy(read, &mut discard) => {}
        // A kill is `connection`'s to answer, with a reset.
        _ = stop.wait_for(|s| *s == Stop::Drain) => {}
    }
    Outcome::Close
}
