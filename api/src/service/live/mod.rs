//! Live data: who hears that a committed write changed an organization's
//! figures. A write announces its `Change` inside its own transaction; on
//! PostgreSQL that is a `NOTIFY`, which the database delivers at commit
//! (never for a rollback) to every devgraph replica's listener (`listen`),
//! so a subscriber on any replica hears of a batch ingested on another. On
//! SQLite (one process owns the file) the change goes to this process's bus
//! once the transaction committed. Either way the message holds ids only:
//! subscribers re-read their figures through the scoped reads (`feed`).

mod feed;
mod listen;

use std::{
    collections::{BTreeSet, HashMap},
    sync::{Arc, Mutex},
    time::Duration,
};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

pub use feed::{Feed, Figures, Watch};

use crate::{error::AppResult, ids::OrgId};

/// The PostgreSQL channel every replica listens on.
pub const CHANNEL: &str = "devgraph_changes";

/// PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; past this a
/// change names fewer scopes (and so reaches more subscribers, never fewer).
const MAX_PAYLOAD: usize = 7900;

/// Signals a subscriber may miss (its receiver lags behind) before it
/// simply re-reads: the bus never buffers more than this per process.
const BUS_CAPACITY: usize = 4096;

/// What a committed write changed: an organization, which figures, and
/// which of its projects and developers (`None`: any of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    #[serde(rename = "o")]
    pub org: Uuid,
    /// The daily event counts.
    #[serde(rename = "m", default, skip_serializing_if = "is_false")]
    pub metrics: bool,
    /// The delivery analytics.
    #[serde(rename = "d", default, skip_serializing_if = "is_false")]
    pub delivery: bool,
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<BTreeSet<Uuid>>,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub developers: Option<BTreeSet<Uuid>>,
}

fn is_false(b: &bool) -> bool {
    !b
}

impl Change {
    /// New event counts of one project, for these developers.
    pub fn metrics(org: OrgId, project: Uuid, developers: BTreeSet<Uuid>) -> Change {
        Change {
            org: org.uuid(),
            metrics: true,
            delivery: false,
            projects: Some(BTreeSet::from([project])),
            developers: Some(developers),
        }
    }

    /// Delivery figures anywhere in the organization.
    pub fn delivery(org: OrgId) -> Change {
        Change {
            org: org.uuid(),
            metrics: false,
            delivery: true,
            projects: None,
            developers: None,
        }
    }

    /// Anything of the organization (an identity linked or unlinked moves
    /// both kinds between developers).
    pub fn everything(org: OrgId) -> Change {
        Change {
            metrics: true,
            ..Change::delivery(org)
        }
    }

    /// The NOTIFY payload: ids only, under PostgreSQL's size limit.
    fn payload(&self) -> String {
        let mut change = self.clone();
        loop {
            let text = serde_json::to_string(&change).unwrap_or_default();
            if text.len() <= MAX_PAYLOAD {
                return text;
            }
            if change.developers.take().is_none() {
                change.projects = None;
            }
        }
    }
}

/// What the bus carries.
#[derive(Debug, Clone)]
pub enum Signal {
    Changed(Arc<Change>),
    /// Changes may have been missed (the listener's connection dropped):
    /// every subscriber re-reads.
    Resync,
}

/// Announces `change` with the transaction that makes it: on PostgreSQL a
/// NOTIFY, sent by the database only if and when the transaction commits.
/// On SQLite nothing is sent here (`Live::commit` delivers after the commit).
async fn announce(txn: &DatabaseTransaction, change: &Change) -> AppResult<()> {
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let notify = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), change.payload().into()],
    );
    txn.execute_raw(notify).await?;
    Ok(())
}

/// The process's end of the bus, shared by the writes that announce and
/// the subscriptions that listen; cheap to clone. `Live::off()` (the CLI,
/// tests that call services directly) delivers nothing in this process.
#[derive(Clone, Default)]
pub struct Live(Option<Arc<Hub>>);

struct Hub {
    bus: broadcast::Sender<Signal>,
    /// PostgreSQL: the listener delivers, `committed` does nothing.
    listened: bool,
    /// The least time between two messages of one subscription.
    interval: Duration,
    /// Open subscriptions per organization.
    open: Mutex<HashMap<Uuid, usize>>,
}

impl Live {
    pub fn off() -> Live {
        Live(None)
    }

    /// The bus of a server on `database_url`; on PostgreSQL it starts the
    /// listener (one connection of its own, outside the pool).
    pub async fn start(database_url: &str, backend: DbBackend, interval: Duration) -> Live {
        let (bus, _) = broadcast::channel(BUS_CAPACITY);
        let listened = backend == DbBackend::Postgres;
        if listened {
            listen::start(database_url.to_owned(), bus.downgrade()).await;
        }
        Live(Some(Arc::new(Hub {
            bus,
            listened,
            interval,
            open: Mutex::new(HashMap::new()),
        })))
    }

    /// Commits the write that made `change` and lets subscribers know: the
    /// one way a write ends that announces, so no write announces without
    /// committing or commits without announcing.
    pub async fn commit(&self, txn: DatabaseTransaction, change: Change) -> AppResult<()> {
        announce(&txn, &change).await?;
        txn.commit().await?;
        self.committed(change);
        Ok(())
    }

    /// After the commit of a write that announced `change`: delivers it in
    /// this process where no database listener does.
    fn committed(&self, change: Change) {
        if let Some(hub) = &self.0
            && !hub.listened
        {
            // No receiver (nobody subscribed) is not an error.
            let _ = hub.bus.send(Signal::Changed(Arc::new(change)));
        }
    }

    /// A slot for one more subscription of `org`, or `None` when it has
    /// `max` open already (or this process has no bus). The slot is given
    /// back when dropped.
    pub fn admit(&self, org: OrgId, max: usize) -> Option<Slot> {
        let hub = self.0.as_ref()?;
        let mut open = hub.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(org.uuid()).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            hub: hub.clone(),
            org: org.uuid(),
        })
    }
}

/// One open subscription of an organization, counted until dropped.
pub struct Slot {
    hub: Arc<Hub>,
    org: Uuid,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.org) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.org);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_too_large_names_fewer_scopes_and_stays_readable() {
        let org = OrgId::from_db(Uuid::now_v7());
        let developers: BTreeSet<Uuid> = (0..400).map(|_| Uuid::now_v7()).collect();
        let change = Change::metrics(org, Uuid::now_v7(), developers);
        let payload = change.payload();
        assert!(payload.len() <= MAX_PAYLOAD);
        let read: Change = serde_json::from_str(&payload).unwrap();
        assert_eq!(read.org, org.uuid());
        assert_eq!(read.developers, None, "every developer may have changed");
        assert_eq!(read.projects, change.projects);
        let small = Change::metrics(org, Uuid::now_v7(), BTreeSet::from([Uuid::now_v7()]));
        assert_eq!(
            serde_json::from_str::<Change>(&small.payload()).unwrap(),
            small
        );
    }

    #[tokio::test]
    async fn an_organization_has_at_most_its_slots_and_gets_them_back() {
        let live = Live::start("sqlite::memory:", DbBackend::Sqlite, Duration::from_secs(1)).await;
        let org = OrgId::from_db(Uuid::now_v7());
        let other = OrgId::from_db(Uuid::now_v7());
        let a = live.admit(org, 2).unwrap();
        let _b = live.admit(org, 2).unwrap();
        assert!(live.admit(org, 2).is_none());
        assert!(
            live.admit(other, 2).is_some(),
            "another organization's are its own"
        );
        drop(a);
        assert!(live.admit(org, 2).is_some());
    }
}
