//! Seeded randomness for the events tests: a generator, random events, and
//! randomized batches with the model of what the server must answer.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Duration;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    Dev, Gid,
    events::{at, days_ago, ev},
};

/// A deterministic linear congruential generator (Knuth's MMIX constants).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 11
    }

    /// Uniform-ish in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One new random event: a developer of `devs` named by email (any case) or
/// global id, an unknown email, or none; one of `names`; 1 to 9 days ago at
/// a random microsecond; one random property.
pub fn random_event(rng: &mut Lcg, id: &str, devs: &[Dev], names: &[&str]) -> Value {
    let dev = &devs[rng.below(devs.len() as u64) as usize];
    let who = match rng.below(6) {
        0 | 1 => Some(dev.email.clone()),
        2 => Some(dev.email.to_uppercase()),
        3 => Some(dev.id.gid()),
        4 => Some(format!("ghost{}@nowhere.test", rng.below(3))),
        _ => None,
    };
    let micros = rng.below(86_400_000_000) as i64;
    let when = at(days_ago(1 + rng.below(9) as i64), 0, 0, 0) + Duration::microseconds(micros);
    let name = names[rng.below(names.len() as u64) as usize];
    let mut e = ev(id, name, who.as_deref(), when);
    e["properties"] = json!({ format!("k{}", rng.below(5)): rng.below(100) });
    e
}

/// Picks one item of a non-empty slice.
pub fn pick<T: Clone>(rng: &mut Lcg, items: &[T]) -> T {
    items[rng.below(items.len() as u64) as usize].clone()
}

/// Randomized batches for two projects, and the model of what the server
/// must do with them: each batch mixes new events (see [`random_event`]),
/// earlier events of the project (retries), ids repeated inside the batch,
/// and events of the other project under the same client id (another
/// event there); a quarter of the batches resend an earlier batch whole.
pub struct RandomIngest {
    rng: Lcg,
    devs: Vec<Dev>,
    names: Vec<&'static str>,
    known: [Vec<Value>; 2],
    sent: Vec<(usize, Vec<Value>)>,
    /// (project index, client id) → the developer the event must carry.
    pub stored: BTreeMap<(usize, String), Option<Uuid>>,
    /// Batches resent whole.
    pub retries: usize,
}

impl RandomIngest {
    pub fn new(seed: u64, devs: Vec<Dev>, names: Vec<&'static str>) -> Self {
        RandomIngest {
            rng: Lcg(seed),
            devs,
            names,
            known: [vec![], vec![]],
            sent: vec![],
            stored: BTreeMap::new(),
            retries: 0,
        }
    }

    /// The next batch: (project index, events).
    pub fn next_batch(&mut self) -> (usize, Vec<Value>) {
        let rng = &mut self.rng;
        if !self.sent.is_empty() && rng.chance(25) {
            self.retries += 1;
            let batch = pick(rng, &self.sent);
            self.sent.push(batch.clone());
            return batch;
        }
        let p = rng.below(2) as usize;
        let mut events: Vec<Value> = vec![];
        for _ in 0..1 + rng.below(40) {
            let e = match rng.below(100) {
                0..12 if !self.known[p].is_empty() => pick(rng, &self.known[p]),
                12..20 if !events.is_empty() => pick(rng, &events),
                20..26 if !self.known[1 - p].is_empty() => pick(rng, &self.known[1 - p]),
                _ => {
                    let id = format!("c{}-{}", self.sent.len(), events.len());
                    random_event(rng, &id, &self.devs, &self.names)
                }
            };
            events.push(e);
        }
        self.sent.push((p, events.clone()));
        (p, events)
    }

    /// What the server must answer to `events` sent to project `p`
    /// (accepted, duplicated, unmatched); records the accepted ones.
    pub fn expect(&mut self, p: usize, events: &[Value]) -> (i64, i64, i64) {
        let (mut accepted, mut unmatched, mut in_batch) = (0, 0, BTreeSet::new());
        for e in events {
            let id = e["id"].as_str().expect("id").to_owned();
            if !in_batch.insert(id.clone()) || self.stored.contains_key(&(p, id.clone())) {
                continue;
            }
            let who = e["developer"].as_str().unwrap_or("");
            let dev = self
                .devs
                .iter()
                .find(|d| d.email.eq_ignore_ascii_case(who) || d.id.gid() == who);
            accepted += 1;
            unmatched += i64::from(dev.is_none() && !who.is_empty());
            self.stored.insert((p, id), dev.map(|d| d.id.uuid()));
            self.known[p].push(e.clone());
        }
        (accepted, events.len() as i64 - accepted, unmatched)
    }
}
