"""`stepfold batch`: one mission call per line of a JSONL file, streamed; each result saved as it completes.

The file (or standard input, `-`) is read a line at a time while the calls
run, so memory does not grow with the number of lines: at most a window of
calls is in flight, and each line's row is printed, in line order, as soon
as it and every line before it are done. A line longer than
`MAX_LINE_BYTES` (an endless one, `/dev/zero`) stops the batch with one
line and exit 2, after what was running has finished and been saved.
Ctrl-C stops it too: nothing more is started, the summary says what
completed (everything completed is saved), exit 130.

A call whose run reaches an effect step has its effects performed here, in
this process (workers only fold), as `stepfold run` performs them: each
outcome saved as it comes; `--no-effects` leaves such runs suspended.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from typing import BinaryIO, TextIO

from stepfold.batch import CallError, Outcome, run_in_order
from stepfold.cli.commands import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_SUSPENDED, EXIT_USAGE, open_store
from stepfold.cli.jsonio import MAX_INPUT_BYTES, STDIN, UsageError, decode_json
from stepfold.cli.render import for_people, plural, quoted, short
from stepfold.effects import drive, effects_for
from stepfold.errors import StepfoldError, StoreError
from stepfold.lineage import COMPLETED, FAILED, SUSPENDED
from stepfold.mission_call import MissionCall
from stepfold.pool import process_pool
from stepfold.registry import operations_for
from stepfold.result import WAITING_EFFECT
from stepfold.store import SQLiteStore

__all__ = ["command_batch", "Progress", "MAX_LINE_BYTES", "MAX_WORKERS", "COLUMNS"]

MAX_WORKERS = 64
"""The most worker processes `--workers` starts (each is a Python process of ~100 MB: more is a mistake, not a plan)."""

MAX_LINE_BYTES = MAX_INPUT_BYTES
"""The longest line `stepfold batch` reads (64 MiB, what the CLI reads from any one input): anything longer is refused."""

COLUMNS = (("line", 6), ("mission", 18), ("status", 9), ("run", 12), ("detail", 0))
"""The summary table's columns and their widths (a longer cell pushes the rest of its row along; detail is free text)."""

Row = tuple[str, str, str, str]
"""(mission, status, run id or "-", detail) of one line; the table shows a run id's first 12 characters."""


class Progress:
    """`\\r[#####.....] 50% 1234 calls` on a terminal (by bytes read, when the input's size is known), redrawn at most ten
    times a second; silent otherwise, so logs and pipes stay clean."""

    WIDTH = 30
    INTERVAL = 0.1

    def __init__(self, size: int | None, stream: TextIO) -> None:
        self.size, self.stream = size, stream
        self.read = self.done = 0
        self.shown = stream.isatty()
        self.drawn_at = float("-inf")

    def advance(self, done: int, read: int) -> None:
        """`done` lines finished, `read` bytes read so far; redrawn when the last drawing is old enough."""
        self.done, self.read = done, read
        if not self.shown:
            return
        now = time.monotonic()
        if now - self.drawn_at < self.INTERVAL:
            return
        self.drawn_at = now
        self._draw()

    def _draw(self) -> None:
        if self.size:
            filled = min(self.WIDTH, self.WIDTH * self.read // self.size)
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {min(100, 100 * self.read // self.size):3d}% "
        else:
            bar = ""
        self.stream.write(f"\r{bar}{self.done} lines")
        self.stream.flush()

    def finish(self, done: int, read: int) -> None:
        """Draw the last state and end the line (on a terminal)."""
        self.done, self.read = done, read
        if self.shown:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()


class _Input:
    """The batch's lines, read one at a time: `(line number, text or a reason it is not text)`, blank lines skipped."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self.stream, self.name = stream, name
        self.read = 0
        self.refused: str | None = None
        """Set when a line was too long: why the batch stopped reading."""

    def lines(self) -> Iterator[tuple[int, str]]:
        number = 0
        while True:
            raw = self.stream.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            self.read += len(raw)
            if len(raw) > MAX_LINE_BYTES:
                self.refused = (
                    f"batch: {self.name} line {number} is longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB "
                    "(one call per line; nothing after it was read)"
                )
                return
            raw = raw.rstrip(b"\r\n")
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if raw.strip():
                try:
                    yield number, raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield number, f"\0not UTF-8 text (byte {exc.start + 1})"


def _call_of(text: str) -> tuple[str, MissionCall | str]:
    """One line as (mission name or "-", the call or a one-line reason it is not one)."""
    if text.startswith("\0"):
        return "-", text[1:]
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


class _Summary:
    """Rows printed in line order as soon as each line and all before it are done; counts kept, rows not.

    As a table, or with `as_json` as JSON Lines: one object per line of the batch, `{"line", "mission",
    "status", "run_id", "detail"}` (`run_id` null when nothing was saved), then `{"summary": {...}}`."""

    def __init__(self, out: TextIO, *, as_json: bool = False) -> None:
        self.out = out
        self.as_json = as_json
        self.waiting: deque[list[object]] = deque()  # [line number, row or None], in line order
        self.counts = {COMPLETED: 0, SUSPENDED: 0, FAILED: 0, "error": 0}
        self.saved = 0
        if not as_json:
            self.out.write(_format(tuple(name for name, _ in COLUMNS)) + "\n")
            self.out.flush()

    def _write(self, number: object, row: tuple[str, ...]) -> None:
        mission, status, run, detail = row
        if self.as_json:
            document = {"line": number, "mission": mission, "status": status, "run_id": None if run == "-" else run}
            self.out.write(json.dumps({**document, "detail": detail}, ensure_ascii=False) + "\n")
        else:
            self.out.write(_format((str(number), mission, status, run if run == "-" else short(run), detail)) + "\n")

    def finish(self, store: str, *, interrupted: bool) -> None:
        """The last line: what completed, failed, was refused and saved."""
        counts = self.counts
        if self.as_json:
            summary = {"calls": self.done, **counts, "saved": self.saved, "store": store, "interrupted": interrupted}
            self.out.write(json.dumps({"summary": summary}, ensure_ascii=False) + "\n")
            return
        ended = "interrupted (Ctrl-C) after " if interrupted else ""
        self.out.write(
            f"{ended}{plural(self.done, 'call')}: {counts[COMPLETED]} completed, {counts[SUSPENDED]} suspended, "
            f"{counts[FAILED]} failed, {plural(counts['error'], 'error')}; {plural(self.saved, 'run')} saved in "
            f"{store}\n"
        )

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def expect(self, number: int) -> list[object]:
        slot: list[object] = [number, None]
        self.waiting.append(slot)
        return slot

    def settle(self, slot: list[object], row: Row) -> None:
        slot[1] = row
        self.counts[row[1]] += 1
        printed = False
        while self.waiting and self.waiting[0][1] is not None:
            number, ready = self.waiting.popleft()
            assert isinstance(ready, tuple)
            self._write(number, ready)
            printed = True
        if printed:
            self.out.flush()  # each row as it is known, even into a pipe

    def stop(self, missions: Iterator[str]) -> None:
        """After Ctrl-C: print every row held, the calls that did not finish as `stopped` (not counted)."""
        for slot in self.waiting:
            if slot[1] is None:
                slot[1] = (next(missions, "-"), "stopped", "-", "not run: interrupted")
        while self.waiting:
            number, ready = self.waiting.popleft()
            assert isinstance(ready, tuple)
            self._write(number, ready)


def _format(cells: tuple[str, ...]) -> str:
    shown = [for_people(cell) for cell in cells]
    padded = [cell.ljust(width) for cell, (_, width) in zip(shown[:-1], COLUMNS)]
    return "  ".join([*padded, shown[-1]]).rstrip()


def _row(outcome: Outcome, mission: str, store: SQLiteStore, *, perform: bool) -> tuple[Row, bool]:
    """The row of a finished call, and whether its run was saved (saved here, now).

    A run that waits for an effect is driven here when `perform`: its
    effects performed in this process, each outcome saved as it comes (the
    row shows where the run ended).
    """
    if isinstance(outcome, CallError):
        return (mission, "error", "-", f"{outcome.error_type}: {outcome.message}"), False
    try:
        if perform and outcome.waiting_for == WAITING_EFFECT:
            workflow = outcome.workflow
            outcome = drive(outcome, effects=effects_for(workflow), operations=operations_for(workflow), store=store)
        run_id = store.save(outcome)
    except StoreError as exc:
        return (mission, "error", "-", f"not saved: {exc}"), False
    except StepfoldError as exc:  # e.g. an effect with no handler here: nothing was performed
        return (mission, "error", "-", f"{type(exc).__name__}: {' '.join(str(exc).split())}"), False
    detail = outcome.error_message or (f"waiting for {outcome.pending_step_id}" if outcome.pending_step_id else "")
    return (mission, outcome.status, run_id, detail), True


def _open_input(argument: str) -> tuple[BinaryIO, int | None]:
    """The input as a binary stream, and its size when it is a regular file (for the progress bar)."""
    if argument == STDIN:
        return sys.stdin.buffer, None
    try:
        stream = open(argument, "rb")  # noqa: SIM115 - closed by command_batch
    except OSError as exc:
        raise UsageError(f"{argument}: cannot read {quoted(argument)}: {exc.strerror or exc}") from None
    try:
        size = os.fstat(stream.fileno()).st_size or None
    except OSError:
        size = None
    return stream, size


def command_batch(args: argparse.Namespace, out: TextIO) -> int:
    """Run one mission call per line of a JSONL file, saving every result as it completes; print a row per line."""
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers: expected 1 to {MAX_WORKERS} processes, got {args.workers}")
    stream, size = _open_input(args.file)
    source = _Input(stream, "standard input" if args.file == STDIN else args.file)
    progress = Progress(size, sys.stderr)
    interrupted = False
    pool = process_pool(args.workers) if args.workers > 1 else None
    try:
        with open_store(args, write=True) as store:
            summary = _Summary(out, as_json=args.json)
            running: deque[tuple[str, list[object]]] = deque()  # the calls in flight, in call order

            def calls() -> Iterator[MissionCall]:
                for number, text in source.lines():
                    name, parsed = _call_of(text)
                    slot = summary.expect(number)
                    if isinstance(parsed, MissionCall):
                        running.append((parsed.mission, slot))
                        yield parsed
                    else:
                        summary.settle(slot, (name, "error", "-", parsed))

            try:
                for _, outcome in run_in_order(calls(), pool):
                    mission, slot = running.popleft()
                    row, saved = _row(outcome, mission, store, perform=not args.no_effects)
                    summary.saved += saved
                    summary.settle(slot, row)
                    progress.advance(summary.done, source.read)
            except KeyboardInterrupt:
                interrupted = True
                summary.stop(mission for mission, _ in running)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)  # what is running finishes (not saved); nothing more starts
        if stream is not sys.stdin.buffer:
            stream.close()
    progress.finish(summary.done, source.read)
    summary.finish(str(args.store), interrupted=interrupted)
    counts = summary.counts
    if interrupted:
        return EXIT_INTERRUPTED
    if source.refused is not None:
        print(f"stepfold: error: {source.refused}", file=sys.stderr)
        return EXIT_USAGE
    if counts[FAILED] or counts["error"]:
        return EXIT_FAILED
    return EXIT_SUSPENDED if counts[SUSPENDED] else EXIT_OK
