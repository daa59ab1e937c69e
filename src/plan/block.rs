//! `--block`: resource kinds the browser does not fetch, to spend the budget on what breaks
//! deployments.

use crate::config::Block;

impl Block {
    /// URLPattern strings by file extension: cheap (no interception round trip per request),
    /// at the price of missing extension-less URLs.
    pub fn patterns(self) -> Vec<String> {
        let extensions: &[&str] = match self {
            Block::Images => &[
                "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp",
            ],
            Block::Fonts => &["woff", "woff2", "ttf", "otf", "eot"],
            Block::Media => &[
                "mp4", "webm", "ogg", "ogv", "mp3", "wav", "m4a", "m3u8", "mpd",
            ],
        };
        extensions
            .iter()
            .flat_map(|ext| [format!("*://*:*/*.{ext}"), format!("*://*:*/*.{ext}?*")])
            .collect()
    }
}
