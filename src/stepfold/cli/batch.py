"""`stepfold batch`: one mission call per line of a JSONL file, each result saved as it completes, then a summary."""

from __future__ import annotations

import argparse
import concurrent.futures
import sys
import time
from typing import TextIO

from stepfold.batch import CallError, run_as_completed
from stepfold.cli.commands import EXIT_FAILED, EXIT_OK, EXIT_SUSPENDED, open_store
from stepfold.cli.jsonio import UsageError, decode_json, read_bytes
from stepfold.cli.render import short, table
from stepfold.errors import StepfoldError, StoreError
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED
from stepfold.mission_call import MissionCall

__all__ = ["command_batch", "Progress"]


class Progress:
    """`\\r[#####.....] 5/10` on a terminal, redrawn at most ten times a second; silent otherwise, so logs and pipes stay clean."""

    WIDTH = 30
    INTERVAL = 0.1

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.done, self.stream = total, 0, stream
        self.shown = stream.isatty() and total > 0
        self.drawn_at = float("-inf")

    def advance(self, count: int = 1) -> None:
        """Count `count` more calls done; redraw when the last drawing is old enough, or when everything is done."""
        self.done += count
        if not self.shown:
            return
        now = time.monotonic()
        finished = self.done >= self.total
        if not finished and now - self.drawn_at < self.INTERVAL:
            return
        self.drawn_at = now
        filled = self.WIDTH * self.done // self.total
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total}")
        if finished:
            self.stream.write("\n")
        self.stream.flush()


def _batch_call(text: str) -> tuple[str, MissionCall | str]:
    """One JSONL line as (mission name or "-", the call or a one-line reason it is not one)."""
    try:
        document = decode_json(text, one_line=True)
    except ValueError as exc:
        return "-", str(exc)
    mission = document.get("mission") if isinstance(document, dict) else None
    name = mission if isinstance(mission, str) and mission else "-"
    try:
        return name, MissionCall.from_dict(document)
    except (StepfoldError, ValueError) as exc:
        return name, " ".join(str(exc).split())


def command_batch(args: argparse.Namespace, out: TextIO) -> int:
    """Run one mission call per line of a JSONL file, save every result as it completes, print a summary."""
    if args.workers < 1:
        raise UsageError(f"--workers: expected at least 1, got {args.workers}")
    data = read_bytes(args.file, args.file)
    rows: dict[int, tuple[str, str, str, str]] = {}
    calls: list[MissionCall] = []
    lines: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            name, parsed = _batch_call(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            name, parsed = "-", f"not UTF-8 text (byte {exc.start + 1})"
        if isinstance(parsed, MissionCall):
            calls.append(parsed)
            lines.append(number)
        else:
            rows[number] = (name, "error", "-", parsed)
    progress = Progress(len(calls) + len(rows), sys.stderr)
    progress.advance(len(rows))
    saved = 0
    pool = concurrent.futures.ProcessPoolExecutor(args.workers) if args.workers > 1 and calls else None
    try:
        with open_store(args, write=True) as store:
            for index, outcome in run_as_completed(calls, pool):
                mission = calls[index].mission
                if isinstance(outcome, CallError):
                    rows[lines[index]] = (mission, "error", "-", f"{outcome.error_type}: {outcome.message}")
                else:
                    try:
                        run_id = store.save(outcome)
                        saved += 1
                    except StoreError as exc:
                        rows[lines[index]] = (mission, "error", "-", f"not saved: {exc}")
                    else:
                        detail = outcome.error_message or (
                            f"waiting for {outcome.pending_step_id}" if outcome.pending_step_id else ""
                        )
                        rows[lines[index]] = (mission, outcome.status, short(run_id), detail)
                progress.advance()
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    listed = [["line", "mission", "status", "run", "detail"]] + [
        [str(number), *rows[number]] for number in sorted(rows)
    ]
    for line in table(listed, ragged_last=True):
        out.write(line + "\n")
    counts = {
        status: sum(1 for row in rows.values() if row[1] == status)
        for status in (COMPLETED, SUSPENDED, FAILED, "error")
    }
    out.write(
        f"{len(rows)} calls: {counts[COMPLETED]} completed, {counts[SUSPENDED]} suspended, {counts[FAILED]} failed, "
        f"{counts['error']} errors; {saved} runs saved in {args.store}\n"
    )
    if counts[FAILED] or counts["error"]:
        return EXIT_FAILED
    return EXIT_SUSPENDED if counts[SUSPENDED] else EXIT_OK
