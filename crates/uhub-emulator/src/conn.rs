//! Accepted connections that a handler can drop abruptly, for the `resetRate` fault.
//!
//! [`ResettableListener`] wraps the TCP listener for `axum::serve`; every connection
//! gets a [`ConnectionHandle`] (a request extension through `ConnectInfo`). After
//! [`ConnectionHandle::reset`], the next read or write on the connection sets
//! `SO_LINGER` to zero and fails, so hyper drops the socket and the kernel sends a TCP
//! RST instead of the answer: the client sees "connection reset" before any byte.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Lets a request handler drop its connection.
#[derive(Clone, Debug, Default)]
pub struct ConnectionHandle(Arc<AtomicBool>);

impl ConnectionHandle {
    /// Marks the connection to be reset instead of answered.
    pub fn reset(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn is_reset(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl Connected<IncomingStream<'_, ResettableListener>> for ConnectionHandle {
    fn connect_info(stream: IncomingStream<'_, ResettableListener>) -> Self {
        stream.io().handle.clone()
    }
}

/// A TCP listener whose connections can be reset; sets `TCP_NODELAY`.
#[derive(Debug)]
pub struct ResettableListener(TcpListener);

impl ResettableListener {
    pub fn new(listener: TcpListener) -> Self {
        ResettableListener(listener)
    }
}

impl Listener for ResettableListener {
    type Io = ResettableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.0).await;
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
        let io = ResettableStream {
            stream,
            handle: ConnectionHandle::default(),
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

/// A TCP stream that fails every operation once its handle is reset.
#[derive(Debug)]
pub struct ResettableStream {
    stream: TcpStream,
    handle: ConnectionHandle,
}

impl ResettableStream {
    fn check(&self) -> io::Result<()> {
        if !self.handle.is_reset() {
            return Ok(());
        }
        // Zero linger makes the close that follows the error a RST.
        self.stream.set_zero_linger()?;
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "connection reset by the resetRate fault",
        ))
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_shutdown(cx)
    }
}
