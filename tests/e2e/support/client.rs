//! Plain HTTP/1.1 test client over tokio TCP, parsing with the simulator's
//! own wire code.

use rollprobe::sim::http::{Headers, header, read_response_head};
use std::{io, time::Duration};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
};

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Headers,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// A keep-alive connection, like a browser's.
pub struct Client {
    conn: BufReader<TcpStream>,
}

impl Client {
    pub async fn connect(port: u16) -> io::Result<Client> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        Ok(Client {
            conn: BufReader::new(stream),
        })
    }

    pub async fn request(&mut self, method: &str, path: &str) -> io::Result<Reply> {
        let req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.conn.get_mut().write_all(req.as_bytes()).await?;
        let head = read_response_head(&mut self.conn, method == "HEAD").await?;
        let mut body = vec![0; head.body_len as usize];
        self.conn.read_exact(&mut body).await?;
        Ok(Reply {
            status: head.status,
            headers: head.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    pub async fn get(&mut self, path: &str) -> io::Result<Reply> {
        self.request("GET", path).await
    }
}

/// One request on a fresh connection.
pub async fn get(port: u16, path: &str) -> io::Result<Reply> {
    Client::connect(port).await?.get(path).await
}

pub async fn post(port: u16, path: &str) -> io::Result<Reply> {
    Client::connect(port).await?.request("POST", path).await
}

/// A GET with extra headers whose answer has no end (an event stream, a WebSocket),
/// which `Client` cannot frame: the head as a reply without body, and the connection
/// to go on reading.
pub async fn open(
    port: u16,
    path: &str,
    headers: &[(&str, &str)],
) -> io::Result<(Reply, BufReader<TcpStream>)> {
    let mut conn = BufReader::new(TcpStream::connect(("127.0.0.1", port)).await?);
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    conn.get_mut()
        .write_all(format!("{req}\r\n").as_bytes())
        .await?;
    let status_line = read_line(&mut conn).await?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, status_line.clone()))?;
    let mut reply = Reply {
        status,
        headers: Headers::new(),
        body: String::new(),
    };
    loop {
        let line = read_line(&mut conn).await?;
        let Some((name, value)) = line.split_once(':') else {
            return Ok((reply, conn));
        };
        reply.headers.push((name.into(), value.trim().into()));
    }
}

/// One line without its CRLF; the end of the stream is an error.
pub async fn read_line(conn: &mut BufReader<TcpStream>) -> io::Result<String> {
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

pub fn port_of(url: &str) -> u16 {
    url.trim_end_matches('/')
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

/// Hashed asset paths referenced by an HTML page or a script.
pub fn asset_paths(text: &str) -> Vec<String> {
    text.match_indices("/assets/")
        .map(|(at, _)| {
            let rest = &text[at..];
            let end = rest.find(['"', '\'']).unwrap_or(rest.len());
            rest[..end].to_string()
        })
        .collect()
}

pub async fn is_closed(port: u16) -> bool {
    matches!(
        TcpStream::connect(("127.0.0.1", port)).await,
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
    )
}

/// Requests `path` on fresh connections from `workers` loops until `until`
/// completes; returns every outcome.
pub async fn hammer(
    port: u16,
    path: &str,
    workers: usize,
    until: impl std::future::Future<Output = ()>,
) -> Vec<io::Result<Reply>> {
    let stop = tokio::sync::watch::Sender::new(false);
    let loops: Vec<_> = (0..workers)
        .map(|_| {
            let mut stop = stop.subscribe();
            let path = path.to_string();
            tokio::spawn(async move {
                let mut out = Vec::new();
                while !*stop.borrow() {
                    out.push(get(port, &path).await);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(15)) => {}
                        _ = stop.changed() => {}
                    }
                }
                out
            })
        })
        .collect();
    until.await;
    stop.send_replace(true);
    let mut all = Vec::new();
    for l in loops {
        all.extend(l.await.expect("hammer loop panicked"));
    }
    all
}
