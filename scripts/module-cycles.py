#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a cycle.

Each top-level module of a crate's `src/` (a file or a directory) is a
node; `crate::x` in its non-test code is an arrow to `x`. Crates must
read one way, as the workspace's crates do (docs/ARCHITECTURE.md).
  scripts/module-cycles.py crates/*
"""
import os
import re
import sys


def arrows(src):
    graph = {}
    for root, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            top = parts[0] if parts else "crate"
            code = open(path, encoding="utf-8").read().split("#[cfg(test)]")[0]
            targets = graph.setdefault(top, set())
            targets.update(m for m in re.findall(r"crate::(\w+)", code) if m != top)
    return {node: {t for t in targets if t in graph} for node, targets in graph.items()}


def cycles(graph):
    found = set()

    def walk(node, path):
        for target in graph.get(node, ()):
            if target in path:
                loop = path[path.index(target):]
                at = loop.index(min(loop))
                found.add(" -> ".join(loop[at:] + loop[:at] + [min(loop)]))
            elif len(path) < 16:
                walk(target, path + [target])

    for node in graph:
        walk(node, [node])
    return sorted(found)


failed = False
for crate in sys.argv[1:]:
    src = os.path.join(crate, "src")
    if not os.path.isdir(src):
        continue
    for loop in cycles(arrows(src)):
        print(f"{crate}: modules import each other: {loop}")
        failed = True
sys.exit(1 if failed else 0)
