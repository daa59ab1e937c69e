//! `--resolve HOST:PORT:ADDRESS` (curl's syntax): the browser's requests for HOST on PORT go to
//! ADDRESS, while URLs, cookies, `Host` headers, SNI and certificate names keep HOST — probing an
//! environment before its DNS points at it. The browser turns them into Chromium's
//! `host-resolver-rules`, which match on host and port as curl's entries do; the retention check
//! hands them to reqwest, which maps a name on every port, so one host may not be sent to two
//! addresses.

use std::net::{IpAddr, SocketAddr};

use crate::config::Config;
use crate::error::UsageError;

/// One `--resolve` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Pin {
    host: String,
    port: u16,
    address: IpAddr,
}

/// What the browser, the retention client and the report get from the `--resolve` entries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Pins(Vec<Pin>);

impl Pins {
    /// Parses and checks every entry; a mistake is a usage error that names the entry.
    pub(super) fn parse(entries: &[String]) -> Result<Pins, UsageError> {
        let mut pins: Vec<Pin> = Vec::new();
        for entry in entries {
            let pin = parse(entry).map_err(|why| {
                UsageError(format!(
                    "{} {entry}: {why}; give HOST:PORT:ADDRESS, e.g. staging.example.com:443:10.0.0.5",
                    Config::name("resolve")
                ))
            })?;
            if let Some(other) = pins.iter().find(|p| p.host == pin.host) {
                if other.port == pin.port {
                    return Err(UsageError(format!(
                        "{} {entry}: {}:{} is already resolved to {}",
                        Config::name("resolve"),
                        pin.host,
                        pin.port,
                        other.address
                    )));
                }
                if other.address != pin.address {
                    return Err(UsageError(format!(
                        "{} {entry}: {} is already resolved to {} (on port {}); the retention check maps a host name on every port, so give one address per host",
                        Config::name("resolve"),
                        pin.host,
                        other.address,
                        other.port
                    )));
                }
            }
            pins.push(pin);
        }
        Ok(Pins(pins))
    }

    /// An entry for a start URL's host on a port no start URL of that host uses would leave the
    /// browser to DNS for the page itself: the site would be blamed for the prober's typo. (An
    /// entry for another host may be for the page's API or assets.)
    pub(super) fn check_ports(&self, start_urls: &[String]) -> Result<(), UsageError> {
        let starts: Vec<(String, u16)> = start_urls
            .iter()
            .filter_map(|u| {
                let url = url::Url::parse(u).ok()?;
                Some((
                    url.host_str()?.to_ascii_lowercase(),
                    url.port_or_known_default()?,
                ))
            })
            .collect();
        for pin in &self.0 {
            let ports: Vec<u16> = starts
                .iter()
                .filter(|(host, _)| *host == pin.host)
                .map(|(_, port)| *port)
                .collect();
            if !ports.is_empty() && !ports.contains(&pin.port) {
                let used: Vec<String> = ports.iter().map(u16::to_string).collect();
                return Err(UsageError(format!(
                    "{} {}:{}:…: the start URL is on port {} of {}, not {}: give {}:{}:ADDRESS",
                    Config::name("resolve"),
                    pin.host,
                    pin.port,
                    used.join(" and "),
                    pin.host,
                    pin.port,
                    pin.host,
                    used[0]
                )));
            }
        }
        Ok(())
    }

    /// Where each host's requests go: the browser's host resolver rules (see
    /// [`crate::browser`]) and reqwest's `resolve` overrides, which keep the URL's own port.
    pub(super) fn addresses(&self) -> Vec<(String, SocketAddr)> {
        self.0
            .iter()
            .map(|p| (p.host.clone(), SocketAddr::new(p.address, p.port)))
            .collect()
    }

    /// As the report's settings name them: curl's syntax again, normalised.
    pub(super) fn described(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|p| match p.address {
                IpAddr::V4(a) => format!("{}:{}:{a}", p.host, p.port),
                IpAddr::V6(a) => format!("{}:{}:[{a}]", p.host, p.port),
            })
            .collect()
    }
}

fn parse(entry: &str) -> Result<Pin, String> {
    let mut parts = entry.splitn(3, ':');
    let (Some(host), Some(port), Some(address)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("not HOST:PORT:ADDRESS".into());
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let host_ok = !host.is_empty()
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !host_ok {
        return Err(format!("{host:?} is not a host name"));
    }
    let port: u16 = match port.parse() {
        Ok(p) if p > 0 => p,
        _ => return Err(format!("{port:?} is not a port (1-65535)")),
    };
    if address.contains(',') {
        return Err("one address per entry (curl's lists of addresses are not supported)".into());
    }
    let bare = address
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(address);
    let address: IpAddr = bare
        .parse()
        .map_err(|_| format!("{address:?} is not an IP address"))?;
    Ok(Pin {
        host,
        port,
        address,
    })
}

#[cfg(test)]
mod tests {
    use super::Pins;

    #[test]
    fn an_entry_must_be_on_the_start_urls_port() {
        let pins = Pins::parse(&["staging.test:443:127.0.0.1".to_string()]).unwrap();
        let e = pins
            .check_ports(&["http://staging.test:8080/".to_string()])
            .unwrap_err()
            .0;
        assert!(
            e.contains("the start URL is on port 8080 of staging.test, not 443"),
            "{e}"
        );
        pins.check_ports(&["https://staging.test/".to_string()])
            .unwrap();
        pins.check_ports(&["http://other.test:8080/".to_string()])
            .expect("another host's entry: the page's API, say");
    }

    fn pins(entries: &[&str]) -> Result<Pins, String> {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        Pins::parse(&entries).map_err(|e| e.0)
    }

    #[test]
    fn entries_become_chromium_rules_reqwest_overrides_and_settings() {
        let p = pins(&["Staging.Test:8080:127.0.0.1", "v6.test:443:[::1]"]).unwrap();
        assert_eq!(
            p.described(),
            ["staging.test:8080:127.0.0.1", "v6.test:443:[::1]"]
        );
        assert_eq!(p.addresses()[0].0, "staging.test");
        assert_eq!(p.addresses()[1].1.to_string(), "[::1]:443");
        assert_eq!(pins(&[]).unwrap(), Pins::default());
    }

    #[test]
    fn mistakes_are_named() {
        for (entry, says) in [
            ("staging.test:8080", "not HOST:PORT:ADDRESS"),
            (":8080:127.0.0.1", "not a host name"),
            ("a b:8080:127.0.0.1", "not a host name"),
            ("staging.test:http:127.0.0.1", "not a port"),
            ("staging.test:0:127.0.0.1", "not a port"),
            ("staging.test:70000:127.0.0.1", "not a port"),
            ("staging.test:80:localhost", "not an IP address"),
            (
                "staging.test:80:127.0.0.1,127.0.0.2",
                "one address per entry",
            ),
        ] {
            let e = pins(&[entry]).unwrap_err();
            assert!(e.contains(says) && e.contains(entry), "{entry}: {e}");
        }
        let e = pins(&["a.test:80:127.0.0.1", "a.test:80:127.0.0.2"]).unwrap_err();
        assert!(e.contains("already resolved"), "{e}");
        let e = pins(&["a.test:80:127.0.0.1", "a.test:443:127.0.0.2"]).unwrap_err();
        assert!(e.contains("one address per host"), "{e}");
        pins(&["a.test:80:127.0.0.1", "a.test:443:127.0.0.1"]).unwrap();
    }
}
