//! What happens in a demo organization and when, told as facts: no database here, so the
//! timing rules can be read (and tested) on their own. This file holds the story's people,
//! calendar and draws; `pull_requests` and `releases` tell the rest. Every duration is a
//! log-normal draw by its median; whatever would happen after now has not happened yet (an
//! unmerged pull request is open, a deployment still running is pending, an unresolved
//! incident is open).

use chrono::{DateTime, Datelike, Days, Duration, NaiveTime, Timelike, Utc, Weekday};
use entity::enums::IdentityKind;
use rand::{Rng, rngs::StdRng};

use crate::service::delivery::facts::IdentityRef;

/// A log-normal duration: its median, and the spread of its logarithm (σ = 1 puts one draw in
/// six above 2.7 times the median, which is how review waits look in real teams).
#[derive(Clone, Copy)]
pub(super) struct LogNormal {
    median_hours: f64,
    sigma: f64,
}

pub(super) const fn hours(median_hours: f64, sigma: f64) -> LogNormal {
    LogNormal {
        median_hours,
        sigma,
    }
}

/// GitHub logins no developer is linked to: bots and contractors. They stay unmatched
/// identities until an admin links them.
const OUTSIDERS: &[&str] = &[
    "dependabot[bot]",
    "renovate[bot]",
    "jmartinez-ext",
    "pkowalski",
];

/// The seeded window (`start` to `now`), the organization's people, and the random stream.
pub(super) struct Story {
    pub rng: StdRng,
    pub start: DateTime<Utc>,
    pub now: DateTime<Utc>,
    /// Developers by email, with a cumulative weight: some write far more than others.
    developers: Vec<(IdentityRef, f64)>,
    pub outsiders: Vec<IdentityRef>,
    serial: u64,
}

impl Story {
    pub(super) fn new(
        mut rng: StdRng,
        emails: &[String],
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Story {
        let mut total = 0.0;
        let mut developers = Vec::with_capacity(emails.len());
        for email in emails {
            let Some(who) = IdentityRef::new(IdentityKind::Email, email) else {
                continue;
            };
            total += (0.6 * normal(&mut rng)).exp();
            developers.push((who, total));
        }
        let outsiders = OUTSIDERS
            .iter()
            .filter_map(|login| IdentityRef::new(IdentityKind::Github, login))
            .collect();
        let serial = rng.random_range(1_000_000..2_000_000);
        Story {
            rng,
            start,
            now,
            developers,
            outsiders,
            serial,
        }
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }

    /// An item of a non-empty list (an empty one gives its default).
    pub fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        if items.is_empty() {
            return T::default();
        }
        items[self.rng.random_range(0..items.len())]
    }

    /// A number unique within the organization's story, above `base`: external ids.
    pub(super) fn serial(&mut self, base: u64) -> u64 {
        self.serial += self.rng.random_range(1..40);
        base + self.serial
    }

    pub(super) fn duration(&mut self, d: LogNormal) -> Duration {
        let h = (d.median_hours.ln() + d.sigma * normal(&mut self.rng)).exp();
        // A four-week cap: one extreme draw would otherwise leave a step beyond any window.
        Duration::seconds((h.min(24.0 * 28.0) * 3600.0) as i64)
    }

    pub(super) fn minutes(&mut self, from: i64, to: i64) -> Duration {
        Duration::seconds(self.rng.random_range(from * 60..to * 60))
    }

    pub(super) fn sha(&mut self) -> String {
        (0..20)
            .map(|_| format!("{:02x}", self.rng.random::<u8>()))
            .collect()
    }

    /// A developer, the busy ones more often; `None` when the organization has none but `not`.
    pub(super) fn developer(&mut self, not: Option<&IdentityRef>) -> Option<IdentityRef> {
        let candidates: Vec<&(IdentityRef, f64)> = self
            .developers
            .iter()
            .filter(|(who, _)| Some(who) != not)
            .collect();
        let total = self.developers.last().map_or(0.0, |(_, w)| *w);
        if candidates.is_empty() || total <= 0.0 {
            return None;
        }
        let x = self.rng.random_range(0.0..total);
        let at = candidates.partition_point(|(_, w)| *w <= x);
        let (who, _) = candidates.get(at).or(candidates.last())?;
        Some(who.clone())
    }

    /// The first working moment at or after `t`: evenings, nights and weekends wait for the
    /// next weekday morning (from 9:00, spread over two hours so they do not all land at once).
    pub(super) fn working(&mut self, t: DateTime<Utc>) -> DateTime<Utc> {
        let (hour, weekend) = (t.hour(), is_weekend(t));
        if !weekend && (8..19).contains(&hour) {
            return t;
        }
        let mut day = t.date_naive();
        if hour >= 19 {
            day = day + Days::new(1);
        }
        while matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            day = day + Days::new(1);
        }
        let morning = day.and_time(NaiveTime::MIN).and_utc() + Duration::hours(9);
        (morning + self.minutes(0, 120)).max(t)
    }

    /// When a repository's pull requests open: a Poisson number a day (weekdays carry nearly
    /// all of the weekly `rate`), at a working hour, oldest first.
    pub(super) fn openings(&mut self, rate: f64) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let first = self.start.date_naive();
        for d in 0..=(self.now - self.start).num_days().max(0) as u64 {
            let midnight = (first + Days::new(d)).and_time(NaiveTime::MIN).and_utc();
            let mean = if is_weekend(midnight) {
                rate * 0.02
            } else {
                rate * 0.196
            };
            for _ in 0..poisson(&mut self.rng, mean) {
                let hour = (13.0 + 2.4 * normal(&mut self.rng)).clamp(7.5, 20.5);
                let at = midnight + Duration::seconds((hour * 3600.0) as i64);
                if at >= self.start && at < self.now {
                    out.push(at);
                }
            }
        }
        out.sort();
        out
    }
}

pub(super) fn is_weekend(t: DateTime<Utc>) -> bool {
    matches!(t.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A standard normal draw (Box–Muller), so that no distribution crate is needed.
pub(super) fn normal(rng: &mut StdRng) -> f64 {
    // (0, 1]: the logarithm of 0 is never taken.
    let u1 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A Poisson draw by Knuth's product of uniforms: exact, and quick for the small means here.
pub(super) fn poisson(rng: &mut StdRng, mean: f64) -> usize {
    let limit = (-mean.max(0.0)).exp();
    let mut product: f64 = rng.random();
    let mut n = 0;
    while product > limit {
        n += 1;
        product *= rng.random::<f64>();
    }
    n
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use rand::SeedableRng;

    use super::*;

    fn story() -> Story {
        let now = Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap();
        let rng = StdRng::seed_from_u64(7);
        Story::new(rng, &["a@x.test".into()], now - Duration::days(28), now)
    }

    #[test]
    fn durations_are_log_normal_around_their_median() {
        let mut s = story();
        let mut draws: Vec<i64> = (0..4001)
            .map(|_| s.duration(hours(3.0, 1.2)).num_seconds())
            .collect();
        draws.sort_unstable();
        let median = draws[2000] as f64 / 3600.0;
        assert!((2.7..3.3).contains(&median), "median {median} h");
        // P(Z > ln 3 / 1.2) ≈ 18%: the long tail of waits.
        let long = draws.iter().filter(|d| **d > 9 * 3600).count() as f64 / 4001.0;
        assert!(
            (0.14..0.22).contains(&long),
            "{long} over three times the median"
        );
    }

    #[test]
    fn poisson_draws_have_their_mean() {
        let mut s = story();
        let total: usize = (0..20_000).map(|_| poisson(&mut s.rng, 1.5)).sum();
        let mean = total as f64 / 20_000.0;
        assert!((1.45..1.55).contains(&mean), "mean {mean}");
    }

    #[test]
    fn nights_and_weekends_wait_for_a_weekday_morning() {
        let mut s = story();
        let at = |d, h, m| Utc.with_ymd_and_hms(2026, 6, d, h, m, 0).unwrap();
        let morning = |d| at(d, 9, 0)..at(d, 11, 0);
        // 2026-06-13 is a Saturday.
        assert!(
            morning(15).contains(&s.working(at(13, 14, 30))),
            "Saturday: Monday"
        );
        assert!(
            morning(17).contains(&s.working(at(16, 22, 30))),
            "Tuesday night"
        );
        assert!(
            morning(22).contains(&s.working(at(19, 23, 30))),
            "Friday night"
        );
        assert!(
            morning(17).contains(&s.working(at(17, 6, 30))),
            "before work"
        );
        assert_eq!(
            s.working(at(17, 10, 30)),
            at(17, 10, 30),
            "working hours stay"
        );
    }
}
