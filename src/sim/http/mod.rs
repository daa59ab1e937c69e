//! Minimal HTTP/1.1 wire format shared by every server and client in the
//! simulator, so ingress, pods, test sites and the control API parse and
//! frame messages identically.

mod request;
mod response;
mod websocket;

pub use request::{Request, read_request, write_request};
pub use response::{Body, Response, ResponseHead, read_response_head, reason, write_response};
pub use websocket::websocket_accept;

use std::io;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

pub type Headers = Vec<(String, String)>;

/// Generous for browsers, small enough that a broken peer cannot balloon memory.
const MAX_LINE: u64 = 16 * 1024;
const MAX_HEADERS: usize = 128;
pub(crate) const MAX_BODY: usize = 4 * 1024 * 1024;

/// Headers that describe one hop and must not be forwarded by a proxy.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

pub fn is_hop_by_hop(name: &str) -> bool {
    HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name))
}

pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Parses a Content-Length header; absent means `None`.
pub(crate) fn content_length(headers: &Headers) -> io::Result<Option<u64>> {
    header(headers, "content-length")
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| invalid(format!("bad content-length {v:?}")))
        })
        .transpose()
}

/// Reads a start line plus headers. `Ok(None)` means the peer closed cleanly
/// before sending anything, which is how idle keep-alive connections end.
async fn read_head<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Option<(String, Headers)>> {
    let mut start = read_line(r).await?;
    // RFC 9112 allows stray empty lines before a request.
    while start.as_deref() == Some("") {
        start = read_line(r).await?;
    }
    let Some(start) = start else { return Ok(None) };
    let mut headers = Headers::new();
    loop {
        let line = read_line(r)
            .await?
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        if line.is_empty() {
            return Ok(Some((start, headers)));
        }
        if headers.len() == MAX_HEADERS {
            return Err(invalid("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad header line {line:?}")))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
}

async fn read_line<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = (&mut *r).take(MAX_LINE).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() != Some(&b'\n') {
        return Err(if n as u64 == MAX_LINE {
            invalid("line too long")
        } else {
            io::Error::from(io::ErrorKind::UnexpectedEof)
        });
    }
    buf.pop();
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| invalid("non-UTF-8 header line"))
}

fn head_text(start: &str, headers: &Headers) -> String {
    let mut out = format!("{start}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out
}
