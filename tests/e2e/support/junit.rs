//! JUnit reports read back the way a CI test-report page reads them: suites, their counts, and
//! their testcases with what failed and why.

#[derive(Debug, PartialEq)]
pub struct Suite {
    pub name: String,
    pub tests: usize,
    pub failures: usize,
    pub errors: usize,
    pub cases: Vec<Case>,
}

#[derive(Debug, PartialEq)]
pub struct Case {
    pub name: String,
    pub classname: Option<String>,
    /// The testcase's `<failure>` or `<error>`, if any.
    pub problem: Option<Problem>,
}

#[derive(Debug, PartialEq)]
pub struct Problem {
    /// `failure` or `error`.
    pub kind: String,
    pub ty: String,
    pub message: String,
}

/// Every testsuite in document order. Panics on anything a CI page could not read: malformed
/// XML, a suite without its name or counts, a failure or error without its type or message.
pub fn suites(xml: &str) -> Vec<Suite> {
    let doc = roxmltree::Document::parse(xml).expect("the JUnit report is well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|suite| {
            let attr = |name: &str| {
                suite
                    .attribute(name)
                    .unwrap_or_else(|| panic!("testsuite without {name}"))
            };
            let count = |name: &str| {
                attr(name)
                    .parse()
                    .unwrap_or_else(|_| panic!("testsuite {name}={:?} is not a count", attr(name)))
            };
            Suite {
                name: attr("name").to_string(),
                tests: count("tests"),
                failures: count("failures"),
                errors: count("errors"),
                cases: suite
                    .children()
                    .filter(|c| c.has_tag_name("testcase"))
                    .map(case)
                    .collect(),
            }
        })
        .collect()
}

fn case(node: roxmltree::Node) -> Case {
    let name = node.attribute("name").expect("testcase without name");
    let problem = node
        .children()
        .find(|c| c.has_tag_name("failure") || c.has_tag_name("error"))
        .map(|p| {
            let attr = |a: &str| {
                p.attribute(a)
                    .unwrap_or_else(|| panic!("{} of {name:?} without {a}", p.tag_name().name()))
                    .to_string()
            };
            Problem {
                kind: p.tag_name().name().to_string(),
                ty: attr("type"),
                message: attr("message"),
            }
        });
    Case {
        name: name.to_string(),
        classname: node.attribute("classname").map(str::to_string),
        problem,
    }
}

impl Case {
    /// Has a `<failure>` (not an `<error>`).
    pub fn failed(&self) -> bool {
        self.problem.as_ref().is_some_and(|p| p.kind == "failure")
    }
}

impl Suite {
    pub fn failed_cases(&self) -> impl Iterator<Item = &Case> {
        self.cases.iter().filter(|c| c.failed())
    }

    pub fn failed_case_names(&self) -> Vec<&str> {
        self.failed_cases().map(|c| c.name.as_str()).collect()
    }

    /// The failure message of the failing testcase `name`; panics when no such testcase fails.
    pub fn failure_message(&self, name: &str) -> &str {
        self.failed_cases()
            .find(|c| c.name == name)
            .and_then(|c| c.problem.as_ref())
            .map(|p| p.message.as_str())
            .unwrap_or_else(|| panic!("failing testcase {name:?} in {:?}", self.name))
    }
}
