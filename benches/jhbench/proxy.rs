//! A TCP proxy on loopback that adds latency: every chunk read from one
//! side is written to the other `delay` later, in each direction, without
//! holding back the chunks behind it (so pipelining and many connections
//! behave as over a long link). Connection set-up itself is not delayed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

/// Starts a proxy to `upstream` on `runtime` and returns its address.
pub fn start(runtime: &Handle, upstream: SocketAddr, delay: Duration) -> SocketAddr {
    let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind the latency proxy");
    let addr = listener.local_addr().expect("the proxy's address");
    runtime.spawn(async move {
        loop {
            let Ok((inbound, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(upstream).await else { return };
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let (client_read, client_write) = inbound.into_split();
                let (server_read, server_write) = outbound.into_split();
                tokio::join!(pipe(client_read, server_write, delay), pipe(server_read, client_write, delay));
            });
        }
    });
    addr
}

/// Copies `from` to `to`, each chunk `delay` after it was read.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, delay: Duration) {
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now() + delay, buffer[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    };
    let writer = async move {
        while let Some((due, chunk)) = rx.recv().await {
            sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}
