//! The one check of a start URL, for the command line and scenario files alike.

/// Ports Chromium will not connect to (its "restricted ports" list): probing one would report
/// the browser's refusal as the site's downtime.
const UNSAFE_PORTS: [u16; 79] = [
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
    103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
    512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
    995, 1719, 1720, 1723, 2049, 3659, 4045, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669,
    10080,
];

/// Why `text` cannot be probed, if it cannot.
pub enum BadUrl {
    /// Not a full http(s) URL: why.
    Malformed(String),
    /// A port Chromium refuses whatever the site does.
    UnsafePort(u16),
}

impl BadUrl {
    /// The message for a URL given as `what` ("URL", "target url", ...).
    pub fn explain(&self, what: &str, text: &str) -> String {
        match self {
            BadUrl::Malformed(why) => format!(
                "bad {what} {text:?}: {why}. Give a full http(s) URL, like https://staging.example.com/"
            ),
            BadUrl::UnsafePort(port) => format!(
                "{text}: Chromium refuses port {port} (net::ERR_UNSAFE_PORT) whatever the site does; serve the site on another port"
            ),
        }
    }
}

pub fn check(text: &str) -> Result<(), BadUrl> {
    let url = url::Url::parse(text).map_err(|e| BadUrl::Malformed(e.to_string()))?;
    match url.scheme() {
        "http" | "https" if url.host().is_none() => Err(BadUrl::Malformed("no host".into())),
        "http" | "https" => match url.port().filter(|p| UNSAFE_PORTS.contains(p)) {
            Some(port) => Err(BadUrl::UnsafePort(port)),
            None => Ok(()),
        },
        other => Err(BadUrl::Malformed(format!(
            "scheme {other:?} is not http or https"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_http_urls_on_ports_chromium_allows() {
        assert!(check("https://staging.example.com/").is_ok());
        assert!(check("http://127.0.0.1:8080/shop").is_ok());
        assert!(matches!(
            check("http://127.0.0.1:6667/"),
            Err(BadUrl::UnsafePort(6667))
        ));
        assert!(matches!(
            check("staging.example.com"),
            Err(BadUrl::Malformed(_))
        ));
        assert!(matches!(check("ftp://a/"), Err(BadUrl::Malformed(_))));
        let e = check("http://127.0.0.1:9/").err().unwrap();
        assert!(
            e.explain("URL", "http://127.0.0.1:9/")
                .contains("ERR_UNSAFE_PORT")
        );
    }
}
