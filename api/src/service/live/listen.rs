//! PostgreSQL's side of the bus: one LISTEN connection per process, outside
//! the pool, forwarding every replica's committed changes to this process's
//! subscribers.

use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use super::{CHANNEL, Change, Signal};

/// How long to wait before connecting again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// Connects (so the server starts listening, not some time later), then
/// forwards in the background until the hub that owns the bus is gone (the
/// server stopped): the task holds only a weak end, so it keeps no server
/// alive. A database that cannot be reached now is tried again there.
pub async fn start(url: String, bus: broadcast::WeakSender<Signal>) {
    let first = match connect(&url).await {
        Ok(listener) => Some(listener),
        Err(err) => {
            tracing::warn!(%err, "cannot LISTEN for live changes yet; retrying");
            None
        }
    };
    tokio::spawn(async move {
        tokio::select! {
            () = forward(&url, &bus, first) => {}
            () = until_gone(&bus) => {}
        }
    });
}

async fn until_gone(bus: &broadcast::WeakSender<Signal>) {
    while bus.strong_count() > 0 {
        tokio::time::sleep(RETRY).await;
    }
}

async fn forward(url: &str, weak: &broadcast::WeakSender<Signal>, mut first: Option<PgListener>) {
    let send = |signal: Signal| {
        if let Some(bus) = weak.upgrade() {
            // No receiver (nobody subscribed) is not an error.
            let _ = bus.send(signal);
        }
    };
    loop {
        let mut listener = match first.take() {
            Some(listener) => listener,
            None => match connect(url).await {
                Ok(listener) => {
                    // Whatever was committed while no listener ran was missed.
                    send(Signal::Resync);
                    listener
                }
                Err(err) => {
                    tracing::warn!(%err, "cannot LISTEN for live changes; retrying");
                    tokio::time::sleep(RETRY).await;
                    continue;
                }
            },
        };
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    match serde_json::from_str::<Change>(notification.payload()) {
                        Ok(change) => {
                            send(Signal::Changed(change.into()));
                        }
                        Err(err) => tracing::warn!(%err, "ignored a malformed live change"),
                    }
                }
                // The connection dropped; `try_recv` connects again next
                // time, and changes in between were missed.
                Ok(None) => {
                    send(Signal::Resync);
                }
                Err(err) => {
                    tracing::warn!(%err, "the live changes listener failed; reconnecting");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

async fn connect(url: &str) -> Result<PgListener, sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}
