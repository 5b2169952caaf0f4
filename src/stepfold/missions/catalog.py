"""`MISSION_REGISTRY`: the plain dict of mission names to builders, read at call time."""

from __future__ import annotations

from stepfold.missions.base import Builder
from stepfold.missions.daily_loop import DAILY_LOOP
from stepfold.missions.echo import ECHO
from stepfold.missions.run_tests import RUN_TESTS

__all__ = ["MISSION_REGISTRY"]

MISSION_REGISTRY: dict[str, Builder] = {
    "daily_loop": DAILY_LOOP,
    "echo": ECHO,
    "run_tests": RUN_TESTS,
}
"""Mission name -> builder(params) -> workflow. A plain dict: replace entries freely (e.g. `monkeypatch.setitem`)."""
