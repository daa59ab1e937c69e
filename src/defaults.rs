//! Every default of a run, written once: the plan applies them, the help text and the scenario
//! validator use them from here. (The SLO's default is `model::Slo::default`, the browser's is the first
//! of `browser`'s usual places.)

use std::time::Duration;

/// Closed model: browser users at once. Each fresh-context load costs Chromium 0.15-0.25
/// CPU-seconds on the headless shell, three times that on full Chromium (see the README's
/// benchmark), so two keep a small CI runner honest.
pub const WORKERS: usize = 2;
/// Open model: most users at once.
pub const MAX_WORKERS: usize = 8;
/// Most users at once either way: past this, the prober's own CPU becomes the bottleneck.
pub const MAX_USERS: usize = 64;
/// `--workers auto`: the most users the ramp goes to, so finding the machine's capacity never
/// means hammering the site (the benchmark machine, 2 cores, tops out between 8 and 16).
pub const AUTO_CEILING: usize = 16;
/// `--workers auto` starts at two users, what a fixed run defaults to.
pub const AUTO_START: usize = WORKERS;
/// The shortest the ramp watches a user count: long enough for the CPU reading to cover work
/// at that count (a window closes once as many loads as users ended, about one load time).
pub const AUTO_WINDOW_MIN: Duration = Duration::from_millis(1500);
/// Past this it settles for half as many loads (a slow site).
pub const AUTO_WINDOW: Duration = Duration::from_secs(3);
/// More users count as a gain only with this many times the loads per second: below that it
/// is noise, and the site gets more traffic for nothing.
pub const AUTO_GAIN: f64 = 1.08;
/// Share of all cores busy at which the prober's machine is full: a held count steps down only
/// then (and when loads take `AUTO_SLOWER` times their first time).
pub const AUTO_BUSY_LIMIT: f64 = 0.9;
/// With the machine full, loads this many times slower than at the start are the prober's
/// doing: the ramp steps down.
pub const AUTO_SLOWER: f64 = 2.0;
pub const DURATION: Duration = Duration::from_secs(30);
pub const BASELINE: Duration = Duration::from_secs(10);
pub const SETTLE: Duration = Duration::from_secs(15);
pub const IDLE: Duration = Duration::from_millis(500);
/// A fetch or XHR open this long is a long poll, not part of loading the page. Long enough for
/// a slow API call, which the page needs, to still be waited for (and its 502 still seen);
/// short enough that a long-polling page costs a few seconds a load, not its poll interval.
pub const LONG_REQUEST: Duration = Duration::from_secs(5);
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(30);
/// A CDP call slower than this means the browser is wedged, not that the site is slow.
pub const CDP_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a load's end waits for Chromium to replay the page's console: a page whose main
/// thread is free answers in milliseconds; one whose script holds it is not waited for.
pub const CONSOLE_WAIT: Duration = Duration::from_secs(3);
/// How long in-flight loads may finish after Ctrl-C or SIGTERM (at most the load timeout).
pub const GRACE: Duration = Duration::from_secs(5);

/// An open tab's rounds: often enough to catch the old build's files going away within a
/// rollout of a minute or two, rare enough that tabs cost little next to the fresh users.
pub const OPEN_TAB_EVERY: Duration = Duration::from_secs(5);
/// A start document cacheable longer than this (seconds) gets a warning: returning users keep
/// the old build's file names that long.
pub const START_DOCUMENT_CACHEABLE_S: u64 = 300;
/// Between a returning user's visits: each return is a navigation and a reload.
pub const RETURNING_EVERY: Duration = Duration::from_secs(5);

/// How long a `wait_for` step waits when the scenario gives no timeout.
pub const WAIT_FOR_TIMEOUT: Duration = Duration::from_secs(10);
/// What a report keeps at most: memory stays bounded on long runs.
pub const MAX_FAILURES: usize = 10_000;
pub const MAX_DETAILED_LOADS: usize = 200;
pub const MAX_FAILING_RESOURCES: usize = 1_000;
/// Distinct static assets of the baseline the retention check requests again, at most.
pub const MAX_OLD_ASSETS: usize = 500;
/// URLs that failed in the last phase with a cache's answer, fetched again past the caches.
pub const MAX_PAST_CACHE: usize = 20;

/// Old-asset retention: gone assets fail the run (`--retention-required`).
pub const RETENTION_REQUIRED: bool = true;
/// Requests per asset: a round-robin ingress must reach every backend, and each request opens
/// its own connection so a per-connection balancer spreads them too.
pub const RETENTION_ATTEMPTS: u32 = 4;
/// The whole retention check, every asset and attempt: what is left then is unchecked.
pub const RETENTION_TIME_LIMIT: Duration = Duration::from_secs(30);
/// One request of the retention check, connection and response head.
pub const RETENTION_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Requests of the retention check in flight at once.
pub const RETENTION_CONCURRENCY: usize = 8;

/// Failed loads whose screenshot and HAR file are saved, at most (`--max-artifacts`): the
/// first of each failure class and of each failing URL.
pub const MAX_ARTIFACTS: usize = 20;
/// Where they go without `--artifacts` and without a report written to a file (beside one,
/// they go to `<report name>-artifacts/`).
pub const ARTIFACTS_DIR: &str = "rollprobe-artifacts";
/// A screenshot up to this size (PNG bytes) is embedded in the report for the HTML report's
/// thumbnails; a larger one is linked only. 20 of them keep a report under about 6 MB.
pub const MAX_EMBEDDED_SCREENSHOT: usize = 300 * 1024;

/// A load whose page asked for the same document this many times reloads itself in a loop.
pub const RELOAD_LOOP_DOCUMENTS: usize = 4;

/// Response headers that name the pod (or server) that answered, tried in this order without
/// `--pod-header`: what proxies and app servers commonly add. `X-Served-By` comes last: Fastly
/// and Varnish set it to a cache node's name.
pub const POD_HEADERS: [&str; 4] = ["X-Pod", "X-Backend-Server", "X-Upstream", "X-Served-By"];
