//! The MLLP listener (`cordon serve --mllp ADDR --mllp-user NAME`): lab systems that speak HL7 v2
//! over TCP send ORU^R01 messages framed as `<VT> message <FS><CR>` and get each ACK back in the
//! same framing. Messages are recorded as the named lab account — its permissions and
//! jurisdiction apply, looked up again for every message so a disabled account stops at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::{Buf, BufMut, BytesMut};
use cordon_store::Store;
use cordon_store::audit::Actor;
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Decoder, Encoder, Framed};

const START: u8 = 0x0b;
const END: [u8; 2] = [0x1c, 0x0d];
/// A frame larger than this is not a lab message (a result message of a thousand tubes is a few
/// hundred kilobytes): it is answered AR and skipped, so a connection holds at most this much.
const MAX_FRAME: usize = 4 << 20;
/// How much of an oversized frame is kept to name it in the answer (its MSH segment).
const HEAD: usize = 4096;

/// What the wire brought.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole message between a start block and an end block.
    Message(Vec<u8>),
    /// A message cut off by the next start block before its end block: never stored.
    Broken(Vec<u8>),
    /// A frame over the size limit, skipped to its end; the start of it, to name it.
    TooLarge(Vec<u8>),
}

/// MLLP framing (`<VT> message <FS><CR>`) as a `tokio_util` codec. Bytes before a start block are
/// dropped; a new start block before the end block begins a new message.
#[derive(Debug, Default)]
pub struct MllpCodec {
    /// Bytes of the buffer already searched for an end (or start) block.
    scanned: usize,
    /// Inside an oversized frame: its head, kept while the rest is skipped.
    skipping: Option<Vec<u8>>,
}

impl Decoder for MllpCodec {
    type Item = Frame;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, Self::Error> {
        if let Some(head) = self.skipping.take() {
            // Skip to the end block (or to the next start block) of the oversized frame.
            match buf.iter().position(|b| *b == START || *b == END[0]) {
                Some(i) if buf[i] == START => buf.advance(i),
                Some(i) if buf.len() > i + 1 => buf.advance(i + if buf[i + 1] == END[1] { 2 } else { 1 }),
                Some(i) => {
                    buf.advance(i);
                    self.skipping = Some(head);
                    return Ok(None);
                }
                None => {
                    buf.clear();
                    self.skipping = Some(head);
                    return Ok(None);
                }
            }
            return Ok(Some(Frame::TooLarge(head)));
        }
        if self.scanned == 0 {
            match buf.iter().position(|b| *b == START) {
                Some(start) => buf.advance(start),
                None => {
                    buf.clear();
                    return Ok(None);
                }
            }
            self.scanned = 1;
        }
        for i in self.scanned..buf.len() {
            if buf[i] == START {
                let half = buf.split_to(i);
                self.scanned = 0;
                return Ok(Some(Frame::Broken(half[1..].to_vec())));
            }
            if buf[i] == END[0] && buf.get(i + 1) == Some(&END[1]) {
                let frame = buf.split_to(i + 2);
                self.scanned = 0;
                return Ok(Some(Frame::Message(frame[1..i].to_vec())));
            }
        }
        // The last byte may be the first half of an end block: look at it again next time.
        self.scanned = buf.len().saturating_sub(1).max(1);
        if buf.len() > MAX_FRAME {
            self.skipping = Some(buf[1..HEAD.min(buf.len())].to_vec());
            buf.clear();
            self.scanned = 0;
            return self.decode(buf);
        }
        Ok(None)
    }
}

impl Encoder<&str> for MllpCodec {
    type Error = std::io::Error;

    fn encode(&mut self, message: &str, out: &mut BytesMut) -> Result<(), Self::Error> {
        out.reserve(message.len() + 3);
        out.put_u8(START);
        out.put_slice(message.as_bytes());
        out.put_slice(&END);
        Ok(())
    }
}

/// Frames a message for the wire.
pub fn frame(message: &str) -> Vec<u8> {
    let mut out = BytesMut::new();
    MllpCodec::default().encode(message, &mut out).expect("encoding into memory");
    out.to_vec()
}

/// Takes the next complete message out of `buf`, for a client reading answers.
pub fn next_frame(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut bytes = BytesMut::from(&buf[..]);
    let mut codec = MllpCodec::default();
    loop {
        let before = bytes.len();
        match codec.decode(&mut bytes).ok().flatten() {
            Some(Frame::Message(m)) => {
                buf.drain(..buf.len() - bytes.len());
                return Some(m);
            }
            Some(_) => continue,
            None if bytes.len() == before || bytes.is_empty() => return None,
            None => continue,
        }
    }
}

/// How many connections a listener serves at once, and how long one may stay silent.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections beyond this are closed as soon as they are accepted (each may hold up to
    /// [`MAX_FRAME`] bytes while a message arrives).
    pub connections: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { connections: 256, idle: Duration::from_secs(300) }
    }
}

/// What the listener is doing, for `/healthz`: whether it is accepting, how many connections it
/// serves, how many it turned away and how many accepts failed (and the last failure).
#[derive(Debug, Default)]
pub struct Health {
    listening: AtomicBool,
    connections: AtomicUsize,
    turned_away: AtomicU64,
    accept_errors: AtomicU64,
    last_error: Mutex<String>,
}

/// The listener of this process, once one is started.
static HEALTH: OnceLock<Arc<Health>> = OnceLock::new();

/// The MLLP listener's state in one line for `/healthz`, and whether it is healthy; `None` when
/// this process runs no listener.
pub fn health() -> Option<(bool, String)> {
    let h = HEALTH.get()?;
    let listening = h.listening.load(Ordering::Relaxed);
    let mut line = format!(
        "mllp: {}, {} connections, {} turned away, {} accept errors",
        if listening { "listening" } else { "stopped" },
        h.connections.load(Ordering::Relaxed),
        h.turned_away.load(Ordering::Relaxed),
        h.accept_errors.load(Ordering::Relaxed),
    );
    let last = h.last_error.lock().map(|e| e.clone()).unwrap_or_default();
    if !last.is_empty() {
        line.push_str(&format!(" (last: {last})"));
    }
    Some((listening, line))
}

/// Accepts connections until the process ends, within the default [`Limits`].
pub async fn serve(store: Store, listener: TcpListener, username: String) -> std::io::Result<()> {
    serve_with(store, listener, username, Limits::default()).await
}

/// Where connections come from: a TCP listener (a test hands in one whose accepts fail).
pub trait Accept: Send {
    fn accept(&mut self) -> impl std::future::Future<Output = std::io::Result<(TcpStream, SocketAddr)>> + Send;
}

impl Accept for TcpListener {
    async fn accept(&mut self) -> std::io::Result<(TcpStream, SocketAddr)> {
        TcpListener::accept(self).await
    }
}

/// Marks the listener stopped when its loop ends, however it ends.
struct Listening(Arc<Health>);

impl Drop for Listening {
    fn drop(&mut self) {
        self.0.listening.store(false, Ordering::Relaxed);
    }
}

/// Accepts connections until the process ends, within `limits`.
pub async fn serve_with(store: Store, listener: TcpListener, username: String, limits: Limits) -> std::io::Result<()> {
    serve_from(store, listener, username, limits).await
}

/// Accepts connections until the process ends; each is served on its own task. A failed accept
/// (too many open files, say) is counted, logged and waited out — the listener goes on; a
/// connection over the limit is closed at once; a silent one is closed after `limits.idle`.
pub async fn serve_from(store: Store, mut listener: impl Accept, username: String, limits: Limits) -> std::io::Result<()> {
    let health = HEALTH.get_or_init(Default::default).clone();
    health.listening.store(true, Ordering::Relaxed);
    let _listening = Listening(health.clone());
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.connections));
    let mut pause = Duration::from_millis(10);
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(x) => {
                pause = Duration::from_millis(10);
                x
            }
            Err(e) => {
                health.accept_errors.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut last) = health.last_error.lock() {
                    *last = e.to_string();
                }
                tracing::error!("MLLP accept failed ({e}); waiting {pause:?} and going on");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            health.turned_away.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("MLLP: {peer} turned away, {} connections already open", limits.connections);
            drop(socket);
            continue;
        };
        let (store, username, health) = (store.clone(), username.clone(), health.clone());
        tokio::spawn(async move {
            health.connections.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = connection(store, socket, peer, &username, limits.idle).await {
                tracing::warn!("MLLP connection from {peer} ended: {e}");
            }
            health.connections.fetch_sub(1, Ordering::Relaxed);
            drop(slot);
        });
    }
}

async fn connection(store: Store, socket: TcpStream, peer: SocketAddr, username: &str, idle: Duration) -> std::io::Result<()> {
    let mut wire = Framed::new(socket, MllpCodec::default());
    let mut count = 0u64;
    loop {
        let Ok(next) = tokio::time::timeout(idle, wire.next()).await else {
            tracing::info!("MLLP connection from {peer} closed after {idle:?} idle");
            return Ok(());
        };
        let Some(frame) = next else { return Ok(()) };
        let ack = match frame? {
            Frame::Message(message) => {
                count += 1;
                record(&store, &message, peer, count, username).await
            }
            Frame::Broken(half) => refuse(&half, "the message was cut off: a new start block came before its end block; send it again"),
            Frame::TooLarge(head) => refuse(&head, &format!("the message is larger than {} MiB; it was not read", MAX_FRAME >> 20)),
        };
        wire.send(ack.as_str()).await?;
    }
}

/// Records one message as the MLLP account, answering its ACK.
async fn record(store: &Store, message: &[u8], peer: SocketAddr, count: u64, username: &str) -> String {
    match store.principal_by_name(username).await {
        Ok(Some(principal)) => {
            let actor = Actor {
                user_id: Some(principal.user.id),
                name: principal.user.username.clone(),
                request_id: Some(format!("mllp-{peer}-{count}")),
                client_addr: Some(peer.ip().to_string()),
            };
            crate::hl7::receive(&store.scoped(principal, actor), message, None).await
        }
        Ok(None) => refuse(message, &format!("the MLLP account {username} is missing or disabled")),
        Err(e) => {
            tracing::error!("MLLP: {e}");
            refuse(message, "the server failed; the error was logged — send the message again")
        }
    }
}

fn refuse(message: &[u8], reason: &str) -> String {
    let text = crate::hl7::decode(message);
    let header = crate::hl7::header_of(&text);
    crate::hl7::ack(&header, "AR", reason, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_cut_from_a_stream_in_pieces() {
        let mut wire = b"noise".to_vec();
        wire.extend(frame("MSH|first"));
        wire.extend(frame("MSH|second"));
        let mut buf = wire[..9].to_vec();
        assert_eq!(next_frame(&mut buf), None, "incomplete");
        buf.extend_from_slice(&wire[9..]);
        assert_eq!(next_frame(&mut buf).unwrap(), b"MSH|first");
        assert_eq!(next_frame(&mut buf).unwrap(), b"MSH|second");
        assert!(buf.is_empty());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Any bytes, cut anywhere: the codec never fails or panics, never holds more than a
        /// frame's limit, and every whole message sent among the noise comes out whole.
        #[test]
        fn any_bytes_in_any_pieces_frame_without_failing(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            cuts in proptest::collection::vec(1usize..300, 1..20),
        ) {
            let mut wire = noise.clone();
            // A message after the noise, then noise again: the message must come out whole.
            wire.push(FS_CR_GUARD);
            wire.extend(frame("MSH|^~\\&|LIS|LAB|CORDON|HQ|20220413||ORU^R01|PROP1|P|2.5.1"));
            wire.extend(&noise);
            let mut codec = MllpCodec::default();
            let mut buf = BytesMut::new();
            let mut frames = Vec::new();
            let mut at = 0;
            for cut in cuts.iter().cycle() {
                if at >= wire.len() {
                    break;
                }
                let end = (at + cut).min(wire.len());
                buf.extend_from_slice(&wire[at..end]);
                at = end;
                while let Some(f) = codec.decode(&mut buf).expect("never an error") {
                    frames.push(f);
                }
                proptest::prop_assert!(buf.len() <= MAX_FRAME + 300);
            }
            let whole = frames.iter().any(|f| matches!(f, Frame::Message(m) if m.ends_with(b"PROP1|P|2.5.1")));
            proptest::prop_assert!(whole, "{:?}", frames);
        }
    }

    /// Ends any frame the noise left open, so that the message after it starts clean.
    const FS_CR_GUARD: u8 = END[0];

    fn decode_all(codec: &mut MllpCodec, buf: &mut BytesMut) -> Vec<Frame> {
        let mut out = Vec::new();
        while let Some(f) = codec.decode(buf).unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn a_message_cut_off_by_the_next_start_block_is_broken_and_the_next_one_whole() {
        let mut wire = BytesMut::new();
        wire.put_u8(START);
        wire.put_slice(b"MSH|half-sent");
        wire.put_slice(&frame("MSH|next"));
        let frames = decode_all(&mut MllpCodec::default(), &mut wire);
        assert_eq!(frames, [Frame::Broken(b"MSH|half-sent".to_vec()), Frame::Message(b"MSH|next".to_vec())]);
    }

    #[test]
    fn an_end_block_split_across_reads_still_ends_the_message() {
        let mut codec = MllpCodec::default();
        let wire = frame("MSH|split");
        let mut buf = BytesMut::from(&wire[..wire.len() - 1]);
        assert!(decode_all(&mut codec, &mut buf).is_empty());
        buf.put_u8(END[1]);
        assert_eq!(decode_all(&mut codec, &mut buf), [Frame::Message(b"MSH|split".to_vec())]);
    }

    #[test]
    fn an_oversized_message_is_skipped_to_its_end_and_the_next_one_read() {
        let mut codec = MllpCodec::default();
        let mut buf = BytesMut::new();
        buf.put_u8(START);
        buf.put_slice(b"MSH|big|");
        let mut frames = Vec::new();
        for _ in 0..17 {
            buf.put_slice(&vec![b'x'; 1 << 20]);
            frames.extend(decode_all(&mut codec, &mut buf));
            assert!(buf.len() <= MAX_FRAME + (1 << 20), "the oversized frame is not held");
        }
        buf.put_slice(&END);
        buf.put_slice(&frame("MSH|after"));
        frames.extend(decode_all(&mut codec, &mut buf));
        assert_eq!(frames.len(), 2, "{:?}", frames.iter().map(|f| matches!(f, Frame::TooLarge(_))).collect::<Vec<_>>());
        assert!(matches!(&frames[0], Frame::TooLarge(head) if head.starts_with(b"MSH|big|")));
        assert_eq!(frames[1], Frame::Message(b"MSH|after".to_vec()));
    }
}
