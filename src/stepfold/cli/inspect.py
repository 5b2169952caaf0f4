"""The commands that read the store: `show`, `runs`, `export` (the store opened read-only)."""

from __future__ import annotations

import argparse
import json
from typing import TextIO

from stepfold.cli.commands import EXIT_OK, open_store
from stepfold.cli.render import render_show, short, table
from stepfold.store import RunSummary

__all__ = ["command_show", "command_runs", "command_export"]


def command_show(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold show RUN_ID`: each step with what it changed, and the receipt (`--json`: its document)."""
    with open_store(args) as store:
        run_id = store.resolve(args.run_id)
        result = store.load(run_id)
        continued = store.continuation(run_id)
    if args.json:
        out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
        return EXIT_OK
    render_show(result, run_id, out)
    if continued is not None:
        out.write(f"resumed  by {continued}\n")
    return EXIT_OK


def _status(summary: RunSummary) -> str:
    return "resumed" if summary.resumed else summary.status


def _links(summary: RunSummary) -> str:
    parts = []
    if summary.resumed_from is not None:
        parts.append(f"{'forked from' if summary.forked else 'resumes'} {short(summary.resumed_from)}")
    if summary.continued_by is not None:
        parts.append(f"continued by {short(summary.continued_by)}")
    return "; ".join(parts)


def command_runs(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold runs`: every stored run, oldest first, with the runs it resumed or was resumed by."""
    with open_store(args) as store:
        summaries = store.runs()
    if args.json:
        out.write(
            json.dumps(
                [
                    {
                        "continued_by": s.continued_by,
                        "forked": s.forked,
                        "pending_step_id": s.pending_step_id,
                        "resumed": s.resumed,
                        "resumed_from": s.resumed_from,
                        "run_id": s.run_id,
                        "status": s.status,
                        "steps": s.steps,
                        "workflow_id": s.workflow_id,
                    }
                    for s in summaries
                ],
                ensure_ascii=False,
            )
            + "\n"
        )
        return EXIT_OK
    rows = [["run", "workflow", "status", "steps", "pending", "links"]]
    rows += [
        [short(s.run_id), s.workflow_id, _status(s), str(s.steps), s.pending_step_id or "", _links(s)]
        for s in summaries
    ]
    for line in table(rows):
        out.write(line + "\n")
    return EXIT_OK


def command_export(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold export RUN_ID`: the run's `to_dict()` JSON, with the signatures kept for it."""
    with open_store(args) as store:
        result = store.load(args.run_id)
        signatures = store.signatures(result.run_id)
    document = result.to_dict()
    if signatures:
        document["signatures"] = [signature.to_dict() for signature in signatures]
    out.write(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    return EXIT_OK
