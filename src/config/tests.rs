use std::path::Path;
use std::time::Duration;

use clap::Parser;

use super::*;

/// `run`'s flags alone, as clap parses them.
#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    settings: Config,
}

fn flags(args: &[&str]) -> Config {
    let mut argv = vec!["rollprobe"];
    argv.extend_from_slice(args);
    Flags::try_parse_from(argv).unwrap().settings
}

fn file(text: &str) -> Config {
    parse(Path::new("s.toml"), text).unwrap()
}

#[test]
fn every_setting_is_a_flag_and_a_key_and_its_shown_value_reads_back() {
    for e in Config::default().entries() {
        assert!(flag_of_exists(e.id), "{} ({}) has no flag", e.key, e.id);
        let (table, key) = e.key.split_once('.').unwrap();
        let value = e
            .default
            .clone()
            .unwrap_or_else(|| sample(e.id).to_string());
        let line = format!("{key} = {}", toml::Value::String(value.clone()));
        let read = file(&format!("[{table}]\n{line}\n"));
        let given = read.entries().into_iter().find(|r| r.key == e.key).unwrap();
        assert_eq!(given.given, Some(value), "{line}");
    }
}

fn flag_of_exists(id: &str) -> bool {
    use clap::Args;
    Config::augment_args(clap::Command::new("t"))
        .get_arguments()
        .any(|a| a.get_id() == id && a.get_long().is_some())
}

/// A value for a setting without a default, as its flag would take it.
fn sample(id: &str) -> &'static str {
    match id {
        "rate" => "5/s",
        "loads" | "max_failed_loads" => "3",
        "block" => "images",
        "kind" => "shell",
        _ => "x",
    }
}

#[test]
fn flags_override_the_file_and_exclusive_settings_go_as_a_set() {
    let f = file(
        "[load]\nworkers = 4\nidle = \"1s\"\n[version]\nmeta = \"v\"\n[judge]\nignore = [\"a\", \"b\"]\n",
    );
    let c = flags(&["--rate", "5/s", "--version-js", "window.V", "--ignore", "c"]).over(f.clone());
    assert_eq!((c.load.workers, c.load.rate), (None, Some(Rate(5.0))));
    assert_eq!(
        c.load.idle(),
        Duration::from_secs(1),
        "the file's, no flag says"
    );
    assert_eq!(
        (c.version.meta.as_deref(), c.version.js.as_deref()),
        (None, Some("window.V"))
    );
    assert_eq!(
        c.judge.ignore,
        Some(vec!["c".to_string()]),
        "lists too: the flag's"
    );
    c.check().unwrap();

    let c = flags(&[]).over(f);
    assert_eq!(c.load.workers(), Workers::Count(4));
    assert_eq!(c.load.load_timeout(), defaults::LOAD_TIMEOUT, "the default");

    // Each side of an exclusive group drops the file's other side, both ways.
    for (given, text) in [
        (
            &["--workers", "2"][..],
            "[load]\nrate = \"2/s\"\nmax_workers = 3\n",
        ),
        (
            &["--rate", "2/s"],
            "[load]\nworkers = \"auto\"\nworkers_ceiling = 6\n",
        ),
        (
            &["--workers", "3"],
            "[load]\nworkers = \"auto\"\nworkers_ceiling = 6\n",
        ),
        (&["--duration", "1m"], "[load]\nuntil_signal = true\n"),
        (&["--until-signal"], "[load]\nduration = \"1m\"\n"),
        (&["--insecure"], "[request]\ntrust_cert = [\"a.pem\"]\n"),
        (&["--trust-cert", "a.pem"], "[request]\ninsecure = true\n"),
        (&["--version-meta", "v"], "[version]\njs = \"window.V\"\n"),
    ] {
        let merged = flags(given).over(file(text));
        assert!(merged.check().is_ok(), "{given:?} over {text:?}");
    }
    // A flag settles what the file alone cannot: the rules apply to the merged settings.
    let f = file("[load]\nidle = \"40s\"\n");
    assert!(f.clone().check().is_err());
    flags(&["--load-timeout", "60s"]).over(f).check().unwrap();
}

#[test]
fn values_say_where_each_came_from() {
    let f = file("[load]\nidle = \"1s\"\n");
    let given = flags(&["--workers", "3"]);
    let c = given.clone().over(f);
    let values = c.values(&given);
    let find = |key: &str| values.iter().find(|v| v.key == key).unwrap().clone();
    let workers = find("load.workers");
    assert_eq!(
        (
            workers.flag.as_str(),
            workers.value.as_deref(),
            workers.from
        ),
        ("--workers", Some("3"), SettingSource::Flag)
    );
    assert_eq!(find("load.idle").from, SettingSource::File);
    assert_eq!(find("load.load_timeout").value.as_deref(), Some("30s"));
    assert_eq!(find("load.load_timeout").from, SettingSource::Default);
    assert_eq!(find("load.rate").from, SettingSource::Unset);
    let short = flags(&["--load-timeout", "4s"]);
    let long_request = short
        .values(&short)
        .into_iter()
        .find(|v| v.key == "load.long_request");
    assert_eq!(
        long_request.unwrap().value.as_deref(),
        Some("2s"),
        "the default that applied: half a short load timeout"
    );
    assert_eq!(find("slo.min_success_percent").flag, "--slo");
    assert_eq!(values.len(), Config::default().entries().len());
}

#[test]
fn rules_name_the_flag_and_the_key() {
    let e = flags(&["--workers", "2", "--rate", "1/s"])
        .check()
        .unwrap_err()
        .0;
    assert!(
        e.contains("--workers (`[load] workers`) and --rate (`[load] rate`) exclude each other"),
        "{e}"
    );
    let e = flags(&["--idle", "40s"]).check().unwrap_err().0;
    assert!(
        e.contains("--idle (`[load] idle`) 40s cannot end a load within its 30s timeout"),
        "{e}"
    );
    let c = flags(&["--load-timeout", "4s"]);
    assert_eq!(
        c.long_request(),
        Duration::from_secs(2),
        "half a short load timeout"
    );
    let e = flags(&["--until-signal", "--duration", "1m"])
        .check()
        .unwrap_err()
        .0;
    assert!(e.contains("exclude each other"), "{e}");
    let e = flags(&["--context", "per-worker", "--rate", "2/s"])
        .check()
        .unwrap_err()
        .0;
    assert!(e.contains("no workers to keep a context for"), "{e}");
    assert!(
        file("[load]\ncontext = \"per-worker\"\nworkers = 3\n")
            .check()
            .is_ok()
    );
    let e = flags(&["--prompt-text", "Ada"]).check().unwrap_err().0;
    assert!(e.contains("add --dialogs (`[load] dialogs`) accept"), "{e}");
    flags(&["--prompt-text", "Ada", "--dialogs", "accept"])
        .check()
        .unwrap();
    let e = flags(&["--loads", "0"]).check().unwrap_err().0;
    assert!(
        e.contains("--loads (`[load] loads`) 0 would measure nothing"),
        "{e}"
    );
}

#[test]
fn help_names_each_key_and_default() {
    use clap::CommandFactory;
    let mut cmd = keys_and_defaults_in_help(Flags::command());
    let help = cmd.render_help().to_string();
    assert!(
        help.contains("[file: load.idle] [default: 500ms]"),
        "{help}"
    );
    assert!(help.contains("[file: version.header]"), "{help}");
}
