//! Mergeable duration sketches, for the delivery metrics' percentiles: fixed log-scale
//! buckets (the DDSketch scheme), so that two sketches merge by adding their bucket counts.
//! A rollup row can keep one per day and scope, and any set of days, developers or team
//! spaces merges into a sketch whose percentiles are as accurate as one built from the raw
//! durations.
//!
//! Bucket `i` holds durations in `(γ^(i-1), γ^i]` seconds, with `γ = (1 + α) / (1 - α)`; a
//! quantile answers the bucket's midpoint `2γ^i / (γ + 1)`, which is within a relative error
//! of `α` of every duration in the bucket, so of the exact quantile too (the rank is exact;
//! only the value is rounded). Durations under a second count in a zero bucket that answers 0.

use std::collections::BTreeMap;

/// The relative error of every quantile a sketch answers.
pub const RELATIVE_ERROR: f64 = 0.02;

/// `γ` for [`RELATIVE_ERROR`].
fn gamma() -> f64 {
    (1.0 + RELATIVE_ERROR) / (1.0 - RELATIVE_ERROR)
}

/// Durations of at least a second go in buckets; shorter ones count as 0.
const SMALLEST: f64 = 1.0;

/// The bucket counts of a set of durations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sketch {
    /// Durations under a second.
    zero: u64,
    counts: BTreeMap<i32, u64>,
}

impl Sketch {
    /// Counts one duration, in seconds (negative ones, a clock's error, count as 0).
    pub fn add(&mut self, seconds: f64) {
        if !seconds.is_finite() || seconds < SMALLEST {
            self.zero += 1;
            return;
        }
        *self.counts.entry(bucket(seconds)).or_default() += 1;
    }

    /// Adds another sketch's counts: the sketch of both sets of durations.
    pub fn merge(&mut self, other: &Sketch) {
        self.zero += other.zero;
        for (bucket, n) in &other.counts {
            *self.counts.entry(*bucket).or_default() += n;
        }
    }

    pub fn count(&self) -> u64 {
        self.zero + self.counts.values().sum::<u64>()
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) of the durations, in seconds, within
    /// [`RELATIVE_ERROR`]; `None` without durations. The rank is the lower one,
    /// `ceil(q·n)` (1-based), as in the nearest-rank definition.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * n as f64).ceil() as u64).max(1);
        if rank <= self.zero {
            return Some(0.0);
        }
        let mut seen = self.zero;
        for (bucket, count) in &self.counts {
            seen += count;
            if seen >= rank {
                return Some(value(*bucket));
            }
        }
        self.counts.keys().next_back().map(|b| value(*b))
    }

    /// The bucket counts as `(bucket, count)` pairs, the zero bucket as `i32::MIN`: what a
    /// rollup row stores.
    pub fn buckets(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        let zero = (self.zero > 0).then_some((i32::MIN, self.zero));
        zero.into_iter()
            .chain(self.counts.iter().map(|(b, n)| (*b, *n)))
    }

    /// A sketch from stored `(bucket, count)` pairs (see [`Sketch::buckets`]).
    pub fn from_buckets(pairs: impl IntoIterator<Item = (i32, u64)>) -> Sketch {
        let mut sketch = Sketch::default();
        for (bucket, n) in pairs {
            if bucket == i32::MIN {
                sketch.zero += n;
            } else {
                *sketch.counts.entry(bucket).or_default() += n;
            }
        }
        sketch
    }
}

/// The bucket a duration counts in, as [`Sketch::buckets`] names it (the zero bucket is
/// `i32::MIN`).
pub fn bucket_of(seconds: f64) -> i32 {
    if !seconds.is_finite() || seconds < SMALLEST {
        return i32::MIN;
    }
    bucket(seconds)
}

fn bucket(seconds: f64) -> i32 {
    (seconds.ln() / gamma().ln()).ceil() as i32
}

fn value(bucket: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(bucket) / (g + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic log-normal sample (Box–Muller over a linear congruential generator):
    /// durations from minutes to days, like pull-request cycle times.
    fn durations(n: usize, seed: u64) -> Vec<f64> {
        let mut state = seed;
        let mut uniform = move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        (0..n)
            .map(|_| {
                let z =
                    (-2.0 * uniform().ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
                (9.0 + 1.5 * z).exp()
            })
            .collect()
    }

    fn exact(sorted: &[f64], q: f64) -> f64 {
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1]
    }

    #[test]
    fn quantiles_are_within_the_relative_error_at_two_sizes() {
        for n in [200, 20_000] {
            let mut values = durations(n, n as u64);
            let mut sketch = Sketch::default();
            for v in &values {
                sketch.add(*v);
            }
            values.sort_by(f64::total_cmp);
            for q in [0.5, 0.75, 0.9, 0.99] {
                let (got, want) = (sketch.quantile(q).unwrap_or(f64::NAN), exact(&values, q));
                let error = (got - want).abs() / want;
                assert!(
                    error <= RELATIVE_ERROR,
                    "n={n} q={q}: {got} vs {want} ({error})"
                );
            }
        }
    }

    #[test]
    fn merged_sketches_equal_the_sketch_of_all_durations() {
        let values = durations(5_000, 7);
        let (mut left, mut right, mut all) =
            (Sketch::default(), Sketch::default(), Sketch::default());
        for (i, v) in values.iter().enumerate() {
            if i % 3 == 0 {
                left.add(*v)
            } else {
                right.add(*v)
            }
            all.add(*v);
        }
        left.merge(&right);
        assert_eq!(left, all);
        let stored = Sketch::from_buckets(all.buckets().collect::<Vec<_>>());
        assert_eq!(stored, all);
    }

    #[test]
    fn short_and_missing_durations() {
        let mut sketch = Sketch::default();
        assert_eq!(sketch.quantile(0.5), None);
        for v in [0.2, -3.0, 0.0, 3600.0] {
            sketch.add(v);
        }
        assert_eq!(sketch.count(), 4);
        assert_eq!(sketch.quantile(0.75), Some(0.0));
        let top = sketch.quantile(1.0).unwrap_or_default();
        assert!((top - 3600.0).abs() / 3600.0 <= RELATIVE_ERROR, "{top}");
    }
}
