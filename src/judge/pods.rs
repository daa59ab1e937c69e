//! Per-pod attribution: what each pod answered and which failures it gave, as the pod header
//! named it, lined up with each pod's life when `--pod-events` told it.

use std::collections::BTreeMap;

use super::classify::Rules;
use crate::defaults::POD_HEADERS;
use crate::model::{Failure, Observation, PodEvents, PodLife, PodReport, Pods};

/// What the loads met of each pod, as they came.
#[derive(Default)]
pub struct PodTallies(BTreeMap<String, PodReport>);

impl PodTallies {
    pub fn take(&mut self, obs: &Observation, failures: &[Failure], rules: &Rules) {
        // What a cache or a service worker answered is not the pod's answer now.
        for r in obs.requests.iter().filter(|r| r.source.is_none()) {
            let Some(pod) = &r.pod else {
                continue;
            };
            let at = obs.started_at_ms + r.start_ms.max(0.0) as u64;
            let t = self.of(pod);
            t.answers += 1;
            if t.life.version.is_none() {
                t.life.version = r.version.clone();
            }
            widen(&mut t.first_answer_ms, &mut t.last_answer_ms, at);
            if r.status.is_some_and(|s| s < 400) {
                widen(&mut t.first_served_ms, &mut t.last_served_ms, at);
            }
        }
        for f in failures.iter().filter(|f| rules.counts(f.class)) {
            if let Some(pod) = &f.pod {
                *self.of(pod).failed.entry(f.class).or_default() += 1;
            }
        }
    }

    fn of(&mut self, pod: &str) -> &mut PodReport {
        self.0.entry(pod.to_string()).or_default()
    }

    pub fn finish(self) -> BTreeMap<String, PodReport> {
        self.0
    }
}

fn widen(first: &mut Option<u64>, last: &mut Option<u64>, at: u64) {
    *first = Some(first.map_or(at, |f| f.min(at)));
    *last = Some(last.map_or(at, |l| l.max(at)));
}

/// The pods the run met, each with its life when the events told it, and the pods the events
/// told of that no answer named; None when there is neither.
pub fn assemble(
    met: BTreeMap<String, PodReport>,
    events: Option<&PodEvents>,
    pod_header: Option<&str>,
) -> Option<Pods> {
    if met.is_empty() && events.is_none() {
        return None;
    }
    let lives: &[PodLife] = events.map_or(&[], |e| &e.lives);
    let mut pods: Vec<PodReport> = lives
        .iter()
        .map(|life| {
            let said = met.iter().filter(|(said, _)| life.named_by(said));
            let mut pod = PodReport {
                life: life.clone(),
                ..PodReport::default()
            };
            for (_, seen) in said {
                add(&mut pod, seen);
            }
            pod
        })
        .collect();
    for (said, seen) in met {
        if !lives.iter().any(|l| l.named_by(&said)) {
            let life = PodLife {
                pod: said,
                ..seen.life
            };
            pods.push(PodReport { life, ..seen });
        }
    }
    pods.sort_by_key(|p| {
        let at = (p.life.created_at_ms)
            .or(p.life.routed_at_ms)
            .or(p.first_answer_ms);
        (at.unwrap_or(u64::MAX), p.life.pod.clone())
    });
    let any = || format!("the first of {} an answer had", POD_HEADERS.join(", "));
    let header = Some(pod_header.map_or_else(any, str::to_string));
    Some(Pods {
        header,
        events: events.cloned(),
        pods,
    })
}

/// What `seen` met of a pod added to what `to` holds; the version, when `to` has none.
fn add(to: &mut PodReport, seen: &PodReport) {
    to.answers += seen.answers;
    for (class, n) in &seen.failed {
        *to.failed.entry(*class).or_default() += n;
    }
    for at in [seen.first_answer_ms, seen.last_answer_ms]
        .into_iter()
        .flatten()
    {
        widen(&mut to.first_answer_ms, &mut to.last_answer_ms, at);
    }
    for at in [seen.first_served_ms, seen.last_served_ms]
        .into_iter()
        .flatten()
    {
        widen(&mut to.first_served_ms, &mut to.last_served_ms, at);
    }
    if to.life.version.is_none() {
        to.life.version = seen.life.version.clone();
    }
}

/// The name of the pod an answer's header named (by name or address), among `pods`.
pub fn name_of<'a>(pods: &'a [PodReport], said: &'a str) -> &'a str {
    report_of(pods, said).map_or(said, |p| &p.life.pod)
}

/// The pod an answer's header named (by name or address), among `pods`.
pub fn report_of<'a>(pods: &'a [PodReport], said: &str) -> Option<&'a PodReport> {
    pods.iter().find(|p| p.life.named_by(said))
}

/// What the summary must say of the pods: that no answer named one (when the site was blamed
/// for something), or that the pod event file could not be read.
pub fn notes(pods: Option<&Pods>, blamed: bool) -> Vec<String> {
    let Some(pods) = pods else {
        return if blamed {
            vec![NO_POD_NAMED.to_string()]
        } else {
            Vec::new()
        };
    };
    let events = pods.events.as_ref();
    let unread = events.and_then(|e| Some((&e.path, e.error.as_ref()?)));
    unread
        .map(|(path, why)| format!("pod events not read from {path}: {why}"))
        .into_iter()
        .collect()
}

const NO_POD_NAMED: &str = "no response carried a pod header (X-Pod, X-Backend-Server, X-Upstream, X-Served-By): to see which pod gave each failure, and the cause when it is a pod's, add one (--pod-header; ingress-nginx: add_header X-Upstream $upstream_addr always; an app server: X-Pod with its HOSTNAME), and --pod-events or --kubectl for when pods came and went";

/// The shards' pods as one: each pod's answers and failures added up, its life as the first
/// shard that knew it told it.
pub fn merge(shards: &[&Pods]) -> Option<Pods> {
    let first = shards.first()?;
    let mut out = Pods {
        header: first.header.clone(),
        events: first.events.clone(),
        pods: Vec::new(),
    };
    for pod in shards.iter().flat_map(|s| &s.pods) {
        let Some(m) = out.pods.iter_mut().find(|m| m.life.pod == pod.life.pod) else {
            out.pods.push(pod.clone());
            continue;
        };
        add(m, pod);
        let told = |l: &PodLife| l.created_at_ms.or(l.stopping_at_ms).is_some();
        if !told(&m.life) && told(&pod.life) {
            m.life = pod.life.clone();
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FailureClass, PodEvents};

    #[test]
    fn an_ingress_naming_a_pod_by_its_address_is_lined_up_with_the_pod_of_that_ip() {
        let mut met = BTreeMap::new();
        let seen = PodReport {
            answers: 7,
            failed: [(FailureClass::HttpError, 3)].into(),
            ..PodReport::default()
        };
        // What `$upstream_addr` says: the address, or each address nginx tried.
        met.insert("10.0.0.7:8080".to_string(), seen.clone());
        met.insert("10.0.0.9:8080, 10.0.0.7:8080".to_string(), seen);
        let events = PodEvents {
            lives: vec![PodLife {
                pod: "web-7d9f8c6b5-x2x4k".into(),
                ip: Some("10.0.0.7".into()),
                ..PodLife::default()
            }],
            ..PodEvents::default()
        };
        let pods = assemble(met, Some(&events), None).unwrap();
        assert_eq!(pods.pods.len(), 1, "{pods:#?}");
        let pod = &pods.pods[0];
        assert_eq!(
            (pod.life.pod.as_str(), pod.answers),
            ("web-7d9f8c6b5-x2x4k", 14)
        );
        assert_eq!(pod.failed[&FailureClass::HttpError], 6);
        assert_eq!(name_of(&pods.pods, "10.0.0.7:8080"), "web-7d9f8c6b5-x2x4k");
        assert_eq!(name_of(&pods.pods, "10.0.0.8:8080"), "10.0.0.8:8080");
        let v6 = PodLife {
            ip: Some("fd00::7".into()),
            ..PodLife::default()
        };
        assert!(v6.named_by("[fd00::7]:8080"));
    }
}
