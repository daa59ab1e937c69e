//! The recorded no-readiness rollout (tests/fixtures/record.sh) judged with its pods' lives
//! from each file shape: the simulator's events, and what kubectl would have written.

use std::path::PathBuf;

use crate::judge::{fixtures, judge_record};
use crate::model::{CauseKind, PodLife, Sure};

fn file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pods")
        .join(name)
}

#[test]
fn each_shape_tells_the_same_lives() {
    let read = |name: &str| {
        let events = super::read(&file(name));
        assert_eq!(events.error, None, "{name}");
        events
    };
    let sim = read("no-readiness.jsonl");
    assert_eq!(sim.format.as_deref(), Some("simulator"));
    let pods = read("no-readiness.kubectl-pods.json");
    assert_eq!(pods.format.as_deref(), Some("kubectl pods"));
    let events = read("no-readiness.kubectl-events.json");
    assert_eq!(events.format.as_deref(), Some("kubectl events"));
    let names = |lives: &[PodLife]| lives.iter().map(|l| l.pod.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&sim.lives),
        ["v1-a", "v1-b", "v1-c", "v2-a", "v2-b", "v2-c"]
    );
    assert_eq!(names(&pods.lives), names(&sim.lives));
    assert_eq!(names(&events.lives), names(&sim.lives));
    // Kubernetes writes its times to the second: each within a second of the simulator's.
    for (s, k) in sim.lives.iter().zip(&pods.lives) {
        assert_eq!(s.version, k.version, "{}", s.pod);
        for (a, b) in [
            (s.created_at_ms, k.created_at_ms),
            (s.ready_at_ms, k.ready_at_ms),
            (s.stopping_at_ms, k.stopping_at_ms),
        ] {
            let near = match (a, b) {
                (Some(a), Some(b)) => a >= b && a - b < 1000,
                (a, b) => a == b,
            };
            assert!(near, "{}: {a:?} vs {b:?}", s.pod);
        }
    }
    assert!(
        events
            .lives
            .iter()
            .all(|l| l.created_at_ms.is_some() && l.ready_at_ms.is_none())
    );
    assert_eq!(
        events.lives[3].version.as_deref(),
        Some("v2"),
        "by its ReplicaSet's name"
    );
}

#[test]
fn the_same_causes_from_the_simulator_and_from_kubectl() {
    let record = fixtures::record("no-readiness");
    for (name, sure) in [
        ("no-readiness.jsonl", Sure::Certain),
        ("no-readiness.kubectl-pods.json", Sure::Certain),
        // Events say when a pod started, not when it was ready: its first good answer does.
        ("no-readiness.kubectl-events.json", Sure::Likely),
    ] {
        let mut record = record.clone();
        record.facts.pod_events = Some(super::read(&file(name)));
        let report = judge_record(&record);
        let counted = report
            .failures
            .iter()
            .filter(|f| report.settings.counts(f.class));
        let failed = counted.count() as u64;
        assert_eq!(report.causes.len(), 1, "{name}: {:#?}", report.causes);
        let c = &report.causes[0];
        assert_eq!(
            (c.cause, c.sure),
            (CauseKind::NotReady, sure),
            "{name}: {c:?}"
        );
        assert_eq!(c.pods, ["v2-a", "v2-b", "v2-c"], "{name}");
        assert_eq!(c.failures, failed, "{name}: every failure explained: {c:?}");
    }
}

#[test]
fn what_is_not_a_pod_event_file_says_so() {
    let (format, lives) = super::parse("").unwrap();
    assert_eq!((format, lives.len()), ("empty", 0));
    let err = super::parse(r#"{"hello": "world"}"#).unwrap_err();
    assert!(
        err.contains("neither the simulator's events nor kubectl's"),
        "{err}"
    );
    let err = super::parse("{not json").unwrap_err();
    assert!(err.starts_with("not JSON values"), "{err}");
    // A watch stopped mid-object: what came before stands.
    let text = std::fs::read_to_string(file("no-readiness.kubectl-pods.json")).unwrap();
    let (format, lives) = super::parse(&text[..text.len() - 40]).unwrap();
    assert_eq!((format, lives.len()), ("kubectl pods", 6));
    let missing = super::read(&file("no-such-file.json"));
    assert!(missing.error.unwrap().starts_with("reading "));
}

#[test]
fn an_ingress_naming_pods_by_address_gets_the_same_causes() {
    // What ingress-nginx's `$upstream_addr` says instead of a name, with the pods' addresses
    // from a kubectl pods file.
    // v1-a is 10.0.1.1, v2-c 10.0.2.3.
    let address = |pod: &str| {
        let b = pod.as_bytes();
        format!("10.0.{}.{}:8080", b[1] - b'0', b[3] - b'a' + 1)
    };
    let mut record = fixtures::record("no-readiness");
    for obs in &mut record.observations {
        for r in &mut obs.requests {
            r.pod = r.pod.as_deref().map(address);
        }
    }
    let mut events = super::read(&file("no-readiness.kubectl-pods.json"));
    for life in &mut events.lives {
        life.ip = Some(address(&life.pod).trim_end_matches(":8080").to_string());
    }
    record.facts.pod_events = Some(events);
    let report = judge_record(&record);
    assert_eq!(report.causes.len(), 1, "{:#?}", report.causes);
    let c = &report.causes[0];
    assert_eq!(
        (c.cause, c.sure),
        (CauseKind::NotReady, Sure::Certain),
        "{c:?}"
    );
    assert_eq!(c.pods, ["v2-a", "v2-b", "v2-c"]);

    // A pod event file that cannot be read is said in the notes.
    record.facts.pod_events = Some(super::read(&file("no-such-file.json")));
    let notes = judge_record(&record).notes;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("pod events not read from ")),
        "{notes:?}"
    );
}
