//! The response body: the inner service's, or the policy's own (empty, or the 403 text).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The body of a response passing through [`Cors`](crate::Cors): the inner service's, or
    /// the policy's own.
    pub struct CorsBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Local { data: Option<Bytes> },
    }
}

impl<B> CorsBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn local(text: &str) -> Self {
        Self {
            kind: Kind::Local {
                data: (!text.is_empty()).then(|| Bytes::copy_from_slice(text.as_bytes())),
            },
        }
    }

    /// The same local body, typed for another inner body.
    pub(crate) fn retype<C>(self) -> CorsBody<C> {
        CorsBody {
            kind: match self.kind {
                Kind::Local { data } => Kind::Local { data },
                Kind::Inner { .. } => Kind::Local { data: None },
            },
        }
    }
}

impl<B> Body for CorsBody<B>
where
    B: Body,
    B::Data: From<Bytes>,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Local { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d.into())))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Local { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Local { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}
