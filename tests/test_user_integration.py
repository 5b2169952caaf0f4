"""The typed user example in examples/custom_mission.py runs (make test also type-checks it under --strict)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

from stepfold import MISSION_REGISTRY

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "custom_mission.py"


def test_custom_mission_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    before = dict(MISSION_REGISTRY)
    try:
        namespace = runpy.run_path(str(EXAMPLE))
        result = namespace["main"]()
    finally:
        MISSION_REGISTRY.clear()
        MISSION_REGISTRY.update(before)
    assert result.status == "completed"
    assert result.final_state == {"net": 100, "total": 125.0, "approved_by": "ada"}
    out = capsys.readouterr().out
    assert "suspended at invoice-approve" in out and "completed" in out
