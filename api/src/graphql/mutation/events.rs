//! `recordEvents`: the same ingestion as `POST /v1/events`, for dashboard
//! users (role member and above).

use crate::ids::GlobalId as _;
use async_graphql::{ID, InputObject, Json, SimpleObject};

use super::Mutation;
use crate::{
    error::AppResult,
    graphql::request::RequestData,
    ids::ProjectId,
    service::events::{self, EventInput},
};

#[derive(InputObject)]
#[graphql(name = "EventInput")]
pub struct EventInputGql {
    /// The client's id for the event: a retry with the same id counts once.
    pub id: String,
    /// 1 to 100 of letters, digits, `_`, `.`, `:` and `-`.
    pub name: String,
    /// The developer's email or id; unknown ones are stored as unmatched.
    pub developer: Option<String>,
    /// RFC 3339 with an offset.
    pub occurred_at: String,
    /// A JSON object of at most 8 KiB and 5 levels.
    pub properties: Option<Json<serde_json::Value>>,
}

#[derive(InputObject)]
pub struct RecordEventsInput {
    pub project_id: ID,
    pub events: Vec<EventInputGql>,
}

#[derive(SimpleObject)]
pub struct RecordEventsPayload {
    /// Events stored by this call.
    pub accepted: i64,
    /// Events already stored before (same id), or repeated in the call.
    pub duplicated: i64,
    /// Accepted events naming a developer the organization does not know.
    pub unmatched: i64,
}

mutations!(EventMutations {
    /// Records a batch of activity events for a project: all or none.
    record_events(RecordEventsInput);
});

impl Mutation for RecordEventsInput {
    type Payload = RecordEventsPayload;

    async fn run(self, rq: &RequestData) -> AppResult<RecordEventsPayload> {
        let project = ProjectId::from_global(&self.project_id)?;
        let batch = self
            .events
            .into_iter()
            .map(|e| EventInput {
                client_id: e.id,
                name: e.name,
                developer: e.developer,
                occurred_at: e.occurred_at,
                properties: e.properties.map(|j| j.0),
            })
            .collect();
        let done = events::ingest(
            rq.tenant(),
            &rq.db,
            &rq.live,
            project,
            batch,
            &rq.limits.ingest,
        )
        .await?;
        rq.telemetry.events_ingested(done.accepted as u64);
        Ok(RecordEventsPayload {
            accepted: done.accepted as i64,
            duplicated: done.duplicated as i64,
            unmatched: done.unmatched as i64,
        })
    }
}
