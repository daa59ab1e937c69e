//! The template `rollprobe scenario example` prints. It lives apart because it is long and
//! reads as a TOML file, not as Rust; a test in the parent parses it, so it cannot go stale.

/// The commented template `rollprobe scenario example` prints; it parses as it is.
pub const EXAMPLE: &str = r##"# rollprobe scenario: what to load, as whom, how hard, which journey, and how to judge it.
# Check it with `rollprobe scenario check FILE`; every key below is optional. Every setting is
# also a flag of `rollprobe run` (`run --help` names each flag's key); a flag overrides the file.

# Start URLs; a load picks one in proportion to its weight (default 1).
# A URL given on the command line replaces these.
[[target]]
url = "https://staging.example.com/"
weight = 3
[[target]]
url = "https://staging.example.com/shop"

# Sent with every load. A value is a string, or { env = "VAR" } to read it from the environment
# (an unset or empty variable is an error); rollprobe never prints these values.
[request]
headers = { "X-Env" = "staging" }
# headers = { "X-Env" = "staging", "Authorization" = { env = "STAGING_TOKEN" } }
# cookies = { session = { env = "STAGING_SESSION" } }
# basic_auth = { username = "ci", password = { env = "STAGING_PASSWORD" } }
# Certificates are checked like a browser checks them: one it refuses fails as `tls_error`.
# insecure = true           # accept any certificate (a staging site's self-signed one)
# trust_cert = ["staging.pem"]  # or accept just these certificates (PEM)
# resolve = ["staging.example.com:443:10.0.0.5"]  # as curl's --resolve: before DNS points there

[load]
workers = 4                 # closed model: 4 users, each loading again and again (1 to 64),
                            # or "auto": ramped up while loads per second rise
# workers_ceiling = 8       #   ... with "auto": at most this many
# rate = "5/s"              # open model instead: new users per second ("5/s", "30/m", "0.5/s")
# max_workers = 8           #   ... at most this many at once (open model only)
duration = "2m"             # a timed run (a deploy command's phases end the run instead)
idle = "500ms"              # network idle this long after the load event ends a load
long_request = "5s"         # a fetch/XHR open this long is a long poll: not waited for
load_timeout = "30s"        # a load not idle by then fails as `timeout`
# loads = 500               # stop after this many loads
# until_signal = true       # probe until SIGINT or SIGTERM (instead of a duration)
# block = ["images", "fonts"]  # resource kinds not fetched (images, fonts, media)
# context = "per-worker"    # one browser context per worker, cleared between its loads:
                            # less CPU per load, but its connections stay open (default "per-load")
# dialogs = "accept"        # answer alert/confirm/prompt by accepting (default "dismiss")
# prompt_text = "Ada"       #   ... and type this into a prompt

# Around a deploy command (`rollprobe run URL -- ./deploy.sh`):
# [deploy]
# baseline = "10s"          # probe this long before starting it
# settle = "15s"            # keep probing this long after it exits
# log = "deploy.log"        # its output here instead of the terminal

# The user journey after the start URL is idle, one action per [[step]]:
# click, goto, wait_for (with optional timeout, default 10s), wait_idle, eval, sleep.
[[step]]
click = "a[href='/reports']"
[[step]]
wait_for = "#report-table"
timeout = "5s"
[[step]]
goto = "/settings"          # a path on the target, or a full URL
[[step]]
wait_idle = true
[[step]]
eval = "document.title.includes('Settings')"   # fails the load unless truthy
[[step]]
sleep = "500ms"

# Users who keep the app open across the deploy, a round of their own steps every `every`
# (without steps: the scripts and stylesheets they loaded, fetched again):
# [open_tabs]
# count = 2
# every = "5s"
# [[open_tabs.step]]
# click = "a[href='/reports']"

# Users whose browser remembers (HTTP cache, service workers, storage): a visit during the
# baseline, then every `every` a navigation and a reload:
# [returning_users]
# count = 2
# every = "5s"

# Screenshots and HAR files of the first failed loads:
# [evidence]
# artifacts = "reports/evidence"  # default: beside the first report file, or ./rollprobe-artifacts
# max_artifacts = 20        # 0: none

# After probing, are the old version's assets still served? (always checked around a deploy command)
# [retention]
# check = true
# required = false          # gone assets only warn

# [browser]
# chromium = "/usr/bin/chromium-headless-shell"
# kind = "shell"            # or "full": full Chromium

[judge]
ignore = ["googletagmanager.com", "*/beacon*"]  # substring, or glob with *
fail_on_js_error = true
expect_selector = "#app *"  # must match a visible element after each load, or `not_rendered`
# Around a deploy command, what the baseline already failed on (at the same rate) does not
# fail the later phases; true counts it anyway (the absolute verdict):
# count_pre_existing = false
# Which failure classes fail a load (default: all of them):
# missing_asset, wrong_content, http_error, network_error, tls_error, timeout, not_rendered,
# blank_page, step_failed, js_error.
count = ["missing_asset", "wrong_content", "http_error", "network_error", "tls_error", "timeout", "not_rendered"]

[version]
header = "X-App-Version"    # response header with the app version; and/or the page's own:
# meta = "app-version"      #   a <meta name="app-version" content="..."> tag, or
# js = "window.APP_VERSION" #   a JavaScript expression (one of meta and js)
expect = "2.4.1"            # the version the last phase must serve exclusively

# Which pod answered (default: the first of X-Pod, X-Served-By, X-Backend-Server, X-Upstream),
# and when pods came and went: the simulator's --events file, or kubectl's watch output.
[pods]
# header = "X-Pod"
# events = "pods.json"      # kubectl get pods --watch -o json > pods.json &
# kubectl = "shop:app=web"  # or: rollprobe runs that watch itself (NAMESPACE:SELECTOR)

# SLO for every phase; a phase table overrides only the keys it gives.
[slo]
min_success_percent = 100
# max_failed_loads = 0
[slo.rollout]               # also [slo.baseline] and [slo.settle]
min_success_percent = 99.5
max_failed_loads = 2        # passes when either allowance holds
"##;
