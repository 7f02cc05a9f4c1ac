//! A bare HTTP/2 client that writes a gRPC call's frames in exactly the order a test asks for:
//! HEADERS, DATA frames of length-prefixed messages, then END_STREAM, RST_STREAM or a closed
//! socket. Frames go out in the order written, so a test ends a stream the way any client
//! runtime may (grpc-core's cancel is an RST_STREAM with CANCEL), with no library in between
//! deciding when to flush. It answers the server's SETTINGS and PINGs, and notes GOAWAY frames
//! and the end of its own stream.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinHandle;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The frame types this client writes or reads (RFC 9113, 6); it ignores the others.
mod frame_type {
    pub const DATA: u8 = 0x0;
    pub const HEADERS: u8 = 0x1;
    pub const RST_STREAM: u8 = 0x3;
    pub const SETTINGS: u8 = 0x4;
    pub const PING: u8 = 0x6;
    pub const GOAWAY: u8 = 0x7;
}

/// Frame flags: a bit's meaning depends on the frame type.
mod flag {
    /// On DATA and HEADERS.
    pub const END_STREAM: u8 = 0x1;
    /// On HEADERS.
    pub const END_HEADERS: u8 = 0x4;
    /// On SETTINGS and PING.
    pub const ACK: u8 = 0x1;
}

/// The smallest frame size a peer must accept.
const MAX_FRAME_PAYLOAD: usize = 16_384;
/// HTTP/2 error code CANCEL, what grpc-core sends when its application cancels a call.
pub const CANCEL: u32 = 0x8;
/// HTTP/2 error code NO_ERROR, which hyper takes for the end of a request body.
pub const NO_ERROR: u32 = 0x0;

/// One call on a connection of its own, on stream 1.
pub struct RawCall {
    /// The client's end of the connection.
    pub local_address: SocketAddr,
    writer: Arc<Mutex<OwnedWriteHalf>>,
    goaway: watch::Receiver<bool>,
    /// Set when the server ends stream 1 (END_STREAM on its trailers, or a reset) or closes.
    answered: watch::Receiver<bool>,
    reader: JoinHandle<()>,
}

const STREAM_ID: u32 = 1;

fn frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).expect("a small frame").to_be_bytes();
    let mut bytes = Vec::with_capacity(9 + payload.len());
    bytes.extend_from_slice(&length[1..]);
    bytes.push(kind);
    bytes.push(flags);
    bytes.extend_from_slice(&stream_id.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// An HPACK integer with an `prefix_bits`-bit prefix (RFC 7541, 5.1).
fn hpack_integer(bytes: &mut Vec<u8>, first_byte: u8, prefix_bits: u32, value: usize) {
    let limit = (1usize << prefix_bits) - 1;
    if value < limit {
        bytes.push(first_byte | value as u8);
        return;
    }
    bytes.push(first_byte | limit as u8);
    let mut rest = value - limit;
    while rest >= 128 {
        bytes.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    bytes.push(rest as u8);
}

/// Header fields as literals without indexing and without Huffman coding: every decoder
/// reads them, and the encoder needs no table.
fn hpack_literals(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for (name, value) in fields {
        bytes.push(0x00);
        hpack_integer(&mut bytes, 0x00, 7, name.len());
        bytes.extend_from_slice(name.as_bytes());
        hpack_integer(&mut bytes, 0x00, 7, value.len());
        bytes.extend_from_slice(value.as_bytes());
    }
    bytes
}

impl RawCall {
    /// Connects and opens stream 1 as a gRPC call of `path`, with `extra_headers` (a token, a
    /// request ID, a `grpc-timeout`).
    pub async fn open(address: SocketAddr, path: &str, extra_headers: &[(&str, &str)]) -> RawCall {
        let socket = tokio::net::TcpStream::connect(address).await.expect("connecting to the server");
        socket.set_nodelay(true).expect("nodelay");
        let local_address = socket.local_addr().expect("a bound socket");
        let (mut read_half, write_half) = socket.into_split();
        let writer = Arc::new(Mutex::new(write_half));
        let authority = address.to_string();
        let mut fields = vec![
            (":method", "POST"),
            (":scheme", "http"),
            (":path", path),
            (":authority", authority.as_str()),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ];
        fields.extend_from_slice(extra_headers);
        let mut opening = PREFACE.to_vec();
        opening.extend(frame(frame_type::SETTINGS, 0, 0, &[]));
        opening.extend(frame(frame_type::HEADERS, flag::END_HEADERS, STREAM_ID, &hpack_literals(&fields)));
        writer.lock().await.write_all(&opening).await.expect("writing the call's headers");

        let (goaway_sender, goaway) = watch::channel(false);
        let (answered_sender, answered) = watch::channel(false);
        let reply_writer = writer.clone();
        let reader = tokio::spawn(async move {
            loop {
                let mut head = [0u8; 9];
                if read_half.read_exact(&mut head).await.is_err() {
                    break;
                }
                let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
                let (kind, flags) = (head[3], head[4]);
                let stream_id = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
                let mut payload = vec![0u8; length];
                if read_half.read_exact(&mut payload).await.is_err() {
                    break;
                }
                let reply = match kind {
                    frame_type::SETTINGS if flags & flag::ACK == 0 => {
                        Some(frame(frame_type::SETTINGS, flag::ACK, 0, &[]))
                    }
                    frame_type::PING if flags & flag::ACK == 0 => Some(frame(frame_type::PING, flag::ACK, 0, &payload)),
                    frame_type::GOAWAY => {
                        let _ = goaway_sender.send(true);
                        None
                    }
                    frame_type::HEADERS | frame_type::DATA
                        if stream_id == STREAM_ID && flags & flag::END_STREAM != 0 =>
                    {
                        let _ = answered_sender.send(true);
                        None
                    }
                    frame_type::RST_STREAM if stream_id == STREAM_ID => {
                        let _ = answered_sender.send(true);
                        None
                    }
                    _ => None,
                };
                if let Some(reply) = reply {
                    if reply_writer.lock().await.write_all(&reply).await.is_err() {
                        break;
                    }
                }
            }
            let _ = answered_sender.send(true);
        });
        RawCall { local_address, writer, goaway, answered, reader }
    }

    async fn write(&self, bytes: &[u8]) {
        self.writer.lock().await.write_all(bytes).await.expect("writing to the server");
    }

    /// Sends one message, length-prefixed as gRPC frames it, in DATA frames of the smallest
    /// size every peer accepts.
    pub async fn send_message(&self, message: &impl prost::Message) {
        let encoded = message.encode_to_vec();
        let mut framed = Vec::with_capacity(5 + encoded.len());
        framed.push(0);
        framed.extend_from_slice(&u32::try_from(encoded.len()).expect("a small message").to_be_bytes());
        framed.extend_from_slice(&encoded);
        let mut bytes = Vec::new();
        for chunk in framed.chunks(MAX_FRAME_PAYLOAD) {
            bytes.extend(frame(frame_type::DATA, 0, STREAM_ID, chunk));
        }
        self.write(&bytes).await;
    }

    /// Half-closes the request stream: an empty DATA frame with END_STREAM.
    pub async fn end_stream(&self) {
        self.write(&frame(frame_type::DATA, flag::END_STREAM, STREAM_ID, &[])).await;
    }

    /// Resets the stream with `error_code`.
    pub async fn reset(&self, error_code: u32) {
        self.write(&frame(frame_type::RST_STREAM, 0, STREAM_ID, &error_code.to_be_bytes())).await;
    }

    /// Closes the connection without ending or resetting the stream.
    pub async fn close_connection(self) {
        let _ = self.writer.lock().await.shutdown().await;
        self.reader.abort();
    }

    /// Waits until the server has sent a GOAWAY on this connection.
    pub async fn goaway_received(&mut self) {
        tokio::time::timeout(Duration::from_secs(10), self.goaway.wait_for(|received| *received))
            .await
            .expect("a GOAWAY within 10 s")
            .expect("the reader is alive");
    }

    /// Waits until the server has ended stream 1 (its trailers, or a reset) or the connection.
    pub async fn answered(&mut self) {
        tokio::time::timeout(Duration::from_secs(30), self.answered.wait_for(|answered| *answered))
            .await
            .expect("an answer within 30 s")
            .expect("the reader is alive");
    }
}

impl Drop for RawCall {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
