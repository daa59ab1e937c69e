//! The start URLs of a run: the one check a URL gets before it is probed, and how loads are
//! spread over several.

mod url;

pub use url::{BadUrl, check as check_url};

/// Start URLs with weights. Loads take them in turn, each as often as its weight says, so a
/// run's mix is exact rather than random.
#[derive(Clone, Debug)]
pub struct Targets {
    cycle: Vec<String>,
    urls: Vec<String>,
}

impl Targets {
    /// `list` holds at least one URL; weights are at least 1.
    pub fn new(list: &[(String, u32)]) -> Targets {
        let cycle = list
            .iter()
            .flat_map(|(url, weight)| std::iter::repeat_n(url.clone(), (*weight).max(1) as usize))
            .collect();
        Targets {
            cycle,
            urls: list.iter().map(|(url, _)| url.clone()).collect(),
        }
    }

    pub fn single(url: &str) -> Targets {
        Targets::new(&[(url.to_string(), 1)])
    }

    /// The URL load number `id` opens.
    pub fn pick(&self, id: u64) -> &str {
        &self.cycle[(id % self.cycle.len() as u64) as usize]
    }

    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Several start URLs: each load then says which it opened.
    pub fn several(&self) -> bool {
        self.urls.len() > 1
    }

    /// How reports name the target: the URL, or the URLs joined.
    pub fn describe(&self) -> String {
        self.urls.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_follow_the_weights() {
        let t = Targets::new(&[("a".into(), 3), ("b".into(), 1)]);
        let picks: Vec<&str> = (0..8).map(|i| t.pick(i)).collect();
        assert_eq!(picks, ["a", "a", "a", "b", "a", "a", "a", "b"]);
        assert_eq!(t.describe(), "a, b");
    }
}
