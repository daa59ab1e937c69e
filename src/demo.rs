//! `rollprobe demo`: the product in one command, without a cluster. Probes a naive rollout, the
//! same rollout behind an SPA fallback, and a fixed one on the embedded simulator and shows the
//! three verdicts side by side: the simulator, one [`crate::run::run`] per rollout, the reports
//! of each in their own folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use futures::FutureExt;

use crate::config::{self, Config, Workers};
use crate::model::{EXIT_PASS, EXIT_SITE_FAILED, Report, Status};
use crate::plan::{Invocation, Plan};
use crate::report::Outputs;
use crate::report::text;
use crate::run::{self, DeployPlan, Deployment, Driver};
use crate::signals;
use crate::sim::{App, Mode, SimConfig, Simulator};

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  rollprobe demo --out ./rollprobe-demo\n  # your own app, built twice:\n  rollprobe demo --builds ./dist-v1 ./dist-v2"
)]
pub struct DemoArgs {
    /// Where the runs' reports go
    #[arg(long, default_value = "rollprobe-demo")]
    pub out: PathBuf,

    /// Browser users per run
    #[arg(short, long, default_value_t = 3)]
    pub workers: u16,

    /// How long each simulated rollout takes, in seconds
    #[arg(long, default_value_t = 10)]
    pub rollout: u64,

    #[arg(long, env = "CHROMIUM", value_name = "PATH", help = format!(
        "Chromium or Chrome executable [default: {}]",
        crate::browser::DEFAULT_SHOWN
    ))]
    pub chromium: Option<PathBuf>,

    /// Roll out your own app instead of the built-in one: two build output directories (v1
    /// then v2), each with index.html at its root
    #[arg(long, num_args = 2, value_names = ["V1_DIR", "V2_DIR"])]
    pub builds: Option<Vec<PathBuf>>,

    /// No live progress output
    #[arg(short, long)]
    pub quiet: bool,
}

/// Short phases: the demo is for watching, and each run takes about 20 s.
const BASELINE: Duration = Duration::from_secs(5);
const SETTLE: Duration = Duration::from_secs(3);
/// Users who had the app open before the rollout, a round every 2 s to fit the short phases.
const OPEN_TABS: usize = 2;
const OPEN_TAB_EVERY: Duration = Duration::from_secs(2);

struct DemoRun {
    mode: Mode,
    title: &'static str,
    /// What a newcomer should see; any other verdict is a bug in rollprobe.
    expect: Status,
}

/// The classic failure, the same failure with its 404s hidden, and the fix.
const RUNS: [DemoRun; 3] = [
    DemoRun {
        mode: Mode::Naive,
        title: "naive rollout",
        expect: Status::Fail,
    },
    DemoRun {
        mode: Mode::SpaFallback,
        title: "naive rollout behind an SPA fallback",
        expect: Status::Fail,
    },
    DemoRun {
        mode: Mode::SharedAssets,
        title: "shared-assets rollout",
        expect: Status::Pass,
    },
];

pub async fn demo(args: DemoArgs) -> Result<i32> {
    let app = Arc::new(crate::sim::cli_app(args.builds.as_deref())?);
    let signal = signals::stop_on_signals()?;
    let mut reports = Vec::new();
    for DemoRun { mode, title, .. } in RUNS {
        if *signal.borrow() {
            break;
        }
        eprintln!(
            "== {title}: baseline {} s, a {} s rollout of 3 pods v1 -> v2, settle {} s",
            BASELINE.as_secs(),
            args.rollout,
            SETTLE.as_secs()
        );
        let dir = args.out.join(mode_dir(mode));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let report = probe_rollout(&args, &app, mode, &dir, signal.clone()).await?;
        reports.push((title, dir, report));
    }
    print!("{}", side_by_side(&reports));
    let verdicts: Vec<Status> = reports.iter().map(|(_, _, r)| r.verdict.status).collect();
    Ok(closing(&verdicts, &args.out))
}

/// Prints what the verdicts show; the exit code says whether they were the expected ones.
fn closing(verdicts: &[Status], out: &Path) -> i32 {
    if verdicts.iter().copied().eq(RUNS.iter().map(|r| r.expect)) {
        println!(
            "\nThe naive rollout hurt users, and so did the same rollout behind an SPA fallback: the \
             missing scripts and stylesheets came back 200 as index.html instead of 404, and the pages \
             broke all the same. The shared-assets rollout hurt no one. The dead analytics host \
             failed before every rollout too: judged against the baseline, it decided nothing. \
             Reports are under {}/.",
            out.display()
        );
        return EXIT_PASS;
    }
    let runs: Vec<String> = RUNS
        .iter()
        .enumerate()
        .map(|(i, run)| {
            let got = verdicts.get(i).map_or("not run", |v| text::status_word(*v));
            let want = text::status_word(run.expect);
            let note = if got == want {
                String::new()
            } else {
                format!(" (expected {want})")
            };
            format!("{} {got}{note}", run.title)
        })
        .collect();
    println!("\nUnexpected verdicts: {}.", runs.join(", "));
    EXIT_SITE_FAILED
}

async fn probe_rollout(
    args: &DemoArgs,
    app: &Arc<App>,
    mode: Mode,
    dir: &Path,
    signal: tokio::sync::watch::Receiver<bool>,
) -> Result<Report> {
    let sim = Arc::new(
        Simulator::start(SimConfig {
            mode,
            rollout: Duration::from_secs(args.rollout),
            auto_start: false,
            // The simulator outlives the probe; the demo shuts it down itself.
            after: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(900),
            events_jsonl: Some(dir.join("pod-events.jsonl")),
            quiet: true,
            app: app.clone(),
            // A dead analytics host, as real sites have: failing before the rollout, it is
            // listed apart and decides none of the verdicts.
            dead_third_party: true,
            ..SimConfig::default()
        })
        .await?,
    );
    let plan = Plan::resolve(&Invocation {
        url: Some(sim.url()),
        flags: flags(args, dir),
        // The evidence of each run beside its reports: report-artifacts/.
        first_report_file: Some(dir.join("report.json")),
        ..Invocation::default()
    })?
    .around_own_deploy();
    let rolling = sim.clone();
    let deploy = DeployPlan {
        deployment: Deployment::InProcess {
            description: format!("simulated {} rollout", mode_dir(mode)),
            rollout: async move {
                rolling.start_rollout();
                rolling.wait_rollout_done().await;
            }
            .boxed(),
        },
        baseline: BASELINE,
        settle: SETTLE,
    };
    let report = run::run(plan, Driver::Deploy(deploy), signal, !args.quiet).await;
    if let Ok(sim) = Arc::try_unwrap(sim) {
        sim.shutdown().await;
    }
    let report = report?;
    let errors = Outputs {
        json: Some(dir.join("report.json")),
        junit: Some(dir.join("report.xml")),
        html: Some(dir.join("report.html")),
    }
    .check()?
    .write(&report);
    if let Some(e) = errors.first() {
        anyhow::bail!("{e}");
    }
    Ok(report)
}

/// What the demo sets, as flags would: versions from the simulator's header, v2 expected at
/// the end, tabs kept open across the rollout, and the pods' lives from the simulator's events.
fn flags(args: &DemoArgs, dir: &Path) -> Config {
    Config {
        load: config::Load {
            workers: Some(Workers::Count(usize::from(args.workers))),
            ..Default::default()
        },
        version: config::Version {
            header: Some("X-App-Version".into()),
            expect: Some("v2".into()),
            ..Default::default()
        },
        browser: config::Browser {
            chromium: args.chromium.clone(),
            ..Default::default()
        },
        open_tabs: config::OpenTabs {
            count: Some(OPEN_TABS),
            every: Some(OPEN_TAB_EVERY),
            ..Default::default()
        },
        pods: config::Pods {
            events: Some(dir.join("pod-events.jsonl")),
            ..Default::default()
        },
        ..Config::default()
    }
}

fn mode_dir(mode: Mode) -> &'static str {
    match mode {
        Mode::Naive => "naive",
        Mode::SpaFallback => "spa-fallback",
        Mode::SharedAssets => "shared-assets",
        Mode::Steady => "steady",
        Mode::NoReadiness => "no-readiness",
        Mode::NoDrain => "no-drain",
        Mode::Slow => "slow",
    }
}

/// One run's column: verdict, loads per phase, classes, versions, the first culprits, and
/// what failed before the deployment already (not counted).
fn column(r: &Report, dir: &Path) -> Vec<String> {
    let s = &r.summary;
    let pre: u64 = r.phases.iter().map(|p| p.pre_existing_only).sum();
    let mut rows = vec![
        text::status_word(r.verdict.status).to_string(),
        format!("{} loads, {} failed", s.loads, s.failed - pre),
    ];
    for p in &r.phases {
        rows.push(format!(
            "{:<8} {:>3} loads {:>3} failed",
            p.phase.as_str(),
            p.summary.loads,
            p.summary.failed - p.pre_existing_only
        ));
    }
    let path = |url: &str| url::Url::parse(url).map_or(url.to_string(), |u| u.path().to_string());
    let culprits: Vec<_> = s
        .failing_resources
        .iter()
        .filter(|f| r.counted(None, f.class, &f.url))
        .collect();
    let classes: Vec<String> = s
        .failed_loads_by_class
        .iter()
        .filter(|(c, _)| culprits.iter().any(|f| f.class == **c))
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    rows.push(if classes.is_empty() {
        "no failure".into()
    } else {
        classes.join(", ")
    });
    let mixed = r.versions.as_ref().and_then(|v| v.mixed_window).map_or(
        "versions never mixed".to_string(),
        |w| {
            format!(
                "v1+v2 mixed for {:.1}s",
                w.end_unix_ms.saturating_sub(w.start_unix_ms) as f64 / 1000.0
            )
        },
    );
    rows.push(mixed);
    if let Some(tabs) = &r.open_tabs {
        let rounds: u64 = tabs.phases.iter().map(|p| p.rounds).sum();
        let failed: u64 = tabs
            .phases
            .iter()
            .map(|p| p.failed - p.pre_existing_only)
            .sum();
        rows.push(format!("open tabs: {failed} of {rounds} rounds failed"));
    }
    for f in culprits.into_iter().take(3) {
        let by = if f.versions.is_empty() {
            String::new()
        } else {
            format!(" answered by {}", f.versions.join("+"))
        };
        rows.push(format!("{} {}{by} x{}", f.how(), path(&f.url), f.count));
    }
    let before = r.baseline.iter().flat_map(|c| &c.failures);
    for f in before.filter(|f| f.pre_existing() && !f.changed()).take(1) {
        rows.push(format!("before it too: {} {}", f.class, path(&f.url)));
    }
    rows.push(format!("{}/report.json", dir.display()));
    rows
}

/// The runs as columns: what a newcomer compares at a glance.
fn side_by_side(reports: &[(&str, PathBuf, Report)]) -> String {
    let columns: Vec<(String, Vec<String>)> = reports
        .iter()
        .map(|(title, dir, r)| (title.to_string(), column(r, dir)))
        .collect();
    // Each column as wide as its widest line, so a long one never runs into its neighbour.
    let widths: Vec<usize> = columns
        .iter()
        .map(|(title, rows)| {
            let widest = rows.iter().chain([title]).map(|c| c.chars().count());
            widest.max().unwrap_or(0) + 3
        })
        .collect();
    let height = columns
        .iter()
        .map(|(_, rows)| rows.len())
        .max()
        .unwrap_or(0);
    let mut out = String::from("\n");
    for i in 0..=height {
        for ((title, rows), width) in columns.iter().zip(&widths) {
            let cell = if i == 0 {
                title.clone()
            } else {
                rows.get(i - 1).cloned().unwrap_or_default()
            };
            out.push_str(&format!("{cell:<width$}"));
        }
        out = out.trim_end().to_string();
        out.push('\n');
    }
    for (title, _, r) in reports {
        for c in &r.causes {
            let cause = crate::report::causes::cause_line(c);
            out.push_str(&format!("\n{title}, cause: {cause}\n  fix: {}", c.fix));
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::{Fail, Pass};

    #[test]
    fn only_both_naive_runs_failing_and_the_fix_passing_is_the_expected_outcome() {
        let out = Path::new("rollprobe-demo");
        assert_eq!(closing(&[Fail, Fail, Pass], out), EXIT_PASS);
        // The SPA fallback hiding the misses from the prober, and an interrupted demo.
        assert_eq!(closing(&[Fail, Pass, Pass], out), EXIT_SITE_FAILED);
        assert_eq!(closing(&[Fail, Fail], out), EXIT_SITE_FAILED);
    }
}
