#!/usr/bin/env python3
"""Renders docs/cli.md from `drctl --experimental-dump-help` (swift-argument-parser's own
description of every command), so the reference cannot drift from the code:
`make check` regenerates it and fails when the committed file differs.

Usage: drctl --experimental-dump-help | scripts/cli-reference.py > docs/cli.md
       drctl-lab --experimental-dump-help | scripts/cli-reference.py > docs/cli-lab.md
"""
import json
import sys


def name(argument):
    preferred = argument.get("preferredName")
    if argument["kind"] == "positional" or not preferred:
        return f"<{argument.get('valueName', 'value')}>"
    dashes = "--" if preferred["kind"] == "long" else "-"
    text = dashes + preferred["name"]
    if argument["kind"] == "option":
        text += f" <{argument.get('valueName', 'value')}>"
    return text


def render(command, path, out):
    if not command.get("shouldDisplay", True):
        return
    full = " ".join(path)
    out.append(f"{'#' * min(len(path) + 1, 4)} `{full}`")
    out.append("")
    if command.get("abstract"):
        out.append(command["abstract"])
        out.append("")
    if command.get("discussion"):
        out.append(command["discussion"].strip())
        out.append("")
    arguments = [a for a in command.get("arguments", []) if a.get("shouldDisplay", True) and a.get("valueName") not in ("help", "version")]
    if arguments:
        out.append("| argument | what it does |")
        out.append("|---|---|")
        for argument in arguments:
            about = (argument.get("abstract") or "").replace("|", "\\|").replace("\n", " ")
            if "defaultValue" in argument:
                about += f" (default: `{argument['defaultValue']}`)"
            if argument.get("allValues"):
                about += " (one of: " + ", ".join(f"`{v}`" for v in argument["allValues"]) + ")"
            out.append(f"| `{name(argument)}` | {about} |")
        out.append("")
    for sub in command.get("subcommands", []):
        render(sub, path + [sub["commandName"]], out)


def main():
    root = json.load(sys.stdin)["command"]
    lab = root["commandName"] == "drctl-lab"
    out = [
        "# `drctl-lab` command reference" if lab else "# Command reference",
        "",
    ]
    if lab:
        out += [
            "The lab, its faults, the fault campaign, the fleet simulation and the lab's drills: a",
            "development and evaluation tool, built beside `drctl` and never shipped (`make release`",
            "installs `drctl` only). It runs the lab's agents with the `drctl` beside it. The",
            "operator's commands are in [cli.md](cli.md).",
            "",
        ]
    out += [
        "Generated from the argument parser by `scripts/cli-reference.py` (`make cli-docs`);",
        "`make check` fails when it is stale. Exit codes: 0 success or healthy, 1 an operation",
        "that failed or a cluster that is not healthy, 2 bad usage or bad input.",
        "",
    ]
    render(root, [root["commandName"]], out)
    sys.stdout.write("\n".join(out).rstrip("\n") + "\n")


main()
