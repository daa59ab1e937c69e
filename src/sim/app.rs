//! What the pods serve: the demo SPA, generated the way a bundler (Vite, webpack) emits it, or
//! two builds of the user's own app read from disk (`--builds`). Either way content-hashed
//! file names, so each version references files that only exist in that version's build.

use std::path::{Path, PathBuf};

use anyhow::Context;

pub const VERSIONS: [&str; 2] = ["v1", "v2"];

#[derive(Clone, Debug)]
pub struct Asset {
    pub path: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug)]
pub struct Bundle {
    pub index_html: Vec<u8>,
    /// Every other file of the build, each at the paths it is served at.
    pub assets: Vec<Asset>,
}

/// The two builds a rollout moves between: v1's, then v2's.
#[derive(Clone, Debug)]
pub struct App {
    builds: [Bundle; 2],
}

impl App {
    /// The built-in demo SPA.
    pub fn demo() -> App {
        App {
            builds: VERSIONS.map(bundle),
        }
    }

    /// Two build output directories (what `vite build`, `next build` with `output: 'export'`,
    /// `ng build` or SvelteKit's static adapter write), each with an `index.html` at its root.
    pub fn from_dirs(v1: &Path, v2: &Path) -> anyhow::Result<App> {
        Ok(App {
            builds: [read_build(v1)?, read_build(v2)?],
        })
    }

    /// The same builds, `html` added to each one's index.html at the end of its head.
    pub fn with_head(&self, html: &str) -> App {
        let mut app = self.clone();
        for build in &mut app.builds {
            let page = String::from_utf8_lossy(&build.index_html);
            let at = page.find("</head>").unwrap_or(0);
            build.index_html = format!("{}{html}{}", &page[..at], &page[at..]).into_bytes();
        }
        app
    }

    pub fn build(&self, version: &str) -> &Bundle {
        &self.builds[usize::from(version != VERSIONS[0])]
    }

    pub fn all(&self) -> &[Bundle; 2] {
        &self.builds
    }
}

/// A build directory as a static file server with clean URLs serves it: every file at its
/// path, and a page `reports.html` or `reports/index.html` also at `/reports` (how Next.js and
/// SvelteKit static exports, and the hosts they are made for, link their pages).
fn read_build(dir: &Path) -> anyhow::Result<Bundle> {
    let index = dir.join("index.html");
    let index_html = std::fs::read(&index).with_context(|| {
        format!(
            "{} is not a build directory: no index.html at its root",
            dir.display()
        )
    })?;
    let mut files = Vec::new();
    walk(dir, &mut files).with_context(|| format!("reading the build in {}", dir.display()))?;
    files.sort();
    let mut assets = Vec::new();
    let mut clean = Vec::new();
    for file in files {
        let rel = file.strip_prefix(dir).expect("walked under dir");
        let path = format!("/{}", rel.to_string_lossy());
        let body = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        if let Some(page) = path.strip_suffix("/index.html") {
            if !page.is_empty() {
                clean.push((format!("{page}/"), body.clone()));
                clean.push((page.to_string(), body.clone()));
            }
        } else if let Some(page) = path.strip_suffix(".html") {
            clean.push((page.to_string(), body.clone()));
        }
        assets.push(Asset {
            content_type: content_type(&path),
            path,
            body,
        });
    }
    // Files come sorted, so a page file comes before a folder's index for the same clean URL
    // and wins (Next.js writes both `reports.html` and a `reports/` folder of payloads).
    for (path, body) in clean {
        if !assets.iter().any(|a| a.path == path) {
            assets.push(Asset {
                path,
                content_type: "text/html; charset=utf-8",
                body,
            });
        }
    }
    Ok(Bundle { index_html, assets })
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

/// The `Content-Type` a static server gives a file, by its extension.
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map_or("", |(_, ext)| ext);
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

fn bundle(version: &'static str) -> Bundle {
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
        index_html: index_html.into_bytes(),
        assets: vec![entry, css, chunk, reports],
    }
}

fn asset(stem: &str, ext: &str, body: String) -> Asset {
    let path = format!("/assets/{stem}-{}.{ext}", content_hash(body.as_bytes()));
    Asset {
        content_type: content_type(&path),
        path,
        body: body.into_bytes(),
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
        let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).unwrap();
        for (version, b) in VERSIONS.iter().zip([&v1, &v2]) {
            let html = text(&b.index_html);
            assert!(html.contains(&format!("content=\"{version}\"")));
            assert!(html.contains(&b.assets[0].path));
            assert!(html.contains(&b.assets[1].path));
            assert!(text(&b.assets[0].body).contains(&b.assets[2].path));
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
