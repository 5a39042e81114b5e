-- Computed columns that give PostGraphile v4 the dashboard's metrics, read
-- from the same daily rollup devgraph reads. PostGraphile inlines them into
-- its one statement per request. Created only in the benchmark database.
DROP FUNCTION IF EXISTS developers_activity, team_spaces_metrics, organizations_metrics_by_team_space;
DROP TYPE IF EXISTS bench_day_count, bench_metric_row, bench_space_day;
CREATE TYPE bench_day_count AS (day date, count bigint);
CREATE TYPE bench_metric_row AS (day date, event_name text, count bigint);
CREATE TYPE bench_space_day AS (day date, team_space_id uuid, count bigint);

CREATE FUNCTION developers_activity(d developers, from_day date, to_day date)
RETURNS SETOF bench_day_count LANGUAGE sql STABLE AS $$
  SELECT a.day, sum(a.count)::bigint
  FROM aggregated_events a
  WHERE a.organization_id = d.organization_id AND a.developer_id = d.id
    AND a.day BETWEEN from_day AND to_day
  GROUP BY a.day ORDER BY a.day
$$;

-- Events of the team space's members, as devgraph's TeamSpace.metrics counts.
CREATE FUNCTION team_spaces_metrics(t team_spaces, from_day date, to_day date)
RETURNS SETOF bench_metric_row LANGUAGE sql STABLE AS $$
  SELECT a.day, a.name, sum(a.count)::bigint
  FROM aggregated_events a
  JOIN team_space_members m
    ON m.organization_id = a.organization_id AND m.developer_id = a.developer_id
  WHERE a.organization_id = t.organization_id AND m.team_space_id = t.id
    AND a.day BETWEEN from_day AND to_day
  GROUP BY a.day, a.name ORDER BY a.day, a.name
$$;

CREATE FUNCTION organizations_metrics_by_team_space(o organizations, from_day date, to_day date)
RETURNS SETOF bench_space_day LANGUAGE sql STABLE AS $$
  SELECT a.day, m.team_space_id, sum(a.count)::bigint
  FROM aggregated_events a
  JOIN team_space_members m
    ON m.organization_id = a.organization_id AND m.developer_id = a.developer_id
  WHERE a.organization_id = o.id AND a.day BETWEEN from_day AND to_day
  GROUP BY m.team_space_id, a.day ORDER BY m.team_space_id, a.day
$$;
