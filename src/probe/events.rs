//! The page events a load listens to, merged into one stream.

use std::sync::Arc;

use chromiumoxide::Page;
use chromiumoxide::cdp::IntoEventKind;
use chromiumoxide::cdp::browser_protocol::inspector::EventTargetCrashed;
use chromiumoxide::cdp::browser_protocol::log::EventEntryAdded;
use chromiumoxide::cdp::browser_protocol::network::{
    EventLoadingFailed, EventLoadingFinished, EventRequestWillBeSent, EventResponseReceived,
    EventWebSocketClosed, EventWebSocketCreated, EventWebSocketFrameError,
    EventWebSocketHandshakeResponseReceived, EventWebSocketWillSendHandshakeRequest,
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
    /// WebSockets have events of their own: CDP never reports them as requests.
    SocketCreated(Arc<EventWebSocketCreated>),
    SocketHandshake(Arc<EventWebSocketWillSendHandshakeRequest>),
    SocketOpened(Arc<EventWebSocketHandshakeResponseReceived>),
    SocketError(Arc<EventWebSocketFrameError>),
    SocketClosed(Arc<EventWebSocketClosed>),
    Lifecycle(Arc<EventLifecycleEvent>),
    Exception(Arc<EventExceptionThrown>),
    Console(Arc<EventConsoleApiCalled>),
    /// The browser's own messages, where it says it refused a response.
    Log(Arc<EventEntryAdded>),
    Crashed,
}

pub(super) async fn subscribe(
    page: &Page,
) -> chromiumoxide::Result<SelectAll<BoxStream<'static, PageEvent>>> {
    Ok(SelectAll::from_iter([
        listen(page, PageEvent::Sent).await?,
        listen(page, PageEvent::Response).await?,
        listen(page, PageEvent::Finished).await?,
        listen(page, PageEvent::Failed).await?,
        listen(page, PageEvent::SocketCreated).await?,
        listen(page, PageEvent::SocketHandshake).await?,
        listen(page, PageEvent::SocketOpened).await?,
        listen(page, PageEvent::SocketError).await?,
        listen(page, PageEvent::SocketClosed).await?,
        listen(page, PageEvent::Lifecycle).await?,
        listen(page, PageEvent::Exception).await?,
        listen(page, PageEvent::Console).await?,
        listen(page, PageEvent::Log).await?,
        listen(page, |_: Arc<EventTargetCrashed>| PageEvent::Crashed).await?,
    ]))
}

async fn listen<T>(
    page: &Page,
    wrap: fn(Arc<T>) -> PageEvent,
) -> chromiumoxide::Result<BoxStream<'static, PageEvent>>
where
    T: IntoEventKind + Unpin + Send + Sync + 'static,
{
    Ok(page.event_listener::<T>().await?.map(wrap).boxed())
}
