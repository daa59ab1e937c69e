//! The page events a load listens to, merged into one stream.

use std::sync::Arc;

use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
};
use chromiumoxide::cdp::browser_protocol::page::EventLifecycleEvent;
use chromiumoxide::cdp::js_protocol::runtime::{EventConsoleApiCalled, EventExceptionThrown};
use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};

/// The page events a load listens to, merged into one stream. Types come through separate
/// channels, so their relative order is not kept: everything is keyed by request id.
pub(super) enum PageEvent {
    Sent(Arc<EventRequestWillBeSent>),
    Response(Arc<EventResponseReceived>),
    Finished(Arc<EventLoadingFinished>),
    Failed(Arc<EventLoadingFailed>),
    Lifecycle(Arc<EventLifecycleEvent>),
    Exception(Arc<EventExceptionThrown>),
    Console(Arc<EventConsoleApiCalled>),
    Crashed,
}

pub(super) async fn subscribe(
    page: &Page,
) -> chromiumoxide::Result<SelectAll<BoxStream<'static, PageEvent>>> {
    let mut all = SelectAll::new();
    all.push(
        page.event_listener::<EventRequestWillBeSent>()
            .await?
            .map(PageEvent::Sent)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventResponseReceived>()
            .await?
            .map(PageEvent::Response)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventLoadingFinished>()
            .await?
            .map(PageEvent::Finished)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventLoadingFailed>()
            .await?
            .map(PageEvent::Failed)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventLifecycleEvent>()
            .await?
            .map(PageEvent::Lifecycle)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventExceptionThrown>()
            .await?
            .map(PageEvent::Exception)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventConsoleApiCalled>()
            .await?
            .map(PageEvent::Console)
            .boxed(),
    );
    all.push(
        page.event_listener::<EventTargetCrashed>()
            .await?
            .map(|_| PageEvent::Crashed)
            .boxed(),
    );
    Ok(all)
}
