use super::{Headers, content_length, head_text, invalid, is_hop_by_hop, read_head};
use std::{io, time::Duration};
use tokio::{
    io::{AsyncBufRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader},
    net::TcpStream,
};

pub enum Body {
    /// `pause_midway` sends the body in two halves with a pause in between, so
    /// a client has a request in flight long enough for a kill to land mid-body.
    Full {
        data: Vec<u8>,
        pause_midway: Duration,
    },
    /// Streamed from an upstream connection; fewer than `len` bytes is an error
    /// the caller must surface to the client as a broken connection. For HEAD
    /// `len` is the declared length and nothing is read.
    Upstream {
        reader: BufReader<TcpStream>,
        len: u64,
    },
    /// `chunk` right away and again every `every`, without end (an event stream):
    /// close-delimited, it ends when the client goes away or the server stops.
    Repeat { chunk: Vec<u8>, every: Duration },
    /// Nothing: after a 101 the connection speaks `protocol`, and stays open
    /// until the client goes away or the server stops.
    Upgrade { protocol: String },
}

impl Body {
    /// `None`: the body ends only with the connection.
    fn len(&self) -> Option<u64> {
        match self {
            Body::Full { data, .. } => Some(data.len() as u64),
            Body::Upstream { len, .. } => Some(*len),
            Body::Repeat { .. } | Body::Upgrade { .. } => None,
        }
    }

    /// Such a response keeps its connection to itself: no keep-alive, no next request.
    pub fn ends_with_connection(&self) -> bool {
        self.len().is_none()
    }
}

pub struct Response {
    pub status: u16,
    /// End-to-end headers only; framing headers are added by `write_response`.
    pub headers: Headers,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: Body::Full {
                data: body.into(),
                pause_midway: Duration::ZERO,
            },
        }
    }

    pub fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.into())
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

/// Frames every body that has an end with Content-Length so clients can detect
/// truncation. A [`Body::Repeat`] is written until writing fails; a
/// [`Body::Upgrade`] returns after the head.
pub async fn write_response<W: AsyncWrite + Unpin>(
    w: &mut W,
    resp: Response,
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut out = head_bytes(&resp, keep_alive);
    if head_only {
        w.write_all(&out).await?;
        return w.flush().await;
    }
    match resp.body {
        Body::Full { data, pause_midway } if !pause_midway.is_zero() => {
            let (first, second) = data.split_at(data.len() / 2);
            out.extend_from_slice(first);
            w.write_all(&out).await?;
            w.flush().await?;
            tokio::time::sleep(pause_midway).await;
            w.write_all(second).await?;
        }
        Body::Full { data, .. } => {
            out.extend_from_slice(&data);
            w.write_all(&out).await?;
        }
        Body::Upstream { mut reader, len } => {
            w.write_all(&out).await?;
            let copied = tokio::io::copy(&mut (&mut reader).take(len), w).await?;
            if copied < len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("upstream body ended after {copied} of {len} bytes"),
                ));
            }
        }
        Body::Repeat { chunk, every } => loop {
            out.extend_from_slice(&chunk);
            w.write_all(&out).await?;
            w.flush().await?;
            out.clear();
            tokio::time::sleep(every).await;
        },
        Body::Upgrade { .. } => w.write_all(&out).await?,
    }
    w.flush().await
}

/// Status line, end-to-end headers and the framing headers, up to the blank line.
fn head_bytes(resp: &Response, keep_alive: bool) -> Vec<u8> {
    let mut headers: Headers = resp
        .headers
        .iter()
        .filter(|(k, _)| !is_hop_by_hop(k))
        .cloned()
        .collect();
    if let (false, Some(len)) = (is_bodyless(resp.status), resp.body.len()) {
        headers.push(("Content-Length".into(), len.to_string()));
    }
    let connection = match &resp.body {
        Body::Upgrade { protocol } => {
            headers.push(("Upgrade".into(), protocol.clone()));
            "Upgrade"
        }
        _ if keep_alive => "keep-alive",
        _ => "close",
    };
    headers.push(("Connection".into(), connection.into()));
    let status_line = format!("HTTP/1.1 {} {}", resp.status, reason(resp.status));
    let mut out = head_text(&status_line, &headers).into_bytes();
    out.extend_from_slice(b"\r\n");
    out
}

/// Statuses that never carry a body (RFC 9110 §6.4.1).
fn is_bodyless(status: u16) -> bool {
    status < 200 || status == 204 || status == 304
}

pub struct ResponseHead {
    pub status: u16,
    pub headers: Headers,
    /// As declared; for HEAD, the length a GET would have returned.
    pub content_length: Option<u64>,
    /// Bytes of body that follow; 0 for HEAD, 204 and 304.
    pub body_len: u64,
}

/// Parses a status line and headers. Pods frame every body with Content-Length
/// (only test sites stream, and never behind the ingress), so a body without
/// one is treated as a protocol error.
pub async fn read_response_head<R: AsyncBufRead + Unpin>(
    r: &mut R,
    request_was_head: bool,
) -> io::Result<ResponseHead> {
    let (start, headers) = read_head(r)
        .await?
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "empty response"))?;
    let status = start
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| invalid(format!("bad status line {start:?}")))?;
    let declared = content_length(&headers)?;
    let body_len = match declared {
        _ if request_was_head || is_bodyless(status) => 0,
        Some(len) => len,
        None => return Err(invalid("response without Content-Length")),
    };
    Ok(ResponseHead {
        status,
        headers,
        content_length: declared,
        body_len,
    })
}
