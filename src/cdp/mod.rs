//! The DevTools protocol, spoken directly: a browser launched with its debugging pipe
//! ([`launch`]), one [`Connection`] that routes replies and events by session, and the pages
//! rollprobe opens on it ([`Page`]). The typed messages come from `chromiumoxide_cdp`.
//!
//! Why not a client library's page model: the load path has to follow the browser's own events
//! (same-document navigations at any moment, new documents mid-journey, workers and service
//! workers attached to the page, dialogs), and a library that keeps its own books of frames and
//! navigations stalls when those books disagree with the browser (chromiumoxide 0.9.1 never
//! completes a `Page.navigate` when a router calls `history.replaceState` right after `load`).
//! Owning the session also means a page gets exactly the domains a load needs, sent at once.

mod connection;
mod launch;
mod page;

pub use connection::{Connection, Event};
pub use launch::{Launched, launch};
pub use page::Page;
