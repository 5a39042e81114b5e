"""Turns bench/run.sh's results.jsonl into the README's Performance table:
one row per scenario, concurrency and server, with the whole level and its
first and last thirds (a last third slower than the first is a server that
slowed down during the level, e.g. when PostgreSQL switched a prepared
statement to a generic plan), then devgraph's ratio to PostGraphile."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
machine = sys.argv[2] if len(sys.argv) > 2 else ""
by = {(r["server"], r["scenario"], r["concurrency"]): r for r in rows}
scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
levels = sorted({r["concurrency"] for r in rows})
names = {"devgraph": "devgraph", "postgraphile": "PostGraphile"}
servers = [s for s in names if any(r["server"] == s for r in rows)]


def rps(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def figures(f):
    if f.get("requests", 1) == 0:  # a third in which no request completed
        return "0 | – | –"
    return f"{rps(f['rps'])} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f}"


def change(r):
    """The last third's req/s against the first's."""
    a, b = r.get("first_third"), r.get("last_third")
    if not a or not b or a["rps"] <= 0:
        return "–"
    return f"{(b['rps'] / a['rps'] - 1) * 100:+.0f}%"


def ratio(key):
    d, p = by.get(("devgraph",) + key), by.get(("postgraphile",) + key)
    if not d or not p:
        return "–", "–"
    whole = f"{d['rps'] / p['rps']:.2f}×" if p["rps"] > 0 else "–"
    dl, pl = d.get("last_third"), p.get("last_third")
    last = f"{dl['rps'] / pl['rps']:.2f}×" if dl and pl and pl["rps"] > 0 else "–"
    return whole, last


print(f"Machine: {machine}\n")
print("| query | c | s | server | req/s | p50 ms | p99 ms | first ⅓ req/s | p50 ms | p99 ms "
      "| last ⅓ req/s | p50 ms | p99 ms | last/first | requests | SQL/req | errors "
      "| ratio | ratio last ⅓ |")
print("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in scenarios:
    for c in levels:
        for server in servers:
            r = by.get((server, s, c))
            if r is None:
                continue
            stmts = r.get("statements_per_request")
            whole, last = ratio((s, c)) if server == "devgraph" else ("", "")
            first_third = figures(r["first_third"]) if "first_third" in r else "– | – | –"
            last_third = figures(r["last_third"]) if "last_third" in r else "– | – | –"
            print(f"| {s} | {c} | {r.get('duration', round(r['seconds']))} | {names[server]} "
                  f"| {figures(r)} | {first_third} | {last_third} | {change(r)} "
                  f"| {r['requests']:,} | {'–' if stmts is None else f'{stmts:.1f}'} | {r['errors']} "
                  f"| {whole} | {last} |")
