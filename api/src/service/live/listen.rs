//! PostgreSQL's side of the bus: one LISTEN connection per process, outside
//! the pool, forwarding every replica's committed changes to this process's
//! subscribers.

use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use tokio::sync::broadcast;

use super::{CHANNEL, Change, Signal};

/// How long to wait before connecting again after a failure.
const RETRY: Duration = Duration::from_secs(1);

/// Runs until the hub that owns the bus is gone (the server stopped): the
/// task holds only a weak end, so it keeps no server alive.
pub fn spawn(url: String, bus: broadcast::WeakSender<Signal>) {
    tokio::spawn(async move {
        tokio::select! {
            () = forward(&url, &bus) => {}
            () = until_gone(&bus) => {}
        }
    });
}

async fn until_gone(bus: &broadcast::WeakSender<Signal>) {
    while bus.strong_count() > 0 {
        tokio::time::sleep(RETRY).await;
    }
}

async fn forward(url: &str, weak: &broadcast::WeakSender<Signal>) {
    let send = |signal: Signal| {
        if let Some(bus) = weak.upgrade() {
            // No receiver (nobody subscribed) is not an error.
            let _ = bus.send(signal);
        }
    };
    loop {
        let mut listener = match connect(url).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(%err, "cannot LISTEN for live changes; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        // Whatever was committed while no listener ran was missed.
        send(Signal::Resync);
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
