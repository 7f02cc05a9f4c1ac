//! How a client's request stream ended. tonic's decoder hands a handler the end of a request
//! stream both when the client half-closed it (END_STREAM) and when the client reset it with
//! CANCEL, so a handler cannot tell a whole stream from a cancelled one. For the methods whose
//! request is a stream, this layer watches the body below the decoder and records how it ended,
//! for the handler to read from the request's extensions.
//!
//! One reset looks clean even here: hyper ends a body that its client reset with `NO_ERROR` as
//! if it had ended (RFC 9113 lets a server ask for that). The handler therefore lets hyper look
//! for a reset once more before it writes (see `RosterApi::sync_shifts`).

use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::{Frame, SizeHint};
use tonic::body::Body;
use tower::{Layer, Service};

/// The methods whose request is a stream.
const CLIENT_STREAMING_PATHS: [&str; 1] = ["/eeacoverage.v1.RosterService/SyncShifts"];

/// How a watched request body ended, shared between the body and the handler.
#[derive(Clone, Debug, Default)]
pub struct RequestStreamEnd(Arc<AtomicU8>);

const OPEN: u8 = 0;
const ENDED_CLEANLY: u8 = 1;
const BROKEN: u8 = 2;

impl RequestStreamEnd {
    /// True once the body has ended with END_STREAM; false while it is open and after a reset
    /// or a lost connection.
    pub fn ended_cleanly(&self) -> bool {
        self.0.load(Ordering::SeqCst) == ENDED_CLEANLY
    }

    /// True once the body has failed: reset by the client (whatever the reset's code) or cut
    /// off with its connection.
    pub fn broken(&self) -> bool {
        self.0.load(Ordering::SeqCst) == BROKEN
    }

    fn record(&self, end: u8) {
        // The first end seen is the one that counts.
        let _ = self.0.compare_exchange(OPEN, end, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Puts a `RequestStreamEnd` into the extensions of every call whose request is a stream.
#[derive(Clone, Copy, Debug, Default)]
pub struct WatchRequestStreamEndLayer;

impl<S> Layer<S> for WatchRequestStreamEndLayer {
    type Service = WatchRequestStreamEnd<S>;

    fn layer(&self, inner: S) -> WatchRequestStreamEnd<S> {
        WatchRequestStreamEnd { inner }
    }
}

#[derive(Clone, Debug)]
pub struct WatchRequestStreamEnd<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for WatchRequestStreamEnd<S>
where
    S: Service<http::Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        if CLIENT_STREAMING_PATHS.contains(&request.uri().path()) {
            let end = RequestStreamEnd::default();
            request.extensions_mut().insert(end.clone());
            request = request.map(|body| Body::new(WatchedBody { inner: body, end }));
        }
        self.inner.call(request)
    }
}

/// A request body that records how it ended. It never claims to have ended early
/// (`is_end_stream` stays false), so every reader polls it to its real end.
struct WatchedBody {
    inner: Body,
    end: RequestStreamEnd,
}

impl http_body::Body for WatchedBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        match &polled {
            // Trailers end a stream too (HEADERS with END_STREAM); a reader may stop at them.
            Poll::Ready(None) => self.end.record(ENDED_CLEANLY),
            Poll::Ready(Some(Ok(frame))) if frame.is_trailers() => self.end.record(ENDED_CLEANLY),
            Poll::Ready(Some(Err(_))) => self.end.record(BROKEN),
            Poll::Ready(Some(Ok(_))) | Poll::Pending => {}
        }
        polled
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use http_body_util::BodyExt;

    /// A body of one chunk, then `ending`: `Ok` for a clean end, `Err` for a reset.
    fn body_ending(ending: Result<(), tonic::Status>) -> (Body, RequestStreamEnd) {
        let frames: Vec<Result<Frame<bytes::Bytes>, tonic::Status>> = match ending {
            Ok(()) => vec![Ok(Frame::data(bytes::Bytes::from_static(b"chunk")))],
            Err(status) => vec![Ok(Frame::data(bytes::Bytes::from_static(b"chunk"))), Err(status)],
        };
        let inner = Body::new(http_body_util::StreamBody::new(tokio_stream::iter(frames)));
        let end = RequestStreamEnd::default();
        (Body::new(WatchedBody { inner, end: end.clone() }), end)
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_ended_cleanly() {
        let (body, end) = body_ending(Ok(()));
        assert!(!end.ended_cleanly() && !end.broken(), "open until read");
        body.collect().await.expect("a clean body");
        assert!(end.ended_cleanly() && !end.broken());
    }

    #[tokio::test]
    async fn a_body_that_ends_with_trailers_ended_cleanly() {
        let frames: Vec<Result<Frame<bytes::Bytes>, tonic::Status>> =
            vec![Ok(Frame::data(bytes::Bytes::from_static(b"chunk"))), Ok(Frame::trailers(http::HeaderMap::new()))];
        let inner = Body::new(http_body_util::StreamBody::new(tokio_stream::iter(frames)));
        let end = RequestStreamEnd::default();
        let mut body = Body::new(WatchedBody { inner, end: end.clone() });
        // A reader that stops at the trailers, as tonic's decoder does.
        while let Some(frame) = body.frame().await {
            if frame.expect("no error").is_trailers() {
                break;
            }
        }
        assert!(end.ended_cleanly());
    }

    #[tokio::test]
    async fn a_cancelled_body_did_not_end_cleanly_even_if_read_on() {
        let (mut body, end) = body_ending(Err(tonic::Status::cancelled("reset by the client")));
        while let Some(frame) = body.frame().await {
            if frame.is_err() {
                break;
            }
        }
        // A reader that takes the reset for an end (as tonic's decoder does) reads on.
        assert!(body.frame().await.is_none());
        assert!(!end.ended_cleanly());
        assert!(end.broken());
    }
}
