//! The server's half of the WebSocket opening handshake (RFC 6455 §4.2.2), enough
//! for a test site to accept a browser's connection; frames are never parsed.

use super::Request;
use base64::Engine;
use sha1::{Digest, Sha1};

/// Fixed by RFC 6455 §1.3: proves the server read the key, not that it is secret.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` answering an upgrade request, or `None` when `req`
/// is not one (no `Upgrade: websocket`, `Connection: upgrade` or key).
pub fn websocket_accept(req: &Request) -> Option<String> {
    let upgrade = req.method.eq_ignore_ascii_case("GET")
        && req.has_token("upgrade", "websocket")
        && req.has_token("connection", "upgrade");
    let key = req.header("sec-websocket-key").filter(|_| upgrade)?;
    let digest = Sha1::digest(format!("{}{GUID}", key.trim()));
    Some(base64::engine::general_purpose::STANDARD.encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> Request {
        Request {
            method: "GET".into(),
            target: "/ws".into(),
            http10: false,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn answers_the_rfc_example_key_and_only_upgrades() {
        let key = ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        let upgrade = request(&[
            ("Upgrade", "websocket"),
            ("Connection", "keep-alive, Upgrade"),
            key,
        ]);
        assert_eq!(
            websocket_accept(&upgrade).as_deref(),
            Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        );
        assert_eq!(websocket_accept(&request(&[key])), None);
        assert_eq!(
            websocket_accept(&request(&[
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade")
            ])),
            None
        );
    }
}
