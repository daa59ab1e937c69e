//! Shared by the integration tests: run the real binary against a real local site or the
//! embedded simulator, and read back what a user would look at (exit code, output, reports).

pub mod client;
pub mod junit;

pub use client::*;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use rollprobe::sim::{Mode, SimConfig, Simulator};
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_rollprobe");

/// The binary with any arguments and environment: the one way the tests start it. No stdin,
/// output captured, killed when dropped, and bounded in time so a hang fails the test.
pub struct Cmd {
    command: tokio::process::Command,
    limit: Duration,
}

/// How a run of the binary ended.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Cmd {
    pub fn new<I, S>(args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        Cmd {
            command,
            limit: Duration::from_secs(30),
        }
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.command.env_remove(key);
        self
    }

    /// How long `run` waits for the binary to end (30 s unless set).
    pub fn limit(mut self, limit: Duration) -> Cmd {
        self.limit = limit;
        self
    }

    fn spawn(mut self) -> tokio::process::Child {
        self.command.spawn().expect("rollprobe starts")
    }

    /// Runs the binary to its end, at most the limit.
    pub async fn run(self) -> Output {
        let limit = self.limit;
        wait(self.spawn(), limit).await
    }
}

async fn wait(child: tokio::process::Child, limit: Duration) -> Output {
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("rollprobe finished within {limit:?}"))
        .unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A finished `rollprobe run`, with the reports it wrote.
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

    /// The JUnit report's suites.
    pub fn junit_suites(&self) -> Vec<junit::Suite> {
        junit::suites(self.junit.as_deref().expect("the JUnit report was written"))
    }

    /// The check of that name in the JSON report.
    pub fn check(&self, name: &str) -> &Value {
        let checks = &self.json()["checks"];
        (checks.as_array().unwrap().iter())
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no check {name:?} in {checks}\n{}", self.stdout))
    }

    /// The names of the JUnit testcases that failed, in every suite.
    pub fn failed_junit_cases(&self) -> Vec<String> {
        self.junit_suites()
            .iter()
            .flat_map(|s| s.failed_case_names())
            .map(str::to_string)
            .collect()
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
    child: tokio::process::Child,
    dir: tempfile::TempDir,
}

impl Probe {
    pub fn start(url: &str, args: &[&str]) -> Probe {
        Probe::start_with(url, args, &[])
    }

    /// With these environment variables set for it.
    pub fn start_with(url: &str, args: &[&str], env: &[(&str, &str)]) -> Probe {
        let dir = tempfile::tempdir().unwrap();
        let report = |name: &str| dir.path().join(name);
        let (json, junit, html) = (
            report("report.json"),
            report("report.xml"),
            report("report.html"),
        );
        let mut cmd = Cmd::new(["run", url]);
        for (key, value) in env {
            cmd = cmd.env(key, value);
        }
        let child = cmd
            .args([
                OsStr::new("--json"),
                json.as_os_str(),
                OsStr::new("--junit"),
                junit.as_os_str(),
                OsStr::new("--html"),
                html.as_os_str(),
                OsStr::new("--quiet"),
            ])
            // Last, since a deploy command after `--` takes everything that follows.
            .args(args)
            .spawn();
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
        let Output {
            code,
            stdout,
            stderr,
        } = wait(self.child, limit).await;
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).ok();
        let run = Run {
            code,
            stdout,
            stderr,
            json: read("report.json")
                .map(|t| serde_json::from_str(&t).expect("the JSON report parses")),
            junit: read("report.xml"),
            dir: self.dir,
        };
        if let Some(xml) = &run.junit {
            // Reads as JUnit: well-formed, every suite with its counts, every problem explained.
            junit::suites(xml);
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

/// The embedded simulator as the tests run it: quiet, and bounded in time (it stops by itself
/// after `max_lifetime`, 120 s unless set, whatever the test does). The rest is
/// `SimConfig::default()` unless a test says otherwise.
pub struct Sim(SimConfig);

impl Sim {
    pub fn new(mode: Mode) -> Sim {
        Sim(SimConfig {
            mode,
            max_lifetime: Duration::from_secs(120),
            quiet: true,
            ..SimConfig::default()
        })
    }

    /// Steady state before an auto-started rollout.
    pub fn before(mut self, before: Duration) -> Sim {
        self.0.before = before;
        self
    }

    pub fn rollout(mut self, rollout: Duration) -> Sim {
        self.0.rollout = rollout;
        self
    }

    /// Steady state after the rollout before the simulator stops by itself.
    pub fn after(mut self, after: Duration) -> Sim {
        self.0.after = after;
        self
    }

    /// false: the rollout waits for `start_rollout()` / `POST /rollout`.
    pub fn auto_start(mut self, auto_start: bool) -> Sim {
        self.0.auto_start = auto_start;
        self
    }

    /// Replace only this many pods, then stall.
    pub fn stall_after(mut self, pods: Option<usize>) -> Sim {
        self.0.stall_after = pods;
        self
    }

    pub fn max_lifetime(mut self, max_lifetime: Duration) -> Sim {
        self.0.max_lifetime = max_lifetime;
        self
    }

    /// Every page loads a script from a host that refuses connections.
    pub fn dead_third_party(mut self) -> Sim {
        self.0.dead_third_party = true;
        self
    }

    /// Every page calls /api/flaky, failing one request in `every` (`every_rolling` during
    /// the rollout).
    pub fn flaky_api(mut self, every: u64, every_rolling: u64) -> Sim {
        self.0.flaky_api = Some(rollprobe::sim::Flaky {
            every,
            every_rolling,
        });
        self
    }

    /// A CDN in front of the ingress.
    pub fn cdn(mut self) -> Sim {
        self.0.cdn = true;
        self
    }

    pub fn events_jsonl(mut self, file: &Path) -> Sim {
        self.0.events_jsonl = Some(file.to_path_buf());
        self
    }

    /// Rolls out the two builds of a fixture app of tests/apps instead of the built-in SPA.
    pub fn app(mut self, name: &str) -> Sim {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/apps")
            .join(name);
        let app = rollprobe::sim::App::from_dirs(&dir.join("dist-v1"), &dir.join("dist-v2"));
        self.0.app = std::sync::Arc::new(app.unwrap());
        self
    }

    pub async fn start(self) -> Simulator {
        Simulator::start(self.0).await.unwrap()
    }
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
            c.contains("--remote-debugging-pipe") && !c.contains("--type=")
        })
    })
}
