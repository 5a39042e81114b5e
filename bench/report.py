"""Turns bench/run.sh's results.jsonl into the README's Performance table."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
machine = sys.argv[2] if len(sys.argv) > 2 else ""
by = {(r["server"], r["scenario"], r["concurrency"]): r for r in rows}
scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
levels = sorted({r["concurrency"] for r in rows})


def cell(r):
    if r is None:
        return "– | – | – | – | –"
    stmts = r.get("statements_per_request")
    return "{:,.0f} | {:.1f} | {:.1f} | {} | {}".format(
        r["rps"], r["p50_ms"], r["p99_ms"], "–" if stmts is None else f"{stmts:.1f}", r["errors"])


print(f"Machine: {machine}\n")
print("| query | c | devgraph req/s | p50 ms | p99 ms | SQL/req | errors "
      "| PostGraphile req/s | p50 ms | p99 ms | SQL/req | errors | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for s in scenarios:
    for c in levels:
        d, p = by.get(("devgraph", s, c)), by.get(("postgraphile", s, c))
        ratio = f"{d['rps'] / p['rps']:.2f}×" if d and p and p["rps"] > 0 else "–"
        print(f"| {s} | {c} | {cell(d)} | {cell(p)} | {ratio} |")
