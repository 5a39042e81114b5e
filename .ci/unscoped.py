#!/usr/bin/env python3
"""Fails when a tenant table is read, updated or deleted outside the scoped
path (`find_in`, `find_by_id_in`, `update_in`, `delete_in` of
entity/src/scoped.rs) anywhere in api/src:

- `X::Entity::find()`, `find_by_id(..)`, `update_many()`, `delete_many()` on
  any table but `organization` (the tenant itself) and `api_key_prefix` (the
  one global lookup of the design);
- a hand-built `Query::select()/update()/delete()` statement that never
  names `OrganizationId` (a statement, here, runs up to the next `;`).

Exceptions are the ALLOWED lines below, each with its reason. Exits 1 and
prints every offending place otherwise.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "api" / "src"
GLOBAL_TABLES = {"organization", "api_key_prefix"}

# (file, text on the line): why it may read a tenant table unscoped.
ALLOWED = {
    # A person's developer rows in every organization, by the JWT subject:
    # the one cross-tenant read, before any tenant is chosen; it returns only
    # the caller's own rows.
    ("auth/lookup.rs", "developer::Entity::find()"),
    # A webhook delivery's repository by the id in its URL: its secret is
    # what authenticates the delivery, so it is read before any tenant is
    # known; nothing is acted on until the signature verifies.
    ("auth/lookup.rs", "repository::Entity::find()"),
    # The window wrapper of nested pages: its only source is the inner
    # select it is given, which comes from a service's `find_in`.
    ("pagination.rs", "Query::select()"),
    # Rollup writes: the rows to insert, unnested from array parameters,
    # and the `SELECT 1` after the data-modifying CTEs; neither reads a table.
    ("service/rollups/mod.rs", "Query::select().exprs(unnested)"),
    ("service/rollups/mod.rs", "Query::select().expr(Expr::val(1))"),
}

ENTITY_CALL = re.compile(r"\b(\w+)::Entity::(find|find_by_id|update_many|delete_many)\(")
RAW = re.compile(r"\bQuery::(select|update|delete)\(\)")


def main() -> int:
    bad = []
    for path in sorted(SRC.rglob("*.rs")):
        rel = path.relative_to(SRC).as_posix()
        text = path.read_text()
        lines = text.splitlines()
        for n, line in enumerate(lines, 1):
            code = line.split("//")[0]
            for m in ENTITY_CALL.finditer(code):
                table = m.group(1)
                if table in GLOBAL_TABLES:
                    continue
                if any(rel == f and snippet in code for f, snippet in ALLOWED):
                    continue
                bad.append(f"api/src/{rel}:{n}: {m.group(0)}...) is not scoped; use find_in/find_by_id_in/update_in/delete_in")
            if RAW.search(code):
                if any(rel == f and snippet in code for f, snippet in ALLOWED):
                    continue
                # `let mut s = Query::select();` is built by the lines after.
                reach = 25 if code.rstrip().endswith("();") else 10**6
                statement = []
                for later in lines[n - 1 : n - 1 + reach]:
                    statement.append(later)
                    if reach > 25 and later.rstrip().endswith(";"):
                        break
                if "OrganizationId" not in "\n".join(statement):
                    bad.append(f"api/src/{rel}:{n}: a hand-built statement that never names OrganizationId")
    for line in bad:
        print(line)
    print(f"unscoped: {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
