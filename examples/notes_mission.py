"""A mission whose steps do real work through effects: read a notes file, then ask a model to summarise it.

The "model" is a local stand-in for an API that is slow, costs money per
call and must not be asked twice for the same thing. Its handler uses the
idempotency key stepfold gives every effect call: delivery is at least once
(a process that dies after the model answered, but before the outcome was
saved, performs the effect again on the next drive), so the handler keeps a
ledger of the keys it has answered and gives the same answer again instead
of asking twice. A real API takes the key as its `Idempotency-Key` header.

From the command line (`make run` does this)::

    stepfold --load examples/notes_mission.py run notes_digest --params '{"path": "examples/notes.txt"}'
    stepfold --load examples/notes_mission.py verify RUN_ID     # replays; never reads the file, never asks the model

`make test` type-checks this file under `mypy --strict`.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from pyrsistent import PMap, PVector

from stepfold import OperationError, Params, State, StepSpec, WorkflowDefinition, canonical_json, register_mission
from stepfold.effects import Effect, EffectCall, RetryPolicy

LEDGER = Path("notes-ledger.jsonl")
"""Every question the model stand-in really answered: one line per idempotency key."""


def read_notes(call: EffectCall) -> dict[str, object]:
    """Effect `notes.read`: the lines of the file `path` (relative to the working directory)."""
    path = Path(str(call.arguments["path"]))
    return {"path": path.as_posix(), "lines": path.read_text(encoding="utf-8").splitlines()}


def _answered() -> dict[str, object]:
    if not LEDGER.exists():
        return {}
    entries = (json.loads(line) for line in LEDGER.read_text(encoding="utf-8").splitlines() if line)
    return {entry["key"]: entry["answer"] for entry in entries}


def summarise(call: EffectCall) -> dict[str, object]:
    """Effect `model.summarise`: the three most frequent words of the notes, asked at most once per key."""
    earlier = _answered().get(call.key)
    if earlier is not None:  # asked before (a retry, or a re-drive after a crash): the same answer, not a new call
        assert isinstance(earlier, dict)
        return earlier
    notes = call.state["notes"]
    assert isinstance(notes, PMap)
    lines = notes["lines"]
    assert isinstance(lines, PVector)
    words = Counter(word.strip(".,").lower() for line in lines for word in str(line).split() if len(word) > 3)
    answer: dict[str, object] = {"top_words": [word for word, _ in words.most_common(3)], "lines": len(lines)}
    with LEDGER.open("a", encoding="utf-8") as ledger:
        ledger.write(json.dumps({"key": call.key, "attempt": call.attempt, "answer": answer}) + "\n")
    return answer


def count_words(state: State, step: StepSpec) -> State:
    """Pure: `stats = {"lines", "words"}` from the notes the first effect recorded."""
    notes = state.get("notes")
    if not isinstance(notes, PMap) or not isinstance(notes.get("lines"), PVector):
        raise OperationError(
            f"state.notes: expected the notes notes-read records, got {canonical_json(notes).decode()}"
        )
    lines = notes["lines"]
    assert isinstance(lines, PVector)
    return state.set("stats", {"lines": len(lines), "words": sum(len(str(line).split()) for line in lines)})


def build_notes_digest(params: Params) -> WorkflowDefinition:
    """Read the notes file `params["path"]`, count its words, ask the model for a summary."""
    path = params.get("path", "notes.txt")
    return WorkflowDefinition(
        id="notes_digest",
        steps=[
            StepSpec("notes-read", "runtime", {"effect": "notes.read", "path": path, "into": "notes"}),
            StepSpec("notes-count", "runtime", {"operation": "notes.count"}),
            StepSpec("notes-summarise", "runtime", {"effect": "model.summarise", "into": "summary"}),
        ],
    )


MISSION = register_mission(
    "notes_digest",
    build_notes_digest,
    operations={"notes.count": count_words},
    effects={
        "notes.read": Effect(read_notes),
        "model.summarise": Effect(summarise, retry=RetryPolicy(max_attempts=3, initial_delay=0.2), timeout=10),
    },
    replace=True,
)
