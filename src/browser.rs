//! Owns the Chromium process: finds the executable, launches it with the flags a prober needs,
//! polls the CDP handler for the whole run, notices when the browser dies and relaunches it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chromiumoxide_cdp::cdp::browser_protocol::browser::{
    BrowserContextId, CloseParams, GetVersionParams,
};
use chromiumoxide_cdp::cdp::browser_protocol::target::{
    CloseTargetParams, CreateBrowserContextParams, CreateTargetParams, DisposeBrowserContextParams,
    GetTargetsParams,
};
use std::time::SystemTime;
use tokio::sync::Mutex;

use crate::cdp::{self, Connection, Page};
use crate::clock::unix_ms;
use crate::error::UsageError;
use crate::model::Outage;

pub const INSTALL_HINT: &str = "apt-get update && apt-get install -y chromium-headless-shell";
const FULL_INSTALL_HINT: &str = "apt-get update && apt-get install -y chromium";

/// Which Chromium build runs the users: the old headless shell, which costs a fraction of full
/// Chromium per fresh context (no WebUI, no omnibox popups), or full Chromium, for behaviour
/// only full Chrome has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BrowserKind {
    Shell,
    Full,
}

/// Where Debian (and others) put the headless shell. Debian's /usr/bin one is a script that
/// runs the binary without `exec`: the binary itself, first, leaves no shell between rollprobe
/// and the browser it must watch and kill.
pub const SHELL_EXECUTABLES: [&str; 2] = [
    "/usr/lib/chromium/chromium-headless-shell",
    "/usr/bin/chromium-headless-shell",
];
/// Where full Chromium or Chrome usually is.
pub const FULL_EXECUTABLES: [&str; 4] = [
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
];

/// Picks the browser executable: the explicit path (flag or `CHROMIUM`), else the usual places
/// of the kind asked for; without a kind, the headless shell when it is installed.
pub fn resolve_executable(
    explicit: Option<&Path>,
    kind: Option<BrowserKind>,
) -> Result<PathBuf, UsageError> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(UsageError(format!(
                "Chromium not found at {}. Install it with `{INSTALL_HINT}`, or point --chromium \
                 (or CHROMIUM) at a Chromium or Chrome executable.",
                path.display()
            )))
        };
    }
    let (places, hint): (Vec<&str>, &str) = match kind {
        Some(BrowserKind::Shell) => (SHELL_EXECUTABLES.to_vec(), INSTALL_HINT),
        Some(BrowserKind::Full) => (FULL_EXECUTABLES.to_vec(), FULL_INSTALL_HINT),
        None => (
            SHELL_EXECUTABLES
                .iter()
                .chain(&FULL_EXECUTABLES)
                .copied()
                .collect(),
            INSTALL_HINT,
        ),
    };
    places
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            UsageError(format!(
                "Chromium not found (looked for {}). Install it with `{hint}`, or pass \
                 --chromium PATH.",
                places.join(", ")
            ))
        })
}

/// What `--chromium` defaults to, for help text.
pub const DEFAULT_SHOWN: &str = "the headless shell (Debian's chromium-headless-shell) when installed, else /usr/bin/chromium (see --browser)";

#[derive(Clone, Debug)]
pub struct BrowserOptions {
    pub executable: PathBuf,
    /// Bound on any single CDP call; a call past it means the browser is wedged.
    pub cdp_timeout: Duration,
    /// Which server certificates the browser accepts.
    pub trust: Trust,
    /// `--resolve`: the requests for a host and port go to this address instead of the one DNS
    /// gives; the URL, cookies and certificate names keep the host.
    pub host_map: Vec<(String, SocketAddr)>,
    /// Pages of one browser context share its renderer, for contexts kept per worker: the
    /// next load's page opens in the renderer of the current one instead of a new process.
    pub shared_renderers: bool,
}

/// Which server certificates the browser accepts. By default it checks them as a user's
/// browser does, so a certificate error is the site's failure (`tls_error`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Trust {
    /// What the system trusts, like a user's browser.
    #[default]
    System,
    /// Any certificate (`--insecure`): a staging site nobody issued a certificate for.
    Any,
    /// Also the certificates with these public keys (SHA-256 of the DER SubjectPublicKeyInfo,
    /// base64), from `--trust-cert`: a self-signed staging certificate, or a private CA's.
    Spki(Vec<String>),
}

/// One running Chromium process and the DevTools connection to it.
pub struct Chromium {
    conn: Arc<Connection>,
    /// The executable's name and the product it reports, e.g.
    /// `chromium-headless-shell (HeadlessChrome/156.0.8078.114)`.
    pub described: String,
    pid: Option<u32>,
    child: tokio::process::Child,
    // Kept for its Drop: the fresh profile directory goes away with the process.
    _profile: tempfile::TempDir,
}

impl Chromium {
    pub async fn launch(opts: &BrowserOptions) -> Result<Chromium> {
        let profile = tempfile::Builder::new()
            .prefix("rollprobe-profile-")
            .tempdir()
            .map_err(no_temp_dir)?;
        let launched = cdp::launch(&opts.executable, &args(opts, profile.path()))
            .with_context(|| format!("launching {}", opts.executable.display()))?;
        let pid = launched.child.id();
        // The first call says whether the browser came up at all; the report also says which
        // browser ran.
        let version = tokio::time::timeout(
            LAUNCH_TIMEOUT,
            launched.conn.call(None, GetVersionParams::default()),
        )
        .await;
        let product = match version {
            Ok(Ok(v)) => v.product,
            failed => {
                let mut child = launched.child;
                let _ = child.kill().await;
                let said: Vec<String> = launched
                    .stderr
                    .lock()
                    .expect("stderr lock")
                    .iter()
                    .cloned()
                    .collect();
                let why = match failed {
                    Ok(Err(e)) => e,
                    _ => format!("no answer within {LAUNCH_TIMEOUT:?}"),
                };
                anyhow::bail!("{why}; it said: {}", said.join(" / "));
            }
        };
        let name = opts.executable.file_name().map_or_else(
            || opts.executable.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Ok(Chromium {
            conn: launched.conn,
            described: format!("{name} ({product})"),
            pid,
            child: launched.child,
            _profile: profile,
        })
    }

    pub fn is_alive(&self) -> bool {
        self.conn.is_open()
    }

    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// A new browser context: a user of its own, sharing nothing with the others.
    pub async fn new_context(&self) -> Result<BrowserContextId, String> {
        self.conn
            .call(None, CreateBrowserContextParams::default())
            .await
            .map(|r| r.browser_context_id)
    }

    pub async fn dispose_context(&self, context: BrowserContextId) -> Result<(), String> {
        self.conn
            .call(None, DisposeBrowserContextParams::new(context))
            .await
            .map(|_| ())
    }

    /// Closes the tabs of `context` other than `keep`'s (the target id of the one that stays):
    /// popups and new tabs its pages opened. Gives the URLs they showed.
    pub async fn close_other_tabs(
        &self,
        context: &BrowserContextId,
        keep: &str,
    ) -> Result<Vec<String>, String> {
        let targets = self.conn.call(None, GetTargetsParams::default()).await?;
        let others = targets.target_infos.into_iter().filter(|t| {
            t.r#type == "page"
                && t.browser_context_id.as_ref() == Some(context)
                && t.target_id.inner() != keep
        });
        let mut shown = Vec::new();
        for tab in others {
            self.conn
                .call(None, CloseTargetParams::new(tab.target_id))
                .await?;
            shown.push(tab.url);
        }
        Ok(shown)
    }

    /// A blank tab in `context` (None: the default context), attached, nothing enabled.
    pub async fn open_page(&self, context: Option<BrowserContextId>) -> Result<Page, String> {
        let mut params = CreateTargetParams::new("about:blank");
        params.browser_context_id = context;
        Page::open(&self.conn, params).await
    }

    /// Closes the browser politely, then makes sure the process is gone: Chromium does not die
    /// with us on SIGTERM.
    pub async fn shutdown(mut self) {
        if self.is_alive() {
            let _ = tokio::time::timeout(
                Duration::from_secs(3),
                self.conn.call(None, CloseParams::default()),
            )
            .await;
        }
        let exited = tokio::time::timeout(Duration::from_secs(3), self.child.wait()).await;
        if !matches!(exited, Ok(Ok(_))) {
            let _ = self.child.kill().await;
            let _ = self.child.wait().await;
        }
    }
}

/// How long a starting browser has to answer its first call.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The launch flags of a prober's browser.
fn args(opts: &BrowserOptions, profile: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        "headless",
        "no-sandbox",
        "disable-setuid-sandbox",
        "hide-scrollbars",
        "mute-audio",
        "disable-gpu",
        "disable-quic",
        "no-first-run",
        "no-default-browser-check",
        "disable-background-networking",
        "disable-background-timer-throttling",
        "disable-backgrounding-occluded-windows",
        "disable-renderer-backgrounding",
        "disable-breakpad",
        "disable-client-side-phishing-detection",
        "disable-component-update",
        "disable-component-extensions-with-background-pages",
        "disable-default-apps",
        "disable-extensions",
        "disable-hang-monitor",
        "disable-ipc-flooding-protection",
        "disable-popup-blocking",
        "disable-prompt-on-repost",
        "disable-sync",
        "metrics-recording-only",
        "password-store=basic",
        "use-mock-keychain",
        "force-color-profile=srgb",
        "lang=en_US",
        "enable-features=NetworkService,NetworkServiceInProcess",
        // Containers get a 64 MB /dev/shm, too small for a few renderers: shared memory goes to
        // /tmp instead.
        "disable-dev-shm-usage",
        // Chromium opens WebUI omnibox popups for every new context, each in its own renderer:
        // more than half the CPU of a fresh-context load goes there without this.
        "disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup,WebUIOmniboxFullPopup,\
         OptimizationHints,MediaRouter,TranslateUI",
    ]
    .iter()
    .map(|a| format!("--{a}"))
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    // Launch flags, not CDP: they hold for every browser context, page, frame and worker the
    // browser ever opens, from its first request (Chromium honours the SPKI list only with a
    // --user-data-dir, which we always give).
    match &opts.trust {
        Trust::System => {}
        Trust::Any => args.push("--ignore-certificate-errors".into()),
        Trust::Spki(hashes) => args.push(format!(
            "--ignore-certificate-errors-spki-list={}",
            hashes.join(",")
        )),
    }
    if opts.shared_renderers {
        // Past the limit, a new page goes to a renderer of its own context when there is
        // one (a renderer never serves two contexts); every fresh context still gets its own.
        args.push("--renderer-process-limit=1".into());
    }
    let rules = host_resolver_rules(&opts.host_map);
    if !rules.is_empty() {
        args.push(format!("--host-resolver-rules={}", rules.join(",")));
    }
    args
}

/// Chromium's host resolver rules for `--resolve`, one per entry (joined with commas,
/// Chromium's separator). `MAP HOST:PORT ADDRESS:PORT` matches only that port, as curl's
/// entry does, and leaves the URL alone: the `Host` header, SNI, cookies and the certificate
/// check still use HOST.
fn host_resolver_rules(map: &[(String, SocketAddr)]) -> Vec<String> {
    map.iter()
        .map(|(host, addr)| format!("MAP {host}:{} {addr}", addr.port()))
        .collect()
}

/// Checks, before anything starts, that each browser can have its fresh profile: a read-only
/// `/tmp` would otherwise look like a Chromium that cannot start.
pub fn check_temp_dir() -> Result<(), UsageError> {
    tempfile::Builder::new()
        .prefix("rollprobe-check-")
        .tempdir()
        .map(drop)
        .map_err(no_temp_dir)
}

fn no_temp_dir(e: std::io::Error) -> UsageError {
    UsageError(format!(
        "cannot create Chromium's profile directory in {}: {e}. rollprobe needs a writable temporary directory: on Kubernetes with readOnlyRootFilesystem, mount an emptyDir at /tmp (see ci/k8s/probe-job.yaml), or set TMPDIR to a writable directory",
        std::env::temp_dir().display()
    ))
}

/// Hands workers the current browser, relaunching it when it died: the first worker to ask
/// after the death relaunches it, the others wait on the lock and get the new one.
pub struct Supervisor {
    opts: BrowserOptions,
    current: Mutex<Option<Arc<Chromium>>>,
    outages: std::sync::Mutex<Vec<Outage>>,
}

impl Supervisor {
    /// Launches the first browser. Failing here is a setup problem (not a browser, not
    /// executable, missing libraries), so it is a usage error with the way out.
    pub async fn start(opts: BrowserOptions) -> Result<Supervisor> {
        let first = Chromium::launch(&opts).await.map_err(|e| {
            // Not the browser's fault: the message already says what to do.
            if let Some(usage) = e.downcast_ref::<UsageError>() {
                return UsageError(usage.0.clone());
            }
            UsageError(format!(
                "could not start {} as Chromium ({}). Point --chromium at a Chromium or Chrome \
                 executable, or install one with `{INSTALL_HINT}`",
                opts.executable.display(),
                e.root_cause()
            ))
        })?;
        Ok(Supervisor {
            opts,
            current: Mutex::new(Some(Arc::new(first))),
            outages: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The live browser; relaunches first if the current one died.
    pub async fn get(&self) -> Result<Arc<Chromium>> {
        let mut current = self.current.lock().await;
        if let Some(chromium) = current.as_ref().filter(|c| c.is_alive()) {
            return Ok(chromium.clone());
        }
        let mut down_since = unix_ms(SystemTime::now());
        if let Some(dead) = current.take() {
            if let Some(died) = dead.conn.closed_at_ms() {
                down_since = died;
            }
            retire(dead).await;
        }
        let fresh = Arc::new(Chromium::launch(&self.opts).await?);
        self.outages.lock().expect("outages lock").push(Outage {
            from_unix_ms: down_since,
            to_unix_ms: unix_ms(SystemTime::now()),
        });
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// The times the browser was gone and relaunched.
    /// Which browser runs now.
    pub async fn described(&self) -> Option<String> {
        self.current
            .lock()
            .await
            .as_ref()
            .map(|c| c.described.clone())
    }

    pub fn outages(&self) -> Vec<Outage> {
        self.outages.lock().expect("outages lock").clone()
    }

    pub async fn shutdown(&self) {
        let taken = self.current.lock().await.take();
        if let Some(chromium) = taken {
            retire(chromium).await;
        }
    }
}

/// How many times (50 ms apart) `retire` waits for the last users of a browser.
const RETIRE_WAITS: u32 = 40;

/// Ends a browser the supervisor no longer hands out. Workers may still hold it (their calls
/// then fail fast), so when it is shared the process is killed by pid instead of closed.
async fn retire(mut chromium: Arc<Chromium>) {
    // Contexts being torn down beside the run hold the browser for a moment: waiting for them
    // lets Chromium close itself and its renderers cleanly instead of leaving them to die.
    for _ in 0..RETIRE_WAITS {
        match Arc::try_unwrap(chromium) {
            Ok(alone) => return alone.shutdown().await,
            Err(shared) => chromium = shared,
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if let Some(pid) = chromium.pid() {
        // SAFETY: kill(2) on the pid we launched; at worst the process is already gone.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
}
