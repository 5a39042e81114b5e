-- Computed columns that give PostGraphile v4 what devgraph's benchmark
-- queries read, from the same tables and with the same semantics as
-- devgraph (api/src/service/analytics/ and the resolvers in
-- api/src/graphql/types/), so that both servers return the same data for
-- the same work. PostGraphile inlines them into its one statement per
-- request. Created only in the benchmark database; bench/run.sh checks that
-- both servers' answers are equal before it measures anything.
--
--   devgraph field                           table read           here
--   Developer.activity(from, to)             developer_rollups    developers_activity
--     one row per day of the range, days without events count 0
--   TeamSpace.metrics(groupBy: [DAY, EVENT_NAME])
--                                            team_space_rollups   team_spaces_metrics
--   Organization.metrics(groupBy: [DAY, TEAM_SPACE])
--                                            team_space_rollups   organizations_metrics_by_team_space
--   Organization.metrics(groupBy: [EVENT_NAME])
--                                            organization_rollups organizations_metrics_by_event_name
--   TeamSpace.developers, Developer.teamSpaces (pages ordered by name, id)
--                                            team_space_members   team_spaces_developers,
--                                                                 developers_team_spaces
--
-- Grouped metrics are not zero-filled (devgraph returns the groups that
-- have rows), only a developer's activity is.
SET client_min_messages = warning;
DROP FUNCTION IF EXISTS developers_activity, team_spaces_metrics, organizations_metrics_by_team_space,
  organizations_metrics_by_event_name, team_spaces_developers, developers_team_spaces;
DROP TYPE IF EXISTS bench_day_count, bench_metric_row, bench_space_day, bench_name_count;
CREATE TYPE bench_day_count AS (day date, count bigint);
CREATE TYPE bench_metric_row AS (day date, event_name text, count bigint);
CREATE TYPE bench_space_day AS (day date, team_space_id uuid, count bigint);
CREATE TYPE bench_name_count AS (event_name text, count bigint);

-- Every day from from_day to to_day, 0 where the developer has no events
-- (devgraph's Developer.activity zero-fills the same way).
CREATE FUNCTION developers_activity(d developers, from_day date, to_day date)
RETURNS SETOF bench_day_count LANGUAGE sql STABLE AS $$
  SELECT g.day::date, coalesce(x.count, 0)::bigint
  FROM generate_series(from_day::timestamp, to_day::timestamp, interval '1 day') AS g(day)
  LEFT JOIN (
    SELECT a.day, sum(a.count) AS count
    FROM developer_rollups a
    WHERE a.organization_id = d.organization_id AND a.developer_id = d.id
      AND a.day BETWEEN from_day AND to_day
    GROUP BY a.day
  ) x ON x.day = g.day::date
  ORDER BY g.day
$$;

-- A team space's events per day and name, from the team-space rollup (the
-- sum of its current members' daily rows), as TeamSpace.metrics reads it.
CREATE FUNCTION team_spaces_metrics(t team_spaces, from_day date, to_day date)
RETURNS SETOF bench_metric_row LANGUAGE sql STABLE AS $$
  SELECT r.day, r.name, sum(r.count)::bigint
  FROM team_space_rollups r
  WHERE r.organization_id = t.organization_id AND r.team_space_id = t.id
    AND r.day BETWEEN from_day AND to_day
  GROUP BY r.day, r.name ORDER BY r.day, r.name
$$;

-- The organization's events per day and team space, from the same rollup
-- (Organization.metrics(groupBy: [DAY, TEAM_SPACE]) reads it too).
CREATE FUNCTION organizations_metrics_by_team_space(o organizations, from_day date, to_day date)
RETURNS SETOF bench_space_day LANGUAGE sql STABLE AS $$
  SELECT r.day, r.team_space_id, sum(r.count)::bigint
  FROM team_space_rollups r
  WHERE r.organization_id = o.id AND r.day BETWEEN from_day AND to_day
  GROUP BY r.day, r.team_space_id ORDER BY r.day, r.team_space_id
$$;

-- The organization's totals per event name, from the organization's daily
-- rollup (Organization.metrics(groupBy: [EVENT_NAME]) reads it too).
CREATE FUNCTION organizations_metrics_by_event_name(o organizations, from_day date, to_day date)
RETURNS SETOF bench_name_count LANGUAGE sql STABLE AS $$
  SELECT a.name, sum(a.count)::bigint
  FROM organization_rollups a
  WHERE a.organization_id = o.id AND a.day BETWEEN from_day AND to_day
  GROUP BY a.name ORDER BY a.name
$$;

-- A team space's developers and a developer's team spaces as tables, so
-- that the queries can page them in devgraph's order (orderBy name, then
-- id; `@sortable` gives the connection its orderBy): the generated
-- membership connections can only order by the membership's own columns,
-- which would pick a different page.
CREATE FUNCTION team_spaces_developers(t team_spaces)
RETURNS SETOF developers LANGUAGE sql STABLE AS $$
  SELECT d.*
  FROM team_space_members m
  JOIN developers d ON d.organization_id = m.organization_id AND d.id = m.developer_id
  WHERE m.organization_id = t.organization_id AND m.team_space_id = t.id
$$;

CREATE FUNCTION developers_team_spaces(d developers)
RETURNS SETOF team_spaces LANGUAGE sql STABLE AS $$
  SELECT t.*
  FROM team_space_members m
  JOIN team_spaces t ON t.organization_id = m.organization_id AND t.id = m.team_space_id
  WHERE m.organization_id = d.organization_id AND m.developer_id = d.id
$$;

COMMENT ON FUNCTION team_spaces_developers(team_spaces) IS E'@sortable';
COMMENT ON FUNCTION developers_team_spaces(developers) IS E'@sortable';
