"""The built-in missions and the `Mission` type."""

from stepfold.missions.base import Builder, Mission
from stepfold.missions.catalog import MISSION_REGISTRY
from stepfold.missions.daily_loop import CONFIRM_STEP, DAILY_LOOP
from stepfold.missions.echo import ECHO
from stepfold.missions.run_tests import RUN_TESTS

__all__ = ["Builder", "Mission", "MISSION_REGISTRY", "DAILY_LOOP", "ECHO", "RUN_TESTS", "CONFIRM_STEP"]
