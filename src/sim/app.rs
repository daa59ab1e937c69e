//! The demo SPA, generated the way a bundler (Vite, webpack) emits it:
//! content-hashed file names, so each version references files that only
//! exist in that version's build.

pub const VERSIONS: [&str; 2] = ["v1", "v2"];

pub struct Asset {
    pub path: String,
    pub content_type: &'static str,
    pub body: String,
}

pub struct Bundle {
    pub index_html: String,
    /// Entry script, stylesheet, the chunk imported at start and the one a click imports.
    pub assets: Vec<Asset>,
}

pub fn bundle(version: &'static str) -> Bundle {
    let color = if version == "v1" {
        "#1d4ed8"
    } else {
        "#047857"
    };
    let chunk = asset(
        "chunk",
        "js",
        format!(
            "export function render(root) {{\n  root.querySelector('#greeting').textContent = 'Hello from {version}';\n  document.documentElement.dataset.rendered = '{version}';\n}}\n"
        ),
    );
    // A route reached only by clicking: its chunk is fetched on the click, so only a journey
    // that clicks meets a cross-version miss there.
    let reports = asset(
        "reports",
        "js",
        format!(
            "export function render(root) {{\n  const done = document.createElement('p');\n  done.id = 'reports-ready';\n  done.textContent = 'Reports of {version}';\n  root.append(done);\n}}\n"
        ),
    );
    // The import() right after start mirrors route-level code splitting: a
    // mixed-version rollout breaks it after the page itself loaded fine.
    let entry = asset(
        "index",
        "js",
        format!(
            "const root = document.getElementById('app');\nroot.dataset.booted = '{version}';\nimport('{}').then((m) => m.render(root));\ndocument.getElementById('open-reports').addEventListener('click', (e) => {{\n  e.preventDefault();\n  history.pushState(null, '', '/reports');\n  import('{}').then((m) => m.render(root));\n}});\n",
            chunk.path, reports.path
        ),
    );
    let css = asset(
        "index",
        "css",
        format!(
            "body {{ font-family: system-ui, sans-serif; margin: 2rem; }}\n#app {{ color: {color}; }} /* {version} */\n"
        ),
    );
    let index_html = format!(
        "<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"app-version\" content=\"{version}\">\n<title>rollprobe demo {version}</title>\n<link rel=\"stylesheet\" href=\"{}\">\n<script type=\"module\" src=\"{}\"></script>\n</head>\n<body>\n<div id=\"app\"><h1>rollprobe demo</h1><p id=\"greeting\">loading {version}</p><a id=\"open-reports\" href=\"/reports\">Reports</a></div>\n</body>\n</html>\n",
        css.path, entry.path
    );
    Bundle {
        index_html,
        assets: vec![entry, css, chunk, reports],
    }
}

fn asset(stem: &str, ext: &str, body: String) -> Asset {
    let content_type = if ext == "js" {
        "text/javascript; charset=utf-8"
    } else {
        "text/css; charset=utf-8"
    };
    Asset {
        path: format!("/assets/{stem}-{}.{ext}", content_hash(body.as_bytes())),
        content_type,
        body,
    }
}

/// FNV-1a: stable across Rust releases, unlike `DefaultHasher`.
fn content_hash(data: &[u8]) -> String {
    let hash = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")[..8].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_reference_their_own_hashed_assets() {
        let [v1, v2] = VERSIONS.map(bundle);
        for (version, b) in VERSIONS.iter().zip([&v1, &v2]) {
            assert!(b.index_html.contains(&format!("content=\"{version}\"")));
            assert!(b.index_html.contains(&b.assets[0].path));
            assert!(b.index_html.contains(&b.assets[1].path));
            assert!(b.assets[0].body.contains(&b.assets[2].path));
        }
        for (a, b) in v1.assets.iter().zip(&v2.assets) {
            assert_ne!(a.path, b.path);
        }
        assert_eq!(
            bundle("v1").assets[2].path,
            v1.assets[2].path,
            "hashes are stable"
        );
    }
}
