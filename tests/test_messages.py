"""`stepfold.messages`: what an error message may quote, and an exception's text as a record keeps it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stepfold.messages import MAX_ERROR_MESSAGE, exception_text, raised_where


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


@given(st.text())
def test_exception_text_is_always_kept_whole_utf8_and_bounded(message: str) -> None:
    text = exception_text(ValueError(message))
    text.encode("utf-8")  # a record is UTF-8 JSON: a lone surrogate is escaped, never kept
    assert len(text) <= MAX_ERROR_MESSAGE + 40
    if (
        len(message) <= MAX_ERROR_MESSAGE
        and message.encode("utf-8", "surrogatepass").decode("utf-8", "replace") == message
    ):
        assert text == message  # an ordinary message is kept exactly as the exception says it


def test_exception_text_names_what_it_cannot_print_and_counts_what_it_cuts() -> None:
    assert exception_text(_Unprintable()) == "(a _Unprintable whose message cannot be printed)"
    assert exception_text(ValueError("bad \ud800")) == "bad \\ud800"
    assert (
        exception_text(ValueError("x" * (MAX_ERROR_MESSAGE + 5))) == "x" * MAX_ERROR_MESSAGE + "… (5 more characters)"
    )
    assert exception_text(ValueError("a\n  b"), one_line=True) == "a b"
    assert exception_text(ValueError(""), one_line=True) == "(no message)"


def test_raised_where_names_the_innermost_frame() -> None:
    def inner() -> None:
        raise KeyError("k")

    try:
        inner()
    except KeyError as exc:
        text = raised_where(exc)
    assert text.startswith("KeyError: 'k' (raised at ") and text.endswith(", in inner)")
    assert f"{__file__}:" in text
    assert raised_where(ValueError("never raised")) == "ValueError: never raised"
