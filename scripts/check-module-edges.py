#!/usr/bin/env python3
"""Fails when a target's declared dependencies in Package.swift differ from what its
sources import: an edge declared but unused, or a module imported but not declared (which
SwiftPM may let through when another dependency happens to bring it). Reads the manifest
as SwiftPM sees it (`swift package dump-package`, JSON on standard input).

Usage: swift package dump-package | scripts/check-module-edges.py
"""
import json
import os
import re
import sys

package = json.load(sys.stdin)
targets = {t["name"]: t for t in package["targets"]}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@preconcurrency\s+|@_exported\s+)?import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.M)


def declared(target):
    names = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target", "product"):
            if kind in dependency:
                names.add(dependency[kind][0])
    return names


def source_dir(target):
    if target.get("path"):
        return target["path"]
    return os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])


# Every module a target may name: the package's own targets and the products it uses.
known = set(targets)
for target in targets.values():
    known |= declared(target)

problems = []
for name, target in sorted(targets.items()):
    if target["type"] in ("system", "plugin", "binary"):
        continue
    imported = set()
    for root, _, files in os.walk(source_dir(target)):
        for file in files:
            if file.endswith((".swift",)):
                with open(os.path.join(root, file), encoding="utf-8") as handle:
                    imported |= set(IMPORT.findall(handle.read()))
    imported = {module for module in imported if module in known and module != name}
    # C modules are imported by their module map's name, which is the target's.
    declared_names = declared(target)
    unused = sorted(declared_names - imported)
    undeclared = sorted(imported - declared_names)
    if unused:
        problems.append(f"{name}: declares {', '.join(unused)} but imports none of them")
    if undeclared:
        problems.append(f"{name}: imports {', '.join(undeclared)} without declaring it")

if problems:
    print("Package.swift's edges disagree with the imports:\n  " + "\n  ".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"module edges: {len(targets)} targets, every declared dependency imported and every import declared")
