"""What the command line prints for people: one table renderer, results, a run's story, all with control characters escaped.

A state key, a step id or an error message may hold a newline or an ANSI
escape; printed raw, it could forge a line of output or clear the screen.
`for_people` shows every control character (and every bidirectional
override) as an escape such as `\\x1b` instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TextIO

from pyrsistent import PMap

from stepfold.frozen import thaw, values_identical
from stepfold.lineage import COMPLETED
from stepfold.messages import format_path
from stepfold.outcome import read_outcome
from stepfold.result import OrchestrationResult
from stepfold.state import State, state_delta
from stepfold.values import Value

__all__ = [
    "for_people",
    "table",
    "plural",
    "short",
    "abbreviate",
    "cut",
    "quoted",
    "render_result",
    "render_show",
    "outcome_text",
]

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_people(text: str) -> str:
    """`text` with control characters and bidirectional overrides shown as escapes (`\\n`, `\\x1b`, `\\u202e`)."""
    return _UNSAFE.sub(_escape, text)


def table(rows: Sequence[Sequence[str]], indent: str = "", *, ragged_last: bool = False) -> list[str]:
    """Rows as lines of left-aligned columns two spaces apart, cells escaped for people.

    With `ragged_last` the last column (free text) is not counted in the widths.
    """
    cells = [[for_people(cell) for cell in row] for row in rows]
    measured = [row[:-1] if ragged_last else row for row in cells]
    widths = [
        max((len(row[i]) for row in measured if i < len(row)), default=0)
        for i in range(max(map(len, measured), default=0))
    ]
    lines = []
    for row in cells:
        padded = [cell.ljust(widths[i]) if i < len(widths) else cell for i, cell in enumerate(row)]
        lines.append((indent + "  ".join(padded)).rstrip())
    return lines


def plural(count: int, word: str) -> str:
    """`1 step`, `2 steps`."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def short(digest: str) -> str:
    """The first 12 hex digits of a digest or run id."""
    return digest[:12]


def abbreviate(value: Value, limit: int = 60) -> str:
    """A value as compact JSON, cut to `limit` characters with an ellipsis."""
    text = json.dumps(thaw(value), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut(text: str, limit: int = 200) -> str:
    """`text`, cut in the middle past `limit` characters, saying how long it was (an argument of megabytes, a
    path the system calls too long: named, not echoed)."""
    if len(text) <= limit:
        return text
    half = (limit - 30) // 2
    return f"{text[:half]}…({len(text)} characters)…{text[-half:]}"


def quoted(argument: str) -> str:
    """A command-line argument as a message quotes it: its repr, `cut`."""
    return cut(repr(argument))


def outcome_text(effect: str, outcome: Value) -> str:
    """`tests.run: ok, 1 attempt` or `tests.run: failed, 3 attempts (TimeoutError)`."""
    read = read_outcome(outcome, "outcome")
    tries = plural(read.attempts, "attempt")
    return f"{effect}: ok, {tries}" if read.ok else f"{effect}: failed, {tries} ({read.error_type})"


def render_result(result: OrchestrationResult, out: TextIO) -> None:
    """The report of a run: executed steps (with each effect's outcome), then status, pending step, state and receipt head."""
    effects = any(step.effect is not None for step in result.workflow.steps)
    rows = [["#", "step", "kind", "status", "state", *(["effect"] if effects else [])]]
    for index, entry in enumerate(result.lineage.entries, start=1):
        row = [str(index), entry.step.id, entry.step.kind, entry.status, short(entry.state.digest)]
        if effects:
            row.append(outcome_text(entry.step.effect, entry.input) if entry.step.effect is not None else "")
        rows.append(row)
    pending = result.pending_step_id
    if pending is not None:
        step = result.workflow.step(pending)
        rows.append(["-", step.id, step.kind, "waiting", "", *([step.effect or ""] if effects else [])])
    out.write(for_people(f"workflow {result.id}  ({plural(len(result.workflow.steps), 'step')})") + "\n")
    for line in table(rows, "  ", ragged_last=effects):
        out.write(line + "\n")
    out.write(f"status   {result.status}\n")
    if result.error_message:
        out.write(f"error    {for_people(result.error_message)}\n")
    if pending is not None:
        if result.waiting_for == "effect":
            hint = f"waiting for effect {result.pending_effect}; `stepfold resume` performs it"
        else:
            hint = f"needs --input {pending}=JSON"
        out.write(for_people(f"pending  {pending} ({hint})") + "\n")
    out.write(f"state    {result.final_state.digest}\n")
    out.write(f"receipt  {result.receipt.head}\n")


_REMOVED = object()


def _changes(before: State, key: str, after: Value) -> list[tuple[str, str, object]]:
    """How an entry changed: `+`/`~` at the key, or, for a mapping that stays a mapping, each of its keys that changed."""
    if key not in before:
        return [("+", key, after)]
    old = before[key]
    if not (isinstance(old, PMap) and isinstance(after, PMap)):
        return [("~", key, after)]
    listed: list[tuple[str, str, object]] = []
    for name in sorted(set(old) | set(after)):
        path = format_path(key, [name])
        if name not in after:
            listed.append(("-", path, _REMOVED))
        elif name not in old:
            listed.append(("+", path, after[name]))
        elif not values_identical(old[name], after[name]):
            listed.append(("~", path, after[name]))
    return listed


def render_show(result: OrchestrationResult, run_id: str, out: TextIO) -> None:
    """Each step with what it changed (+ added, ~ changed, - removed; long values abbreviated), then the receipt."""
    write = out.write
    write(f"run {run_id}\n")
    write(for_people(f"workflow {result.id}  status {result.status}") + "\n")
    previous = result.lineage.initial_state
    write(f"initial state  {plural(len(previous), 'key')}  {short(previous.digest)}\n")
    for index, entry in enumerate(result.lineage.entries, start=1):
        write(
            for_people(f"{index}. {entry.step.id}  [{entry.step.kind}, {entry.status}]  -> {short(entry.state.digest)}")
            + "\n"
        )
        if entry.step.effect is not None:
            write(for_people(f"     effect {outcome_text(entry.step.effect, entry.input)}") + "\n")
            if not read_outcome(entry.input, "outcome").ok:
                write(for_people(f"     outcome  {abbreviate(entry.input, 200)}") + "\n")
        elif entry.took_input:
            write(for_people(f"     input  {abbreviate(entry.input)}") + "\n")
        delta = state_delta(previous, entry.state)
        for key in sorted(delta.set):
            for mark, path, value in _changes(previous, key, delta.set[key]):
                shown = "" if value is _REMOVED else f" = {abbreviate(value)}"  # type: ignore[arg-type]
                write(for_people(f"     {mark} {path}{shown}") + "\n")
        for key in delta.removed:
            write(for_people(f"     - {key}") + "\n")
        if not delta and entry.status == COMPLETED:
            write("     (no change)\n")
        previous = entry.state
    if result.error_message:
        write(f"error    {for_people(result.error_message)}\n")
    if result.pending_step_id is not None:
        waits = f" (waiting for effect {result.pending_effect})" if result.waiting_for == "effect" else ""
        write(for_people(f"pending  {result.pending_step_id}{waits}") + "\n")
    write(f"receipt  genesis {result.receipt.genesis}\n")
    for index, link in enumerate(result.receipt.links, start=1):
        write(for_people(f"  {index}. {link.hash}  {link.step_id} ({link.status})") + "\n")
    write(f"  head  {result.receipt.head}\n")
