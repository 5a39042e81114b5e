//! `Shop`: the fixture of the metrics tests, an organization whose every
//! event is also kept as a `Fact`, so any metrics call (an `Ask`) can be
//! answered here and compared with the server's answer.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use devgraph::ids::{ProjectId, TeamSpaceId};
use entity::{UNKNOWN_DEVELOPER, enums::DeveloperRole};
use serde_json::{Value, json};

use crate::support::{
    Dev, Gid, TestApp, create_key,
    events::{at, days_ago, ev, send, today},
    random::Lcg,
    recount::{AggKey, AskScope, MetricAsk, Recount},
};

/// Who an event of the [`Shop`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// `Shop::devs[i]`.
    Dev(usize),
    /// An email the organization does not know.
    Stranger,
    /// No developer at all.
    Nobody,
}

/// One event the [`Shop`] sent.
#[derive(Debug, Clone)]
pub struct Fact {
    pub project: usize,
    pub who: Who,
    pub name: &'static str,
    pub day: NaiveDate,
}

/// An organization (UTC) whose metrics are checked against what it sent:
/// developers alice (in both team spaces), bob (space 0), carol (space 1),
/// dave (none); projects 0 (owned by space 0), 1 (space 1), 2 (none);
/// 240 events over the last 20 days (none today), by each of them, by
/// strangers and by nobody, of `commit`, `review` and `deploy`.
pub struct Shop {
    pub app: TestApp,
    pub token: String,
    pub devs: Vec<Dev>,
    /// The team spaces of each of `devs`.
    pub member_of: Vec<Vec<usize>>,
    pub spaces: Vec<TeamSpaceId>,
    pub projects: Vec<ProjectId>,
    pub facts: Vec<Fact>,
}

pub const NAMES: [&str; 3] = ["commit", "review", "deploy"];

impl Shop {
    pub async fn open() -> Shop {
        let app = TestApp::spawn().await;
        let (org, _owner, token) = app
            .with_org_and_developer("shop", DeveloperRole::Owner)
            .await;
        let spaces = vec![
            app.team_space(org, "Space Zero").await,
            app.team_space(org, "Space One").await,
        ];
        let member_of = vec![vec![0, 1], vec![0], vec![1], vec![]];
        let mut devs = Vec::new();
        for (name, of) in ["Alice A", "Bob B", "Carol C", "Dave D"]
            .iter()
            .zip(&member_of)
        {
            let dev = app.developer(org, name, DeveloperRole::Member).await;
            for s in of {
                let role = entity::enums::TeamSpaceRole::Member;
                app.member(org, spaces[*s], dev.id, role).await;
            }
            devs.push(dev);
        }
        let projects = vec![
            app.project(org, Some(spaces[0]), "zero app").await,
            app.project(org, Some(spaces[1]), "one app").await,
            app.project(org, None, "loose app").await,
        ];
        let mut rng = Lcg(0xD15C0);
        let facts: Vec<Fact> = (0..240)
            .map(|_| Fact {
                project: rng.below(3) as usize,
                who: match rng.below(6) {
                    0..4 => Who::Dev(rng.below(4) as usize),
                    4 => Who::Stranger,
                    _ => Who::Nobody,
                },
                name: NAMES[rng.below(3) as usize],
                day: days_ago(1 + rng.below(20) as i64),
            })
            .collect();
        for (p, project) in projects.iter().enumerate() {
            let key = create_key(&app, &token, "EVENTS_WRITE", Some(*project)).await;
            let events: Vec<Value> = facts
                .iter()
                .enumerate()
                .filter(|(_, f)| f.project == p)
                .map(|(i, f)| {
                    let who = match f.who {
                        Who::Dev(d) if i % 2 == 0 => Some(devs[d].email.clone()),
                        Who::Dev(d) => Some(devs[d].id.gid()),
                        Who::Stranger => Some(format!("stranger{i}@nowhere.test")),
                        Who::Nobody => None,
                    };
                    ev(
                        &format!("f{i}"),
                        f.name,
                        who.as_deref(),
                        at(f.day, 12, 0, 0),
                    )
                })
                .collect();
            send(&app, &key.secret, events).await;
        }
        Shop {
            app,
            token,
            devs,
            member_of,
            spaces,
            projects,
            facts,
        }
    }

    /// What `ask` must return, computed from the facts: they are counted
    /// as `aggregated_events` holds them and answered by the recount the
    /// rollup tests use.
    pub fn expected(&self, ask: &Ask) -> BTreeMap<String, i64> {
        let mut aggregated: BTreeMap<AggKey, i64> = BTreeMap::new();
        for f in &self.facts {
            let dev = match f.who {
                Who::Dev(d) => self.devs[d].id.uuid(),
                Who::Stranger | Who::Nobody => UNKNOWN_DEVELOPER,
            };
            let key = (
                self.projects[f.project].uuid(),
                dev,
                f.name.to_owned(),
                f.day,
            );
            *aggregated.entry(key).or_default() += 1;
        }
        let members = (self.member_of.iter().enumerate())
            .flat_map(|(d, spaces)| spaces.iter().map(move |s| (d, *s)))
            .map(|(d, s)| (self.spaces[s].uuid(), self.devs[d].id.uuid()))
            .collect();
        let recount = Recount {
            aggregated,
            members,
        };
        recount.metrics(&MetricAsk {
            scope: match ask.scope {
                Scope::Org => AskScope::Org,
                Scope::Space(s) => AskScope::Space(self.spaces[s].uuid()),
                Scope::Project(p) => AskScope::Project(self.projects[p].uuid()),
            },
            from: ask.from,
            to: ask.to,
            group_by: ask.group_by.clone(),
            names: (ask.names.as_ref()).map(|n| n.iter().map(|n| n.to_string()).collect()),
            spaces: (ask.spaces.as_ref())
                .map(|s| s.iter().map(|s| self.spaces[*s].uuid()).collect()),
            projects: (ask.projects.as_ref())
                .map(|p| p.iter().map(|p| self.projects[*p].uuid()).collect()),
            devs: (ask.devs.as_ref()).map(|d| d.iter().map(|d| self.devs[*d].id.uuid()).collect()),
        })
    }

    /// What the server returns for `ask`, keyed like [`Shop::expected`]
    /// (a repeated key is kept apart, marked `#dup`).
    pub async fn actual(&self, ask: &Ask) -> Result<BTreeMap<String, i64>, String> {
        const ROW: &str = "{ day week eventName developerId teamSpaceId projectId count }";
        const ARGS: &str = "(from: $f, to: $t, filter: $filter, groupBy: $g)";
        let (decl, field, id) = match ask.scope {
            Scope::Org => ("", "organization", None),
            Scope::Space(s) => (
                ", $id: ID!",
                "teamSpace(id: $id)",
                Some(self.spaces[s].gid()),
            ),
            Scope::Project(p) => (
                ", $id: ID!",
                "project(id: $id)",
                Some(self.projects[p].gid()),
            ),
        };
        let q = format!(
            "query($f: Date!, $t: Date!, $filter: MetricFilter, $g: [MetricDimension!]!{decl}) \
             {{ scope: {field} {{ metrics{ARGS} {ROW} }} }}"
        );
        let mut filter = json!({});
        if let Some(n) = &ask.names {
            filter["eventNames"] = json!(n);
        }
        if let Some(s) = &ask.spaces {
            filter["teamSpaceIds"] =
                json!(s.iter().map(|s| self.spaces[*s].gid()).collect::<Vec<_>>());
        }
        if let Some(p) = &ask.projects {
            filter["projectIds"] = json!(
                p.iter()
                    .map(|p| self.projects[*p].gid())
                    .collect::<Vec<_>>()
            );
        }
        if let Some(d) = &ask.devs {
            filter["developerIds"] =
                json!(d.iter().map(|d| self.devs[*d].id.gid()).collect::<Vec<_>>());
        }
        let mut vars = json!({ "f": ask.from, "t": ask.to, "filter": filter, "g": ask.group_by });
        if let Some(id) = id {
            vars["id"] = json!(id);
        }
        let r = self.app.gql(&self.token, &q, vars).await;
        super::recount::counts_by_key(&r.body, &ask.group_by)
    }

    /// `None` when the server answers `ask` as expected; else the difference.
    pub async fn check(&self, ask: Ask) -> Option<String> {
        let want = self.expected(&ask);
        match self.actual(&ask).await {
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
}

#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Org,
    Space(usize),
    Project(usize),
}

/// One metrics call: scope, range, filter (indices into the `Shop`'s
/// names, team spaces, projects and developers) and grouping.
#[derive(Debug, Clone)]
pub struct Ask {
    pub scope: Scope,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_by: Vec<&'static str>,
    pub names: Option<Vec<&'static str>>,
    pub spaces: Option<Vec<usize>>,
    pub projects: Option<Vec<usize>>,
    pub devs: Option<Vec<usize>>,
}

impl Ask {
    /// The last 30 days, ungrouped, unfiltered.
    pub fn new(scope: Scope) -> Ask {
        Ask {
            scope,
            from: days_ago(30),
            to: today(),
            group_by: vec![],
            names: None,
            spaces: None,
            projects: None,
            devs: None,
        }
    }

    pub fn by(mut self, group_by: &[&'static str]) -> Ask {
        self.group_by = group_by.to_vec();
        self
    }
}
