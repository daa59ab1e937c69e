//! Shared by the integration tests: run the real binary against a real local site and read
//! back what a user would look at (exit code, output, reports).
#![allow(dead_code)] // each test file uses its own subset

pub mod client;

#[allow(unused_imports)]
pub use client::*;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_rollprobe");

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub json: Option<Value>,
    pub junit: Option<String>,
    pub dir: tempfile::TempDir,
}

impl Run {
    /// Where `--html` wrote its report.
    pub fn html(&self) -> PathBuf {
        self.dir.path().join("report.html")
    }

    pub fn json(&self) -> &Value {
        self.json.as_ref().expect("the JSON report was written")
    }

    /// Failures of the run, as (class, url, status-or-error) triples.
    pub fn failures(&self) -> Vec<(String, String, String)> {
        self.json()["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let how = f["status"]
                    .as_u64()
                    .map(|s| s.to_string())
                    .or_else(|| f["error"].as_str().map(str::to_string))
                    .unwrap_or_default();
                (
                    f["class"].as_str().unwrap().to_string(),
                    f["url"].as_str().unwrap().to_string(),
                    how,
                )
            })
            .collect()
    }

    /// The classes that failed loads, i.e. that counted against the site.
    pub fn classes(&self) -> Vec<String> {
        self.json()["summary"]["failed_loads_by_class"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    /// Every class recorded, counted or not (js_error is recorded even when it does not count).
    pub fn recorded_classes(&self) -> Vec<String> {
        let mut classes: Vec<String> = self.failures().into_iter().map(|f| f.0).collect();
        classes.sort();
        classes.dedup();
        classes
    }
}

/// A running `rollprobe run URL --json --junit --html --quiet ARGS...`, reports in a temp dir.
pub struct Probe {
    pub child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl Probe {
    pub fn start(url: &str, args: &[&str]) -> Probe {
        let dir = tempfile::tempdir().unwrap();
        let child = tokio::process::Command::new(BIN)
            .arg("run")
            .arg(url)
            .arg("--json")
            .arg(dir.path().join("report.json"))
            .arg("--junit")
            .arg(dir.path().join("report.xml"))
            .arg("--html")
            .arg(dir.path().join("report.html"))
            .arg("--quiet")
            // Last, since a deploy command after `--` takes everything that follows.
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        Probe { child, dir }
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on the child this test started.
        unsafe {
            libc::kill(self.pid() as i32, sig);
        }
    }

    /// Waits for the run to end, at most `limit`, and reads back what it wrote.
    pub async fn finish(self, limit: Duration) -> Run {
        let out = tokio::time::timeout(limit, self.child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("rollprobe finished within {limit:?}"))
            .unwrap();
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).ok();
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            json: read("report.json")
                .map(|t| serde_json::from_str(&t).expect("the JSON report parses")),
            junit: read("report.xml"),
            dir: self.dir,
        };
        if let Some(xml) = &run.junit {
            roxmltree::Document::parse(xml).expect("the JUnit report is well-formed XML");
        }
        run
    }
}

/// `rollprobe run URL ARGS...` to its end, bounded in time so a hang fails the test.
pub async fn probe(url: &str, args: &[&str]) -> Run {
    Probe::start(url, args)
        .finish(Duration::from_secs(120))
        .await
}

/// A bundler-like page: hashed entry script and stylesheet, and a chunk the entry imports lazily.
pub fn spa_routes() -> Vec<rollprobe::sim::Route> {
    use rollprobe::sim::Route;
    vec![
        Route::html(
            "/",
            r#"<!doctype html><html><head>
<link rel="stylesheet" href="/assets/index-5e1f0c.css">
<script type="module" src="/assets/index-3f9a1c.js"></script>
</head><body><div id="app">loading</div></body></html>"#,
        ),
        Route::new(
            "/assets/index-5e1f0c.css",
            "text/css",
            "body { font-family: sans-serif }",
        ),
        Route::new(
            "/assets/index-3f9a1c.js",
            "text/javascript",
            r#"import("/assets/chunk-b71e02.js").then((m) => m.render());"#,
        ),
        Route::new(
            "/assets/chunk-b71e02.js",
            "text/javascript",
            r#"export function render() { document.getElementById("app").textContent = "ready"; }"#,
        ),
    ]
}

/// A loopback port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Every process below `root`, found through /proc.
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The field after the parenthesised command name: state, then ppid.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if let Some(ppid) = ppid {
            parents.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// The main Chromium process below `root` (the one with the DevTools port, not a renderer).
pub fn browser_pid(root: u32) -> Option<u32> {
    descendants(root).into_iter().find(|pid| {
        std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
            let c = String::from_utf8_lossy(&c);
            c.contains("--remote-debugging-port") && !c.contains("--type=")
        })
    })
}
