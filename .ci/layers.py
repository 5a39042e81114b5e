#!/usr/bin/env python3
"""Checks that every `crate::` import in api/src points down the layer list
of DESIGN.md (or stays inside its own layer), and that the modules of api/src
form no import circle. Prints each offending import; exits 1 if any.

Layers, top to bottom (a module may use its own layer and any layer below):
  cli > app > http > graphql > loaders > service (permissions inside) > auth
  > foundation (config, error, ids, pagination, telemetry, secrets, db, lib)
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "api" / "src"
LAYERS = ["cli", "app", "http", "graphql", "loaders", "service", "auth", "foundation"]
LAYER_OF = {
    "cli": "cli", "app": "app", "http": "http", "graphql": "graphql",
    "loaders": "loaders", "service": "service", "permissions": "service",
    "auth": "auth", "config": "foundation", "error": "foundation",
    "ids": "foundation", "pagination": "foundation", "telemetry": "foundation",
    "secrets": "foundation", "db": "foundation", "lib": "foundation", "main": "cli",
}


def module_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = [p for p in rel.parts if p != "mod"]
    return "::".join(parts)


def uses(text: str):
    """Every `crate::a::b` path a file names, with `use crate::{...}` trees expanded."""
    text = re.sub(r"//[^\n]*", "", text)
    found = []

    def expand(prefix, body):
        depth, start, items = 0, 0, []
        for i, c in enumerate(body):
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == "," and depth == 0:
                items.append(body[start:i])
                start = i + 1
        items.append(body[start:])
        for item in items:
            item = item.strip()
            if not item:
                continue
            m = re.match(r"([\w:]*?)::\{(.*)\}$", item, re.S)
            if m:
                expand(prefix + [p for p in m.group(1).split("::") if p], m.group(2))
            else:
                name = item.split(" as ")[0].strip()
                found.append(prefix + [p for p in name.split("::") if p and p != "self"])

    for m in re.finditer(r"\buse\s+(crate|super)::(\{.*?\}|[\w:]+(?:::\{.*?\})?)\s*;", text, re.S):
        root = [] if m.group(1) == "crate" else ["super"]
        body = m.group(2)
        if body.startswith("{"):
            expand(root, body[1:-1])
        elif "::{" in body:
            head, rest = body.split("::{", 1)
            expand(root + head.split("::"), rest[:-1])
        else:
            found.append(root + body.split("::"))
    for m in re.finditer(r"(?<!use )\bcrate::([\w:]+)", text):
        found.append(m.group(1).split("::"))
    return found


def main() -> int:
    modules = {module_of(p): p for p in SRC.rglob("*.rs")}
    edges = {}
    bad = []
    for mod, path in sorted(modules.items()):
        top = mod.split("::")[0]
        layer = LAYER_OF.get(top, "foundation")
        text = path.read_text()
        # `super::` is the parent of a file module, and of a folder module's
        # own folder (mod.rs is the folder).
        parent = mod.split("::")[:-1]
        targets = [parent + t[1:] if t and t[0] == "super" else t for t in uses(text)]
        # `use crate::service;` then `service::team_space::is_lead(..)`: the
        # imported module's submodules named in the code count as imports.
        for target in list(targets):
            if target and "::".join(target) in modules:
                alias = target[-1]
                for sub in set(re.findall(rf"(?<![\w:]){alias}::(\w+)", text)):
                    targets.append(target + [sub])
        for target in targets:
            if not target:
                continue
            t_top = target[0]
            if t_top not in LAYER_OF and (SRC / f"{t_top}.rs").exists() is False and not (SRC / t_top).is_dir():
                continue
            t_layer = LAYER_OF.get(t_top, "foundation")
            if LAYERS.index(t_layer) < LAYERS.index(layer):
                bad.append(f"{path.relative_to(SRC.parent.parent)}: uses crate::{'::'.join(target)} ({layer} -> {t_layer}, up)")
            # the longest module that the path names
            for n in range(len(target), 0, -1):
                cand = "::".join(target[:n])
                if cand in modules and cand != mod:
                    edges.setdefault(mod, set()).add(cand)
                    break
    # circles between modules (submodules of one folder count as one)
    def group(m):
        parts = m.split("::")
        return "::".join(parts[:2]) if parts[0] in ("service", "graphql", "http", "auth", "loaders", "cli") else parts[0]
    g = {}
    for a, bs in edges.items():
        for b in bs:
            ga, gb = group(a), group(b)
            if ga != gb and not gb.startswith(ga + "::") and not ga.startswith(gb + "::"):
                g.setdefault(ga, set()).add(gb)
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    for v in list(g):
        if v not in index:
            strong(v)
    for comp in sccs:
        bad.append("import circle: " + " <-> ".join(comp))
    for line in bad:
        print(line)
    print(f"layers: {len(bad)} problem(s) in {len(modules)} modules")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
