"""What every benchmark script here shares: goal checks, package versions and the load average."""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import metadata

import attrs


@attrs.frozen
class Goal:
    """One goal check: the measured ratio, the bound, and whether it was met."""

    name: str
    ratio: float
    bound: str
    met: bool

    def to_dict(self) -> dict[str, object]:
        """Plain JSON data."""
        return {"goal": self.name, "ratio": self.ratio, "bound": self.bound, "met": self.met}


def package_versions(packages: Iterable[str]) -> dict[str, str]:
    """The installed version of each package, or "not installed"."""
    versions: dict[str, str] = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return []
