use super::{
    Headers, MAX_BODY, content_length, head_text, header, invalid, is_hop_by_hop, read_head,
};
use std::io;
use tokio::io::{AsyncBufRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    /// Origin-form target as sent: path plus optional query.
    pub target: String,
    pub http10: bool,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Request {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    pub fn is_head(&self) -> bool {
        self.method.eq_ignore_ascii_case("HEAD")
    }

    /// Whether the comma-separated header `name` lists `token` (case-insensitive).
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|x| x.trim().eq_ignore_ascii_case(token)))
    }

    /// HTTP/1.1 defaults to persistent connections, HTTP/1.0 to closing.
    pub fn keep_alive(&self) -> bool {
        if self.http10 {
            self.has_token("connection", "keep-alive")
        } else {
            !self.has_token("connection", "close")
        }
    }
}

/// `Ok(None)`: the client closed the connection between requests.
pub async fn read_request<R: AsyncBufRead + Unpin>(r: &mut R) -> io::Result<Option<Request>> {
    let Some((start, headers)) = read_head(r).await? else {
        return Ok(None);
    };
    let mut parts = start.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("bad request line {start:?}")));
    };
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(invalid(format!("unsupported version {version:?}"))),
    };
    if header(&headers, "transfer-encoding").is_some() {
        // Browsers never chunk GET/HEAD bodies; refusing keeps framing unambiguous.
        return Err(invalid("chunked request bodies are not supported"));
    }
    let len = content_length(&headers)?.unwrap_or(0);
    if len > MAX_BODY as u64 {
        return Err(invalid("request body too large"));
    }
    let mut body = vec![0; len as usize];
    r.read_exact(&mut body).await?;
    Ok(Some(Request {
        method: method.to_string(),
        target: target.to_string(),
        http10,
        headers,
        body,
    }))
}

/// Writes a request for a one-shot upstream connection (`Connection: close`),
/// dropping the client's hop-by-hop headers.
pub async fn write_request<W: AsyncWrite + Unpin>(w: &mut W, req: &Request) -> io::Result<()> {
    let mut headers: Headers = req
        .headers
        .iter()
        .filter(|(k, _)| !is_hop_by_hop(k))
        .cloned()
        .collect();
    if !req.body.is_empty() {
        headers.push(("Content-Length".into(), req.body.len().to_string()));
    }
    headers.push(("Connection".into(), "close".into()));
    let mut out =
        head_text(&format!("{} {} HTTP/1.1", req.method, req.target), &headers).into_bytes();
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&req.body);
    w.write_all(&out).await?;
    w.flush().await
}
