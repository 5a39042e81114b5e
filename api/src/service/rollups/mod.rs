//! Every write of a rollup: the daily rollup that every metric reads
//! (`daily`), the team-space rollup kept equal to its members' daily rows
//! (`team`), and the re-bucketing of retained raw events after a time-zone
//! change (`rebuild`). Each is called inside the transaction of the change
//! that moves it.

pub mod daily;
pub mod rebuild;
pub mod team;
