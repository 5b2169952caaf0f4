"""The tests stepfold's run_tests mission runs on this project."""

from calc import add, mean


def test_add() -> None:
    assert add(2, 3) == 5


def test_mean() -> None:
    assert mean([1.0, 2.0, 3.0]) == 2.0


def test_mean_of_one() -> None:
    assert mean([4.0]) == 4.0
