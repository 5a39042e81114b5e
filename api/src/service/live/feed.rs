//! One subscription's view of the bus: the changes that may reach what it
//! watches, folded to at most one wake-up per interval. It never queues:
//! whatever arrives while the subscriber is busy (re-reading, or sending to
//! a slow client) only means "read again", so a slow consumer costs one
//! flag, never a buffer.

use std::time::Duration;

use tokio::{
    sync::broadcast::{self, error::RecvError, error::TryRecvError},
    time::Instant,
};
use uuid::Uuid;

use super::{Change, Live, Signal};
use crate::ids::OrgId;

/// What a subscription watches, within the caller's organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    Organization,
    TeamSpace(Uuid),
    Project(Uuid),
    Developer(Uuid),
}

/// Which figures a subscription sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figures {
    Metrics,
    Delivery,
}

impl Change {
    /// Whether the change may alter `figures` of `watch` in `org`. A team
    /// space's figures follow its members, which a change does not name:
    /// any change of its organization may reach it (the subscriber's
    /// re-read then finds whether it did).
    pub fn reaches(&self, org: Uuid, figures: Figures, watch: Watch) -> bool {
        let kind = match figures {
            Figures::Metrics => self.metrics,
            Figures::Delivery => self.delivery,
        };
        if self.org != org || !kind {
            return false;
        }
        let named = |ids: &Option<std::collections::BTreeSet<Uuid>>, id: Uuid| {
            ids.as_ref().is_none_or(|ids| ids.contains(&id))
        };
        match watch {
            Watch::Organization | Watch::TeamSpace(_) => true,
            Watch::Project(p) => named(&self.projects, p),
            Watch::Developer(d) => named(&self.developers, d),
        }
    }
}

pub struct Feed {
    bus: broadcast::Receiver<Signal>,
    org: Uuid,
    figures: Figures,
    watch: Watch,
    every: Duration,
    last: Option<Instant>,
}

impl Feed {
    /// `None` when this process has no bus (`Live::off`).
    pub fn new(live: &Live, org: OrgId, figures: Figures, watch: Watch) -> Option<Feed> {
        let hub = live.0.as_ref()?;
        Some(Feed {
            bus: hub.bus.subscribe(),
            org: org.uuid(),
            figures,
            watch,
            every: hub.interval,
            last: None,
        })
    }

    /// Waits for a change that may reach the watch, then until `every` has
    /// passed since the last wake-up; what arrived meanwhile is folded in.
    /// `false` once the bus is gone (the server stops).
    pub async fn changed(&mut self) -> bool {
        loop {
            match self.bus.recv().await {
                Ok(Signal::Changed(change))
                    if !change.reaches(self.org, self.figures, self.watch) => {}
                // Lagging behind means changes were dropped for this
                // subscriber: reading again covers them.
                Ok(_) | Err(RecvError::Lagged(_)) => break,
                Err(RecvError::Closed) => return false,
            }
        }
        if let Some(last) = self.last {
            tokio::time::sleep_until(last + self.every).await;
        }
        loop {
            match self.bus.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return false,
            }
        }
        self.last = Some(Instant::now());
        true
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn a_change_reaches_its_organization_and_the_scopes_it_names() {
        let org = OrgId::from_db(Uuid::now_v7());
        let (project, dev, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let change = Change::metrics(org, project, BTreeSet::from([dev]));
        let reaches = |watch| change.reaches(org.uuid(), Figures::Metrics, watch);
        assert!(reaches(Watch::Organization));
        assert!(reaches(Watch::Project(project)));
        assert!(!reaches(Watch::Project(other)));
        assert!(reaches(Watch::Developer(dev)));
        assert!(!reaches(Watch::Developer(other)));
        assert!(
            reaches(Watch::TeamSpace(other)),
            "membership decides on re-read"
        );
        assert!(!change.reaches(other, Figures::Metrics, Watch::Organization));
        assert!(!change.reaches(org.uuid(), Figures::Delivery, Watch::Organization));
        let all = Change::everything(org);
        assert!(all.reaches(org.uuid(), Figures::Delivery, Watch::Developer(other)));
    }

    #[tokio::test]
    async fn changes_that_come_while_waiting_are_folded_into_one_wake_up() {
        let every = Duration::from_millis(300);
        let live = Live::start("sqlite::memory:", sea_orm::DbBackend::Sqlite, every).await;
        let org = OrgId::from_db(Uuid::now_v7());
        let mut feed = Feed::new(&live, org, Figures::Metrics, Watch::Organization).unwrap();
        let other = OrgId::from_db(Uuid::now_v7());
        live.committed(Change::everything(other));
        live.committed(Change::everything(org));
        let first = Instant::now();
        assert!(feed.changed().await);
        for _ in 0..50 {
            live.committed(Change::everything(org));
        }
        assert!(feed.changed().await);
        assert!(first.elapsed() >= every, "the next one an interval later");
        // All fifty were folded into that one wake-up.
        let waited = tokio::time::timeout(every * 3, feed.changed()).await;
        assert!(waited.is_err(), "nothing left to wake up for");
        // Another organization's change wakes nobody here.
        live.committed(Change::everything(other));
        let waited = tokio::time::timeout(every * 3, feed.changed()).await;
        assert!(waited.is_err());
    }
}
