"""A tiny library under test."""


def add(a: int, b: int) -> int:
    """The sum of a and b."""
    return a + b


def mean(values: list[float]) -> float:
    """The arithmetic mean of a non-empty list."""
    return sum(values) / len(values)
