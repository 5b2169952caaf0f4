"""What the command line reads: strict JSON from arguments, files and standard input (`-`).

Strict means RFC 8259 with I-JSON's extra refusals: no NaN or Infinity, no
duplicate keys, no number longer than 64 digits, nesting within `MAX_DEPTH`.
Files and standard input are UTF-8, with or without a byte-order mark, and
at most `MAX_INPUT_BYTES` long: an endless input (`/dev/zero`, a runaway pipe)
is refused with one line instead of filling memory.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from stepfold.cli.render import quoted
from stepfold.state import State
from stepfold.values import MAX_DEPTH

__all__ = [
    "UsageError",
    "STDIN",
    "MAX_INPUT_BYTES",
    "decode_json",
    "parse_json",
    "json_object",
    "read_text",
    "read_bytes",
    "read_state_argument",
    "read_document",
    "parse_inputs",
]

STDIN = "-"
"""The file argument that means standard input."""

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""The most the command line reads from one file or standard input (64 MiB), and from one line of a batch.

A state of tens of megabytes fits; anything longer is refused before it is parsed.
"""


class UsageError(Exception):
    """Bad arguments or bad input: printed as one line, exit code 2."""


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not allowed in JSON input")


def _unique_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):  # a key given twice: name the first one repeated
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {quoted(key)}")
            seen.add(key)
    return out


def _parse_int(digits: str) -> int:
    if len(digits) > 64:  # never convert thousands of digits: freeze refuses anything past 16 of them anyway
        raise ValueError(f"a number of {len(digits.lstrip('-'))} digits is outside +-(2**53 - 1)")
    return int(digits)


def decode_json(text: str, *, one_line: bool = False) -> object:
    """Strict JSON: no NaN/Infinity, no duplicate keys; `ValueError` with a one-line reason and the position."""
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_int=_parse_int, object_pairs_hook=_unique_object)
    except json.JSONDecodeError as exc:
        at = f"column {exc.colno}" if one_line else f"line {exc.lineno} column {exc.colno}"
        raise ValueError(f"invalid JSON at {at}: {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"invalid JSON: nested too deeply to parse (values nest at most {MAX_DEPTH} levels)") from None
    except ValueError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None


def parse_json(text: str, where: str) -> object:
    """Strict JSON; `UsageError` naming `where` and the position."""
    try:
        return decode_json(text)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None


def json_object(text: str, where: str) -> dict[str, object]:
    """A JSON object; `UsageError` naming `where` for anything else."""
    value = parse_json(text, where)
    if not isinstance(value, dict):
        raise UsageError(f"{where}: expected a JSON object, got {type(value).__name__}")
    return value


def read_bytes(argument: str, where: str) -> bytes:
    """The bytes of a file argument (`-`: standard input), at most `MAX_INPUT_BYTES`; `UsageError` naming it otherwise."""
    try:
        if argument == STDIN:
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(argument, "rb") as file:
                data = file.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"{where}: cannot read {quoted(argument)}: {exc.strerror or exc}") from None
    if len(data) > MAX_INPUT_BYTES:
        name = "standard input" if argument == STDIN else quoted(argument)
        raise UsageError(
            f"{where}: {name} is longer than {MAX_INPUT_BYTES // (1024 * 1024)} MiB, the most stepfold reads from one input"
        )
    return data


def read_text(argument: str, where: str) -> str:
    """A file argument (`-`: standard input) as UTF-8 text, a byte-order mark dropped."""
    data = read_bytes(argument, where)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{where}: {quoted(argument)} is not UTF-8 text (byte {exc.start + 1})") from None


def read_state_argument(argument: str) -> State:
    """`--state`: inline JSON (an object), a path to a JSON file, or `-` for standard input, as a State.

    Parsed as plain data (the C parser), then frozen entry by entry, each taken out of the parsed dict as it is
    frozen (`State.from_parsed`): a big state never exists whole twice, and its hashing takes the C JSON encoder.
    """
    if argument.lstrip().startswith("{"):
        where, text = "--state", argument
    elif argument != STDIN and not Path(argument).is_file():
        raise UsageError(f"--state: {quoted(argument)} is neither a file nor a JSON object (use - for standard input)")
    else:
        where, text = ("--state" if argument == STDIN else f"--state {argument}"), read_text(argument, "--state")
    parsed = json_object(text, where)
    del text  # the parsed data is all that is needed now
    return State.from_parsed(parsed, path="initial_state")


def read_document(argument: str) -> Mapping[str, object]:
    """A JSON document file (`-`: standard input) as an object."""
    return json_object(read_text(argument, argument), "standard input" if argument == STDIN else argument)


def parse_inputs(items: Sequence[str]) -> dict[str, object]:
    """`STEP=JSON` pairs as a dict; `UsageError` naming the malformed one."""
    inputs: dict[str, object] = {}
    for item in items:
        step_id, sep, text = item.partition("=")
        if not sep or not step_id:
            raise UsageError(
                f"--input {quoted(item)}: expected STEP=JSON, e.g. daily-confirm-priorities='{{\"approved\": true}}'"
            )
        if step_id in inputs:
            raise UsageError(f"--input {step_id}: given twice")
        inputs[step_id] = parse_json(text, f"--input {step_id}")
    return inputs
