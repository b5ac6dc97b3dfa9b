//! The MLLP listener (`cordon serve --mllp ADDR --mllp-user NAME`): lab systems that speak HL7 v2
//! over TCP send ORU^R01 messages framed as `<VT> message <FS><CR>` and get each ACK back in the
//! same framing. Messages are recorded as the named lab account — its permissions and
//! jurisdiction apply, looked up again for every message so a disabled account stops at once.

use std::net::SocketAddr;

use cordon_store::Store;
use cordon_store::audit::Actor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const START: u8 = 0x0b;
const END: [u8; 2] = [0x1c, 0x0d];
/// A frame larger than this is not a lab message; the connection is closed.
const MAX_FRAME: usize = 16 << 20;

/// Takes the next complete frame out of `buf` (bytes before a start byte are dropped).
pub fn next_frame(buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let start = buf.iter().position(|b| *b == START)?;
    let end = buf[start..].windows(2).position(|w| w == END)? + start;
    let frame = buf[start + 1..end].to_vec();
    buf.drain(..end + 2);
    Some(frame)
}

/// Frames a message for the wire.
pub fn frame(message: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 3);
    out.push(START);
    out.extend_from_slice(message.as_bytes());
    out.extend_from_slice(&END);
    out
}

/// Accepts connections until the process ends; each connection is served on its own task.
pub async fn serve(store: Store, listener: TcpListener, username: String) -> std::io::Result<()> {
    loop {
        let (socket, peer) = listener.accept().await?;
        let (store, username) = (store.clone(), username.clone());
        tokio::spawn(async move {
            if let Err(e) = connection(store, socket, peer, &username).await {
                tracing::warn!("MLLP connection from {peer} ended: {e}");
            }
        });
    }
}

async fn connection(store: Store, mut socket: TcpStream, peer: SocketAddr, username: &str) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut count = 0u64;
    loop {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        while let Some(message) = next_frame(&mut buf) {
            count += 1;
            let ack = match store.principal_by_name(username).await {
                Ok(Some(principal)) => {
                    let actor = Actor {
                        user_id: Some(principal.user.id),
                        name: principal.user.username.clone(),
                        request_id: Some(format!("mllp-{peer}-{count}")),
                        client_addr: Some(peer.ip().to_string()),
                    };
                    crate::hl7::receive(&store.scoped(principal, actor), &message, None).await
                }
                Ok(None) => refuse(&message, &format!("the MLLP account {username} is missing or disabled")),
                Err(e) => {
                    tracing::error!("MLLP: {e}");
                    refuse(&message, "the server failed; the error was logged — send the message again")
                }
            };
            socket.write_all(&frame(&ack)).await?;
        }
        if buf.len() > MAX_FRAME {
            return Err(std::io::Error::other("frame larger than 16 MiB"));
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
}
