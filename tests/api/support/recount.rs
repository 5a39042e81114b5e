//! What every rollup must hold, recounted in the test from the raw
//! `events` table (plus the counts of raw events retention has purged,
//! which the test keeps aside when it purges them), and what each metrics
//! query must answer from that recount. The rollup tests compare the five
//! rollup tables and the server's metrics with it.

use entity::scoped::InOrg as _;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use devgraph::ids::{DeveloperId, OrgId, ProjectId, TeamSpaceId};
use entity::{
    UNKNOWN_DEVELOPER, aggregated_event, developer_rollup, organization_rollup, project_rollup,
    team_space_member, team_space_rollup,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Gid, TestApp, events::raw};

/// (project, developer or the unknown value, name, day): `aggregated_events`' key.
pub type AggKey = (Uuid, Uuid, String, NaiveDate);
/// (scope: team space, project or developer, day, name).
pub type ScopedKey = (Uuid, NaiveDate, String);

/// Every rollup table of one organization, as stored or as recounted;
/// rows with a zero count are kept, so a stale zero row is a difference.
#[derive(Debug, PartialEq, Eq)]
pub struct Rollups {
    pub aggregated: BTreeMap<AggKey, i64>,
    pub organization: BTreeMap<(NaiveDate, String), i64>,
    pub project: BTreeMap<ScopedKey, i64>,
    pub developer: BTreeMap<ScopedKey, i64>,
    pub team_space: BTreeMap<ScopedKey, i64>,
}

/// The recount: `aggregated_events` as the raw events (bucketed by
/// `day_of`) and the purged counts make it, and the memberships now.
pub struct Recount {
    pub aggregated: BTreeMap<AggKey, i64>,
    /// (team space, developer).
    pub members: BTreeSet<(Uuid, Uuid)>,
}

impl Recount {
    pub async fn of(
        app: &TestApp,
        org: OrgId,
        purged: &BTreeMap<AggKey, i64>,
        day_of: impl Fn(DateTime<Utc>) -> NaiveDate,
    ) -> Recount {
        let mut aggregated = purged.clone();
        for e in raw(app, org).await {
            let dev = e.developer_id.unwrap_or(UNKNOWN_DEVELOPER);
            *aggregated
                .entry((e.project_id, dev, e.name, day_of(e.occurred_at)))
                .or_default() += 1;
        }
        let members = team_space_member::Entity::find_in(org)
            .all(app.db())
            .await
            .expect("members")
            .into_iter()
            .map(|m| (m.team_space_id, m.developer_id))
            .collect();
        Recount {
            aggregated,
            members,
        }
    }

    fn spaces_of(&self, dev: Uuid) -> impl Iterator<Item = Uuid> + '_ {
        self.members
            .iter()
            .filter(move |(_, d)| *d == dev)
            .map(|(s, _)| *s)
    }

    /// Each rollup as a GROUP BY of the recount.
    pub fn rollups(&self) -> Rollups {
        let mut r = Rollups {
            aggregated: self.aggregated.clone(),
            organization: BTreeMap::new(),
            project: BTreeMap::new(),
            developer: BTreeMap::new(),
            team_space: BTreeMap::new(),
        };
        for ((project, dev, name, day), n) in &self.aggregated {
            *r.organization.entry((*day, name.clone())).or_default() += n;
            *r.project.entry((*project, *day, name.clone())).or_default() += n;
            *r.developer.entry((*dev, *day, name.clone())).or_default() += n;
            for space in self.spaces_of(*dev) {
                *r.team_space.entry((space, *day, name.clone())).or_default() += n;
            }
        }
        r
    }

    /// What `ask` must answer, keyed like [`actual`].
    pub fn metrics(&self, ask: &MetricAsk) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        if ask.group_by.is_empty() {
            out.insert(row_key(&json!({})), 0);
        }
        let has = |d: &str| ask.group_by.contains(&d);
        for ((project, dev, name, day), n) in &self.aggregated {
            let spaces: Vec<Uuid> = self.spaces_of(*dev).collect();
            let known = *dev != UNKNOWN_DEVELOPER;
            let keep = *day >= ask.from
                && *day <= ask.to
                && ask.names.as_ref().is_none_or(|ns| ns.contains(name))
                && ask.projects.as_ref().is_none_or(|ps| ps.contains(project))
                && ask.devs.as_ref().is_none_or(|ds| known && ds.contains(dev))
                && ask
                    .spaces
                    .as_ref()
                    .is_none_or(|ss| spaces.iter().any(|s| ss.contains(s)))
                && match ask.scope {
                    AskScope::Org => true,
                    AskScope::Space(s) => spaces.contains(&s),
                    AskScope::Project(p) => *project == p,
                };
            if !keep {
                continue;
            }
            // TEAM_SPACE fans a row out to each team space of its developer
            // that the scope and filter leave.
            let fan: Vec<Option<Uuid>> = if has("TEAM_SPACE") {
                spaces
                    .iter()
                    .filter(|s| ask.spaces.as_ref().is_none_or(|ss| ss.contains(s)))
                    .filter(|s| !matches!(ask.scope, AskScope::Space(x) if x != **s))
                    .map(|s| Some(*s))
                    .collect()
            } else {
                vec![None]
            };
            for space in fan {
                let mut row = json!({});
                if has("DAY") {
                    row["day"] = json!(day);
                }
                if has("WEEK") {
                    let monday = *day - Duration::days(day.weekday().num_days_from_monday().into());
                    row["week"] = json!(monday);
                }
                if has("EVENT_NAME") {
                    row["eventName"] = json!(name);
                }
                if has("DEVELOPER") {
                    let id = known.then(|| DeveloperId::from_db(*dev).gid());
                    row["developerId"] = json!(id);
                }
                if let Some(s) = space {
                    row["teamSpaceId"] = json!(TeamSpaceId::from_db(s).gid());
                }
                if has("PROJECT") {
                    row["projectId"] = json!(ProjectId::from_db(*project).gid());
                }
                *out.entry(row_key(&row)).or_default() += n;
            }
        }
        out
    }
}

/// The five rollup tables of `org` as stored.
pub async fn stored(app: &TestApp, org: OrgId) -> Rollups {
    let db = app.db();
    let aggregated = aggregated_event::Entity::find_in(org).all(db).await;
    let organization = organization_rollup::Entity::find_in(org).all(db).await;
    let project = project_rollup::Entity::find_in(org).all(db).await;
    let developer = developer_rollup::Entity::find_in(org).all(db).await;
    let team_space = team_space_rollup::Entity::find_in(org).all(db).await;
    Rollups {
        aggregated: (aggregated.expect("aggregated").into_iter())
            .map(|r| ((r.project_id, r.developer_id, r.name, r.day), r.count))
            .collect(),
        organization: (organization.expect("organization").into_iter())
            .map(|r| ((r.day, r.name), r.count))
            .collect(),
        project: (project.expect("project").into_iter())
            .map(|r| ((r.project_id, r.day, r.name), r.count))
            .collect(),
        developer: (developer.expect("developer").into_iter())
            .map(|r| ((r.developer_id, r.day, r.name), r.count))
            .collect(),
        team_space: (team_space.expect("team space").into_iter())
            .map(|r| ((r.team_space_id, r.day, r.name), r.count))
            .collect(),
    }
}

/// Whose metrics a [`MetricAsk`] reads.
#[derive(Debug, Clone, Copy)]
pub enum AskScope {
    Org,
    Space(Uuid),
    Project(Uuid),
}

/// One metrics call, with database ids.
#[derive(Debug, Clone)]
pub struct MetricAsk {
    pub scope: AskScope,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: Vec<&'static str>,
    pub names: Option<Vec<String>>,
    pub spaces: Option<Vec<Uuid>>,
    pub projects: Option<Vec<Uuid>>,
    pub devs: Option<Vec<Uuid>>,
}

/// What the server answers to `ask`, keyed like [`Recount::metrics`].
pub async fn actual(
    app: &TestApp,
    token: &str,
    ask: &MetricAsk,
) -> Result<BTreeMap<String, i64>, String> {
    const ROW: &str = "{ day week eventName developerId teamSpaceId projectId count }";
    const ARGS: &str = "(from: $f, to: $t, filter: $filter, groupBy: $g)";
    let (decl, field, id) = match ask.scope {
        AskScope::Org => ("", "organization", None),
        AskScope::Space(s) => (
            ", $id: ID!",
            "teamSpace(id: $id)",
            Some(TeamSpaceId::from_db(s).gid()),
        ),
        AskScope::Project(p) => (
            ", $id: ID!",
            "project(id: $id)",
            Some(ProjectId::from_db(p).gid()),
        ),
    };
    let q = format!(
        "query($f: Date!, $t: Date!, $filter: MetricFilter, $g: [MetricDimension!]!{decl}) \
         {{ scope: {field} {{ metrics{ARGS} {ROW} }} }}"
    );
    let gids = |ids: &[Uuid], gid: fn(Uuid) -> String| -> Value {
        json!(ids.iter().map(|id| gid(*id)).collect::<Vec<_>>())
    };
    let mut filter = json!({});
    if let Some(n) = &ask.names {
        filter["eventNames"] = json!(n);
    }
    if let Some(s) = &ask.spaces {
        filter["teamSpaceIds"] = gids(s, |id| TeamSpaceId::from_db(id).gid());
    }
    if let Some(p) = &ask.projects {
        filter["projectIds"] = gids(p, |id| ProjectId::from_db(id).gid());
    }
    if let Some(d) = &ask.devs {
        filter["developerIds"] = gids(d, |id| DeveloperId::from_db(id).gid());
    }
    let mut vars = json!({ "f": ask.from, "t": ask.to, "filter": filter, "g": ask.group_by });
    if let Some(id) = id {
        vars["id"] = json!(id);
    }
    let r = app.gql(token, &q, vars).await;
    counts_by_key(&r.body, &ask.group_by)
}

/// The `scope.metrics` rows of a reply as `row_key → count`, or the reply
/// when it has errors. A grouped field is part of the key even when null;
/// another field only when (wrongly) filled; a repeated key is marked.
pub fn counts_by_key(body: &Value, group_by: &[&str]) -> Result<BTreeMap<String, i64>, String> {
    let rows = body["data"]["scope"]["metrics"].as_array();
    let (Some(rows), None) = (rows, body.get("errors")) else {
        return Err(format!("{body:?}"));
    };
    let mut out = BTreeMap::new();
    for row in rows {
        let mut keyed = json!({});
        for (k, v) in row.as_object().expect("row") {
            let grouped = group_by.iter().any(|g| field_of(g) == k);
            if k != "count" && (grouped || !v.is_null()) {
                keyed[k] = v.clone();
            }
        }
        let mut key = row_key(&keyed);
        if out.contains_key(&key) {
            key.push_str("#dup");
        }
        out.insert(key, row["count"].as_i64().expect("count"));
    }
    Ok(out)
}

/// `None` when the server answers `ask` as the recount does; else the difference.
pub async fn check(
    app: &TestApp,
    token: &str,
    recount: &Recount,
    ask: &MetricAsk,
) -> Option<String> {
    let want = recount.metrics(ask);
    match actual(app, token, ask).await {
        Err(e) => Some(format!("{ask:?}: error {e}")),
        Ok(got) if got == want => None,
        Ok(got) => {
            let mut diff: Vec<String> = Vec::new();
            for k in want.keys().chain(got.keys()).collect::<BTreeSet<_>>() {
                if want.get(k) != got.get(k) {
                    diff.push(format!("{k}: want {:?} got {:?}", want.get(k), got.get(k)));
                }
            }
            diff.truncate(6);
            Some(format!("{ask:?}:\n    {}", diff.join("\n    ")))
        }
    }
}

/// The `MetricRow` field of a dimension.
pub fn field_of(dimension: &str) -> &'static str {
    match dimension {
        "DAY" => "day",
        "WEEK" => "week",
        "EVENT_NAME" => "eventName",
        "DEVELOPER" => "developerId",
        "TEAM_SPACE" => "teamSpaceId",
        "PROJECT" => "projectId",
        other => panic!("no dimension {other}"),
    }
}

/// A JSON object as a map key, its fields in sorted order.
pub fn row_key(row: &Value) -> String {
    let sorted: BTreeMap<_, _> = row.as_object().expect("object").iter().collect();
    serde_json::to_string(&sorted).expect("key")
}
