"""Checks that devgraph and PostGraphile answer a benchmark query with the
same data, so that the benchmark compares equal work.

    python3 bench/compare.py QUERY DEVGRAPH_ANSWER.json POSTGRAPHILE_ANSWER.json

QUERY is the query file's name without `.graphql` (dashboard, lookup, deep,
metrics, totals). Each answer is turned into the same plain form: global ids
become the uuids they name, PostGraphile's BigInt strings become numbers,
enum values lower case, and every list a sorted row set (the two servers
need not list rows in the same order, but must list the same rows). Exits 1
with a diff of the two forms when they differ, 2 when an answer is empty.
"""
import base64
import difflib
import json
import sys


def uuid_of(global_id):
    """devgraph's opaque id (`Kind:uuid`, base64url) as the uuid."""
    raw = base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()
    return raw.split(":", 1)[1]


def rows(items):
    """A list as a row set: sorted by its canonical JSON."""
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))


def edges(conn):
    return [e["node"] for e in conn["edges"]]


def day_counts(items):
    return rows([[x["day"], int(x["count"])] for x in items])


# --- devgraph ---------------------------------------------------------------

def dg_dashboard(d):
    org = d["organization"]
    return {
        "viewer": {"id": uuid_of(d["viewer"]["id"]), "name": d["viewer"]["name"],
                   "role": d["viewer"]["role"].lower()},
        "organization": {
            "id": uuid_of(org["id"]), "name": org["name"], "slug": org["slug"],
            "teamSpaceCount": org["teamSpaces"]["totalCount"],
            "teamSpaces": rows([{
                "id": uuid_of(t["id"]), "name": t["name"],
                "developers": rows([{
                    "id": uuid_of(v["id"]), "name": v["name"], "email": v["email"],
                    "activity": day_counts(v["activity"]),
                } for v in edges(t["developers"])]),
                "projects": rows([{"id": uuid_of(p["id"]), "name": p["name"], "slug": p["slug"]}
                                  for p in edges(t["projects"])]),
                "metrics": rows([[m["day"], m["eventName"], int(m["count"])] for m in t["metrics"]]),
            } for t in edges(org["teamSpaces"])]),
        },
    }


def dg_lookup(d):
    v = d["developer"]
    return {"id": uuid_of(v["id"]), "name": v["name"], "email": v["email"], "role": v["role"].lower()}


def dg_deep(d):
    return rows([{
        "name": t["name"],
        "developers": rows([{
            "name": v["name"],
            "teamSpaces": rows([{
                "name": s["name"],
                "projects": rows([[p["name"], p["slug"]] for p in s["projects"]["nodes"]]),
            } for s in v["teamSpaces"]["nodes"]]),
        } for v in t["developers"]["nodes"]]),
    } for t in d["organization"]["teamSpaces"]["nodes"]])


def dg_metrics(d):
    return rows([[m["day"], uuid_of(m["teamSpaceId"]), int(m["count"])]
                 for m in d["organization"]["metrics"]])


def dg_totals(d):
    return rows([[m["eventName"], int(m["count"])] for m in d["organization"]["metrics"]])


# --- PostGraphile -----------------------------------------------------------

def pg_dashboard(d):
    org = d["organization"]
    return {
        "viewer": {"id": d["viewer"]["id"], "name": d["viewer"]["name"],
                   "role": d["viewer"]["role"].lower()},
        "organization": {
            "id": org["id"], "name": org["name"], "slug": org["slug"],
            "teamSpaceCount": org["teamSpaces"]["totalCount"],
            "teamSpaces": rows([{
                "id": t["id"], "name": t["name"],
                "developers": rows([{
                    "id": v["id"], "name": v["name"], "email": v["email"],
                    "activity": day_counts(v["activity"]["nodes"]),
                } for v in edges(t["developers"])]),
                "projects": rows([{"id": p["id"], "name": p["name"], "slug": p["slug"]}
                                  for p in edges(t["projects"])]),
                "metrics": rows([[m["day"], m["eventName"], int(m["count"])]
                                 for m in t["metrics"]["nodes"]]),
            } for t in edges(org["teamSpaces"])]),
        },
    }


def pg_lookup(d):
    v = d["developer"]
    return {"id": v["id"], "name": v["name"], "email": v["email"], "role": v["role"].lower()}


def pg_deep(d):
    return rows([{
        "name": t["name"],
        "developers": rows([{
            "name": v["name"],
            "teamSpaces": rows([{
                "name": s["name"],
                "projects": rows([[p["name"], p["slug"]] for p in s["projects"]["nodes"]]),
            } for s in v["teamSpaces"]["nodes"]]),
        } for v in t["developers"]["nodes"]]),
    } for t in d["organization"]["teamSpaces"]["nodes"]])


def pg_metrics(d):
    return rows([[m["day"], m["teamSpaceId"], int(m["count"])]
                 for m in d["organization"]["metrics"]["nodes"]])


def pg_totals(d):
    return rows([[m["eventName"], int(m["count"])]
                 for m in d["organization"]["metrics"]["nodes"]])


def size(form):
    """Values in a form (ids, names, days, counts), to say how much was compared."""
    if isinstance(form, dict):
        return sum(size(v) for v in form.values())
    if isinstance(form, list):
        return sum(size(v) for v in form)
    return 1


def flat(form, path=""):
    """A form as one line per value, named by its path (rows by their keys),
    so that a difference reads as the values that differ."""
    if isinstance(form, dict):
        for k in sorted(form):
            yield from flat(form[k], f"{path}.{k}")
    elif isinstance(form, list):
        for item in form:
            if isinstance(item, dict):
                yield from flat(item, f"{path}[{item.get('id') or item.get('name')}]")
            elif isinstance(item, list):
                yield f"{path}[{', '.join(map(str, item[:-1]))}] = {item[-1]}"
            else:
                yield f"{path}[] = {item}"
    else:
        yield f"{path} = {form}"


def main():
    query, dg_path, pg_path = sys.argv[1:4]
    dg = globals()[f"dg_{query}"](json.load(open(dg_path))["data"])
    pg = globals()[f"pg_{query}"](json.load(open(pg_path))["data"])
    if not dg or not pg:
        print(f"{query}: an empty answer proves nothing (devgraph {len(dg)}, PostGraphile {len(pg)})")
        sys.exit(2)
    if dg == pg:
        print(f"{query}: equal ({size(dg):,} values)")
        return
    a, b = sorted(flat(dg)), sorted(flat(pg))
    diff = list(difflib.unified_diff(a, b, "devgraph", "postgraphile", lineterm="", n=0))
    print(f"{query}: the answers differ ({len(diff)} diff lines, the first 60):")
    print("\n".join(diff[:60]))
    sys.exit(1)


if __name__ == "__main__":
    main()
