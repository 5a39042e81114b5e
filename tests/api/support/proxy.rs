//! A TCP proxy between the server and its database that a test can cut and
//! restore, to play a database outage without stopping the shared one.
//!
//! `cut` does what a stopped server does to its clients: the port stops
//! listening (new connections are refused) and every open connection is
//! reset. `restore` listens on the same port again, so the server's pool,
//! which only knows that address, reconnects by itself.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
    task::JoinHandle,
};

pub struct Proxy {
    addr: SocketAddr,
    upstream: String,
    state: Arc<Mutex<State>>,
}

struct State {
    listener: Option<JoinHandle<()>>,
    /// Bumped by every cut; a connection ends when it sees a newer one.
    generation: watch::Sender<u64>,
    connections: Vec<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on a free local port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (generation, _) = watch::channel(0);
        let proxy = Proxy {
            addr,
            upstream: upstream.to_owned(),
            state: Arc::new(Mutex::new(State {
                listener: None,
                generation,
                connections: Vec::new(),
            })),
        };
        proxy.serve(listener);
        proxy
    }

    /// For a database URL: the proxy of its host and port.
    pub async fn for_url(url: &str) -> Proxy {
        let (host, port) = host_port(url).expect("a URL with a host");
        Proxy::start(&format!("{host}:{port}")).await
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url_through(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        match authority.rsplit_once('@') {
            Some((user, _)) => format!("{scheme}://{user}@{}/{path}", self.addr),
            None => format!("{scheme}://{}/{path}", self.addr),
        }
    }

    /// Refuses new connections and resets the open ones.
    pub async fn cut(&self) {
        let listener = self.state.lock().expect("proxy state").listener.take();
        if let Some(listener) = listener {
            // Dropping the accept task drops the socket: the port refuses.
            // Stopped first, so no connection is accepted after the resets.
            listener.abort();
            let _ = listener.await;
        }
        let connections = {
            let mut state = self.state.lock().expect("proxy state");
            state.generation.send_modify(|g| *g += 1);
            std::mem::take(&mut state.connections)
        };
        for conn in connections {
            let _ = conn.await;
        }
    }

    /// Listens on the same port again.
    pub async fn restore(&self) {
        // The port was ours a moment ago; a bind can still fail briefly
        // (another socket took the number), so retry for a while.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    eprintln!("proxy: rebinding {}: {e}; retrying", self.addr);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("proxy: cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let state = self.state.clone();
        let upstream = self.upstream.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    // Out of descriptors, say: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let mut state = state.lock().expect("proxy state");
                let cut = state.generation.subscribe();
                let conn = tokio::spawn(forward(client, upstream.clone(), cut));
                state.connections.retain(|c| !c.is_finished());
                state.connections.push(conn);
            }
        });
        self.state.lock().expect("proxy state").listener = Some(task);
    }
}

/// Copies both ways until either side closes or the proxy is cut; a cut
/// resets the client's side (RST, not FIN), as a crashed server would.
async fn forward(mut client: TcpStream, upstream: String, mut cut: watch::Receiver<u64>) {
    let Ok(mut server) = TcpStream::connect(&upstream).await else {
        let _ = client.set_zero_linger();
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        _ = cut.changed() => {
            let _ = client.set_zero_linger();
            let _ = server.set_zero_linger();
        }
    }
}

/// The `host` and `port` of `scheme://user:pass@host:port/db`.
fn host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    match host_port.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok()?)),
        None => Some((host_port.to_owned(), 5432)),
    }
}
