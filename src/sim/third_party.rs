//! What real sites carry besides their own build, failing before any deployment: a third-party
//! script whose host refuses connections (a dead analytics or ad host), and an API of the
//! site's own that fails one request in N, more often while the rollout runs. The demo and the
//! tests use them to tell what a deployment changed from what was broken before it.

use std::{
    str::FromStr,
    sync::atomic::{AtomicU64, Ordering},
};

use tokio::sync::watch;

use super::{
    http::Response,
    shared::{Phase, Progress},
};

/// The site's own API that fails now and then.
pub const FLAKY_PATH: &str = "/api/flaky";

/// `--flaky-api N[,M]`: one request in N answers 502, one in M while the rollout runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flaky {
    pub every: u64,
    pub every_rolling: u64,
}

impl FromStr for Flaky {
    type Err = String;

    fn from_str(s: &str) -> Result<Flaky, String> {
        let n = |t: &str| match t.trim().parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "{t:?} is not a count of requests (1 or more): give N, or N,M (one in N fails, one in M during the rollout)"
            )),
        };
        match s.split_once(',') {
            Some((a, b)) => Ok(Flaky {
                every: n(a)?,
                every_rolling: n(b)?,
            }),
            None => n(s).map(|every| Flaky {
                every,
                every_rolling: every,
            }),
        }
    }
}

/// The markup every page of the site gets in its head: the dead host's script, the API call.
pub fn page_additions(dead_port: Option<u16>, flaky: bool) -> String {
    let mut html = String::new();
    if let Some(port) = dead_port {
        html.push_str(&format!(
            "<script async src=\"http://127.0.0.1:{port}/analytics.js\"></script>\n"
        ));
    }
    if flaky {
        html.push_str(&format!(
            "<script>fetch(\"{FLAKY_PATH}\").then(function (r) {{ return r.text(); }}).catch(function () {{}});</script>\n"
        ));
    }
    html
}

/// The flaky API, answered by the ingress itself: every Nth request of its count fails.
pub struct FlakyApi {
    flaky: Flaky,
    count: AtomicU64,
    progress: watch::Receiver<Progress>,
}

impl FlakyApi {
    pub fn new(flaky: Flaky, progress: watch::Receiver<Progress>) -> FlakyApi {
        FlakyApi {
            flaky,
            count: AtomicU64::new(0),
            progress,
        }
    }

    /// The answer to a request for the flaky API, and who gave it; None for any other path.
    pub fn answer(&self, path: &str) -> Option<(Response, String)> {
        (path == FLAKY_PATH).then(|| (self.respond(), "api".to_string()))
    }

    fn respond(&self) -> Response {
        let every = if self.progress.borrow().phase == Phase::Rolling {
            self.flaky.every_rolling
        } else {
            self.flaky.every
        };
        let n = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(every) {
            Response::new(502, "text/html", "<h1>502 Bad Gateway</h1>")
        } else {
            Response::new(200, "application/json", "{\"items\":[]}")
        }
        .with_header("Cache-Control", "no-store")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_as_one_in_n() {
        assert_eq!(
            "20,2".parse(),
            Ok(Flaky {
                every: 20,
                every_rolling: 2
            })
        );
        assert_eq!("5".parse::<Flaky>().map(|f| f.every_rolling), Ok(5));
        assert!("0".parse::<Flaky>().is_err());
        assert!("x,2".parse::<Flaky>().is_err());
    }
}
