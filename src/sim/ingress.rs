//! L7 load balancer in front of the pods, behaving like nginx-ingress:
//! per-request round robin over the current endpoints, a fresh upstream
//! connection per request, 502 when the upstream fails before answering.

use super::{
    http::{Body, Request, Response, header, read_response_head, write_request},
    server::{Handler, handler},
};
use anyhow::Context;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{io::BufReader, net::TcpStream};

/// Mirrors nginx's proxy_read_timeout order of magnitude; longer than the
/// slow pod's delay so slowness shows up as slowness, not as 504s.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
struct Endpoint {
    pod: String,
    port: u16,
}

#[derive(Default)]
struct Table {
    endpoints: Vec<Endpoint>,
    next: usize,
}

/// A request the ingress saw fail: an error status, or an SPA fallback's page answered for a
/// path the pod does not have. What a probe must report, and what the tests hold it to.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FailedRequest {
    pub at_unix_ms: u64,
    pub path: String,
    pub status: u16,
    /// The pod that answered (or failed to).
    pub pod: String,
    /// The app version that answered, when a pod did.
    pub version: Option<String>,
    /// A pod answered the path with its index.html (the SPA fallback), status 200.
    pub fallback: bool,
}

/// Every failed request the ingress saw.
#[derive(Clone, Default)]
pub struct FailedLog(Arc<Mutex<Vec<FailedRequest>>>);

impl FailedLog {
    pub fn all(&self) -> Vec<FailedRequest> {
        self.0.lock().expect("failed log lock").clone()
    }

    pub fn record(&self, req: &Request, resp: &Response, pod: &str) {
        let fallback = header(&resp.headers, FALLBACK_HEADER).is_some();
        if resp.status < 400 && !fallback {
            return;
        }
        self.0.lock().expect("failed log lock").push(FailedRequest {
            at_unix_ms: crate::clock::unix_ms(std::time::SystemTime::now()),
            path: req.path().to_string(),
            status: resp.status,
            pod: pod.to_string(),
            version: header(&resp.headers, "X-App-Version").map(str::to_string),
            fallback,
        });
    }
}

/// The header a pod marks its SPA fallback answers with, for the ingress's log.
pub const FALLBACK_HEADER: &str = "X-Sim-Fallback";

/// The ingress's view of which pods receive traffic; shared with the rollout.
#[derive(Clone, Default)]
pub struct Endpoints(Arc<Mutex<Table>>);

impl Endpoints {
    pub fn join(&self, pod: &str, port: u16) {
        self.lock().endpoints.push(Endpoint {
            pod: pod.into(),
            port,
        });
    }

    pub fn leave(&self, pod: &str) {
        self.lock().endpoints.retain(|e| e.pod != pod);
    }

    fn pick(&self) -> Option<Endpoint> {
        let mut table = self.lock();
        if table.endpoints.is_empty() {
            return None;
        }
        let chosen = table.endpoints[table.next % table.endpoints.len()].clone();
        table.next = table.next.wrapping_add(1);
        Some(chosen)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.0.lock().expect("endpoint table lock poisoned")
    }
}

/// What the ingress answers itself, before any pod: `(answer, who answered)`, or None.
pub type OwnAnswer = Arc<dyn Fn(&Request) -> Option<(Response, String)> + Send + Sync>;

pub fn ingress_handler(endpoints: Endpoints, failed: FailedLog, own: Option<OwnAnswer>) -> Handler {
    handler(move |req: Request| {
        let (endpoints, failed, own) = (endpoints.clone(), failed.clone(), own.clone());
        async move {
            let (resp, pod) = match own.and_then(|answer| answer(&req)) {
                Some(answered) => answered,
                None => proxy(&endpoints, &req).await,
            };
            failed.record(&req, &resp, &pod);
            resp
        }
    })
}

/// The answer, and the pod that gave it or failed to.
async fn proxy(endpoints: &Endpoints, req: &Request) -> (Response, String) {
    let Some(endpoint) = endpoints.pick() else {
        return (gateway_error(503, "-", "no ready endpoints"), "-".into());
    };
    let resp = match tokio::time::timeout(UPSTREAM_TIMEOUT, forward(&endpoint, req)).await {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => gateway_error(502, &endpoint.pod, &format!("{e:#}")),
        Err(_) => gateway_error(504, &endpoint.pod, "upstream timed out"),
    };
    (resp, endpoint.pod)
}

/// Returns once the upstream status line and headers arrived; the body is
/// streamed afterwards, so an upstream dying mid-body breaks the client
/// connection instead of turning into an error page.
async fn forward(endpoint: &Endpoint, req: &Request) -> anyhow::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", endpoint.port))
        .await
        .context("connecting to upstream")?;
    write_request(&mut stream, req)
        .await
        .context("sending request upstream")?;
    let mut reader = BufReader::new(stream);
    let head = read_response_head(&mut reader, req.is_head())
        .await
        .context("reading upstream response head")?;
    let len = if req.is_head() {
        head.content_length.unwrap_or(0)
    } else {
        head.body_len
    };
    Ok(Response {
        status: head.status,
        headers: head.headers,
        body: Body::Upstream { reader, len },
    })
}

fn gateway_error(status: u16, pod: &str, why: &str) -> Response {
    let title = format!("{status} {}", super::http::reason(status));
    let html = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>rollprobe-sim</center>\r\n</body>\r\n</html>\r\n"
    );
    Response::new(status, "text/html", html)
        // As `add_header X-Upstream $upstream_addr always` makes nginx say which upstream failed.
        .with_header("X-Upstream", pod)
        .with_header("X-Sim-Error", why.replace(['\r', '\n'], " "))
}
