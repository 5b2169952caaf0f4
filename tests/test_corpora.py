"""Public conformance corpora: JSONTestSuite through the command line, the RFC 8785 reference data through the encoder.

The corpora live beside the project, in `../shared/corpora/` (see its
README.md): `JSONTestSuite/test_parsing/` (`y_` must parse, `n_` must be
refused, `i_` either way) and `json-canonicalization/testdata/` (RFC 8785
inputs with their canonical outputs, and the ES6 number test generator).
Every test here skips when they are absent, as in an unpacked sdist.

stepfold's reader is RFC 8259 plus I-JSON (RFC 7493): a `y_` file is accepted
only when it is an object inside the value domain. Which I-JSON rule a file
breaks is derived from its content (`judge`), never from a list of names.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import rfc8785

from stepfold import InvalidValueError, canonical_json, freeze
from stepfold.cli import main

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
PARSING = CORPORA / "JSONTestSuite" / "test_parsing"
JCS = CORPORA / "json-canonicalization" / "testdata"
SCRIPT = Path(sys.executable).parent / "stepfold"

# The value domain as DESIGN.md states it, written out here rather than imported, so that the tests pin the contract.
MAX_SAFE_INTEGER = 2**53 - 1
MAX_DEPTH = 128

# Why stepfold may refuse a document, and how its one line says so.
NOT_UTF8 = "not UTF-8"
SYNTAX = "not JSON"
CONSTANT = "NaN or Infinity"
DUPLICATE = "duplicate key"
NOT_OBJECT = "not an object"
INTEGER = "integer beyond 2**53 - 1"
FINITE = "not a finite number"
SURROGATE = "lone surrogate"
DEPTH = "nested too deeply"
REASONS: dict[str, str] = {
    NOT_UTF8: r"is not UTF-8 text \(byte \d+\)$",
    SYNTAX: r"invalid JSON at (line \d+ )?column \d+: ",
    CONSTANT: r"(NaN|-?Infinity) is not allowed in JSON input$",
    DUPLICATE: r"invalid JSON: duplicate key ",
    NOT_OBJECT: r"expected a JSON object, got \w+$",
    INTEGER: r"is outside \+-\(2\*\*53 - 1\)",
    FINITE: r"is not allowed \(only finite numbers\)$",
    SURROGATE: r"lone surrogate .* not valid Unicode$",
    DEPTH: r"nested too deeply to parse|nesting is deeper than 128 levels$",
}
UNREADABLE = frozenset({NOT_UTF8, SYNTAX, CONSTANT, DEPTH})
"""The reasons that come before any value exists: an `n_` file is refused for one of them."""
VALUE_RULES = frozenset({INTEGER, FINITE, SURROGATE, DEPTH})
"""The reasons that lie in the values themselves, which `freeze` refuses."""

BOM = b"\xef\xbb\xbf"


def _absent(folder: Path) -> str:
    return f"{folder} is absent (the conformance corpora are not shipped, e.g. in an unpacked sdist)"


def _files(folder: Path, pattern: str) -> list[Any]:
    """One parameter per corpus file (id: its name), or one skipped parameter when the corpus is absent."""
    if not folder.is_dir():
        return [pytest.param(None, id="corpus-absent", marks=pytest.mark.skip(reason=_absent(folder)))]
    return [pytest.param(path, id=path.name) for path in sorted(folder.glob(pattern))]


def _require(folder: Path) -> Path:
    if not folder.is_dir():
        pytest.skip(_absent(folder))
    return folder


# --- what the content says: an oracle written from RFC 8259 + RFC 7493, independent of stepfold's reader -------------


def _has_surrogate(text: str) -> bool:
    # json.loads joins escaped pairs into one code point, so a code point left in D800-DFFF was a lone surrogate.
    return any("\ud800" <= char <= "\udfff" for char in text)


def _domain_violations(value: object) -> set[str]:
    """The I-JSON rules the values of `value` break (its top level counts as one level of nesting)."""
    found: set[str] = set()
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                found.add(DEPTH)
                continue
            if isinstance(item, dict) and any(_has_surrogate(name) for name in item):
                found.add(SURROGATE)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
        elif isinstance(item, str):
            if _has_surrogate(item):
                found.add(SURROGATE)
        elif isinstance(item, bool) or item is None:
            pass
        elif isinstance(item, int):
            if abs(item) > MAX_SAFE_INTEGER:
                found.add(INTEGER)
        elif isinstance(item, float) and not math.isfinite(item):  # 1e400 reads as inf: no double is near it
            found.add(FINITE)
    return found


class Judgement(NamedTuple):
    reasons: frozenset[str]
    """Every reason the content gives to refuse it; empty: it must be accepted."""
    parsed: bool
    """Whether the bytes are UTF-8 JSON text at all."""
    value: Any = None
    """The document as plain data, when it parses."""


def judge(data: bytes) -> Judgement:
    """What stepfold must do with a `--state` file, from its bytes alone."""
    try:
        text = data.decode("utf-8-sig")  # RFC 8259 section 8.1 and RFC 7493 section 2.1: UTF-8; a BOM is tolerated
    except UnicodeDecodeError:
        return Judgement(frozenset({NOT_UTF8}), parsed=False)
    reasons: set[str] = set()

    def constant(name: str) -> None:
        reasons.add(CONSTANT)  # Python reads NaN and Infinity; JSON has no such tokens

    def members(pairs: list[tuple[str, object]]) -> dict[str, object]:
        if len({name for name, _ in pairs}) < len(pairs):
            reasons.add(DUPLICATE)  # RFC 7493 section 2.3: names MUST be unique
        return dict(pairs)

    try:
        value = json.loads(text, object_pairs_hook=members, parse_constant=constant)
    except RecursionError:
        return Judgement(frozenset({DEPTH}), parsed=False)
    except ValueError:
        return Judgement(frozenset({SYNTAX}), parsed=False)
    reasons |= _domain_violations(value)
    if not isinstance(value, dict):
        reasons.add(NOT_OBJECT)  # `--state` is a state: an object
    return Judgement(frozenset(reasons), parsed=True, value=value)


# --- the command line ---------------------------------------------------------------------------------------------


class Run(NamedTuple):
    code: int
    out: str
    err: str


def run_state(path: Path, *extra: str) -> Run:
    """`stepfold run echo --no-store --state PATH`, in process."""
    out, err = io.StringIO(), io.StringIO()
    code = main(["run", "echo", "--no-store", "--state", str(path), *extra], out=out, err=err)
    return Run(code, out.getvalue(), err.getvalue())


def refusal_reason(run: Run) -> str:
    """The reason of a refusal, checking its form: exit 2, nothing on stdout, one `stepfold: error: ` line on stderr."""
    assert run.code == 2, run
    assert "Traceback" not in run.err, run.err
    assert run.err.startswith("stepfold: error: "), run.err
    assert run.err.endswith("\n") and len(run.err.splitlines()) == 1, run.err
    assert run.out == "", run.out
    line = run.err.rstrip("\n")
    matched = [reason for reason, pattern in REASONS.items() if re.search(pattern, line)]
    assert len(matched) == 1, f"{line!r} matches {matched}, not exactly one reason"
    return matched[0]


def assert_accepted(run: Run) -> None:
    assert run.code == 0, run.err
    assert run.err == ""
    assert "status   completed" in run.out or '"status": "completed"' in run.out


def assert_agrees(run: Run, judgement: Judgement) -> None:
    """The run did what the content says: accepted it, or refused it for one of the reasons the content gives."""
    if judgement.reasons:
        assert refusal_reason(run) in judgement.reasons
    else:
        assert_accepted(run)


def _wrapped(data: bytes) -> bytes:
    """`{"v": DOCUMENT}`, byte for byte (a BOM stays in front): the document's values, inside a state."""
    bom = BOM if data.startswith(BOM) else b""
    return bom + b'{"v":' + data[len(bom) :] + b"}"


def test_the_json_test_suite_is_all_there() -> None:
    names = [path.name for path in _require(PARSING).iterdir()]
    assert len(names) == 318
    assert {prefix: sum(name.startswith(prefix) for name in names) for prefix in "yni"} == {"y": 95, "n": 188, "i": 35}


@pytest.mark.parametrize("path", _files(PARSING, "n_*.json"))
def test_every_n_file_is_refused_with_one_line(path: Path) -> None:
    assert refusal_reason(run_state(path)) in UNREADABLE


@pytest.mark.parametrize("path", _files(PARSING, "y_*.json"))
def test_every_y_file_is_accepted_exactly_when_it_is_an_i_json_object(path: Path) -> None:
    judgement = judge(path.read_bytes())
    assert judgement.parsed, "a y_ file is JSON: the oracle must read it"
    assert_agrees(run_state(path), judgement)


@pytest.mark.parametrize("path", _files(PARSING, "i_*.json"))
def test_every_i_file_is_accepted_or_refused_with_one_line(path: Path) -> None:
    run = run_state(path)
    if run.code != 0:
        refusal_reason(run)
    else:
        assert_accepted(run)


@pytest.mark.parametrize("path", _files(PARSING, "[yi]_*.json"))
def test_every_y_and_i_value_inside_a_state_is_kept_exactly_when_it_is_in_the_value_domain(
    path: Path, tmp_path: Path
) -> None:
    # Most y_ and i_ files are arrays, refused as states before their values are looked at: as {"v": ...} the
    # value-domain rules (integers, finite numbers, Unicode, depth) meet every one of them, and what is
    # accepted must come back unchanged.
    data = _wrapped(path.read_bytes())
    state = tmp_path / path.name
    state.write_bytes(data)
    judgement = judge(data)
    assert NOT_OBJECT not in judgement.reasons
    run = run_state(state, "--json")
    assert_agrees(run, judgement)
    if run.code == 0:
        assert json.loads(run.out)["lineage"]["initial_state"] == judgement.value


# A few verdicts checked by hand, so that the oracle itself is tested (why, per file).
HAND_CHECKED: dict[str, frozenset[str]] = {
    "y_object_duplicated_key.json": frozenset({DUPLICATE}),  # RFC 7493 2.3: names MUST be unique
    "y_object_duplicated_key_and_value.json": frozenset({DUPLICATE}),  # even when the values agree
    "y_object_extreme_numbers.json": frozenset(),  # -1.0e+28 and 1.0e+28 are finite doubles
    "y_object_escaped_null_in_key.json": frozenset(),  # "foo\u0000bar" is a valid (odd) name
    "y_structure_lonely_null.json": frozenset({NOT_OBJECT}),  # JSON, but not a state
    "i_object_key_lone_2nd_surrogate.json": frozenset({SURROGATE}),  # an object whose name is "\uDFAA"
    "i_structure_UTF-8_BOM_empty_object.json": frozenset(),  # a BOM, then {}: accepted
    "i_string_UTF-16LE_with_BOM.json": frozenset({NOT_UTF8}),  # RFC 7493 2.1: UTF-8 only
    "i_number_real_underflow.json": frozenset({NOT_OBJECT}),  # [123e-10000000]: rounds to 0.0, a finite double
    "i_number_huge_exp.json": frozenset({NOT_OBJECT, FINITE}),  # [0.4e006...]: past the largest double
    "i_number_too_big_neg_int.json": frozenset({NOT_OBJECT, INTEGER}),  # 30 digits
    "i_structure_500_nested_arrays.json": frozenset({NOT_OBJECT, DEPTH}),  # 500 > 128 levels
}


@pytest.mark.parametrize("name", sorted(HAND_CHECKED))
def test_the_content_oracle_agrees_with_hand_checked_verdicts(name: str) -> None:
    assert judge((_require(PARSING) / name).read_bytes()).reasons == HAND_CHECKED[name]


EDGES: dict[str, bytes] = {
    "128-levels": b'{"v":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}",
    "129-levels": b'{"v":' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}",
    "safe-integers": b'{"max": 9007199254740991, "min": -9007199254740991}',
    "2**53": b'{"v": 9007199254740992}',
    "-(2**53)": b'{"v": -9007199254740992}',
    "65-digits": b'{"v": 1' + b"0" * 64 + b"}",
    "2**53-as-a-double": b'{"v": 9007199254740992.0}',  # a float: finite, so in the domain
    "largest-double": b'{"v": 1.7976931348623157e308}',
    "past-the-largest-double": b'{"v": 1.8e308}',
    "nan-token": b'{"v": NaN}',
    "escaped-pair": b'{"v": "\\ud834\\udd1e"}',
    "reversed-pair": b'{"v": "\\udd1e\\ud834"}',
    "bom-object": BOM + b'{"v": 1}',
    "latin-1": b'{"v": "caf\xe9"}',
    "duplicate-in-depth": b'{"v": [{"a": 1, "b": {"c": 1, "c": 2}}]}',
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_the_value_domain_edges_are_where_the_oracle_puts_them(name: str, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(EDGES[name])
    assert_agrees(run_state(state), judge(EDGES[name]))


SUBPROCESS_CASES = {
    "n_structure_100000_opening_arrays.json": 2,  # deeper than any stack
    "n_structure_open_array_object.json": 2,  # deep and unclosed
    "n_array_invalid_utf8.json": 2,  # not UTF-8
    "n_number_NaN.json": 2,  # a token Python's json would read
    "y_object_string_unicode.json": 0,  # an I-JSON object
    "y_structure_lonely_null.json": 2,  # JSON, not an object
    "i_structure_UTF-8_BOM_empty_object.json": 0,  # a BOM
    "i_string_UTF-16LE_with_BOM.json": 2,  # UTF-16
}


@pytest.mark.parametrize("name", sorted(SUBPROCESS_CASES))
def test_the_console_script_answers_corpus_files_with_an_exit_code_never_a_traceback(name: str) -> None:
    if not SCRIPT.is_file():
        pytest.skip(f"{SCRIPT} is not installed")
    path = _require(PARSING) / name
    proc = subprocess.run(
        [str(SCRIPT), "run", "echo", "--no-store", "--state", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    run = Run(proc.returncode, proc.stdout, proc.stderr)
    assert run.code == SUBPROCESS_CASES[name], run
    if run.code == 2:
        refusal_reason(run)
    else:
        assert_accepted(run)
    if name.startswith("y_"):
        assert_agrees(run, judge(path.read_bytes()))


def _parsed_files() -> list[Any]:
    """The `y_` and `i_` files that are UTF-8 JSON text, whatever their values."""
    return [
        param
        for param in _files(PARSING, "[yi]_*.json")
        if param.values[0] is None or judge(param.values[0].read_bytes()).parsed
    ]


@pytest.mark.parametrize("path", _parsed_files())
def test_canonical_json_agrees_with_rfc8785_on_every_corpus_value_in_the_domain(path: Path) -> None:
    # The rfc8785 package is an independent JCS implementation; every corpus value inside the domain, whatever
    # its top level, must encode to the same bytes, frozen or plain; every one outside it is refused.
    judgement = judge(path.read_bytes())
    if judgement.reasons & VALUE_RULES:
        with pytest.raises(InvalidValueError):
            freeze(judgement.value)
        return
    expected = rfc8785.dumps(judgement.value)
    assert canonical_json(freeze(judgement.value)) == expected
    assert canonical_json(judgement.value) == expected


# --- RFC 8785 reference data ---------------------------------------------------------------------------------------


def test_the_jcs_testdata_is_all_there() -> None:
    folder = _require(JCS)
    inputs = sorted(path.name for path in (folder / "input").iterdir())
    assert inputs == ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json", "weird.json"]
    assert sorted(path.name for path in (folder / "output").iterdir()) == inputs
    assert sorted(path.stem for path in (folder / "outhex").iterdir()) == [Path(name).stem for name in inputs]


@pytest.mark.parametrize("path", _files(JCS / "input", "*.json"))
def test_every_jcs_input_encodes_to_its_reference_output(path: Path) -> None:
    expected = (JCS / "output" / path.name).read_bytes()
    value = json.loads(path.read_bytes())
    assert canonical_json(freeze(value)) == expected
    assert canonical_json(value) == expected  # plain data already in the domain, encoded directly
    assert bytes.fromhex((JCS / "outhex" / f"{path.stem}.txt").read_text(encoding="ascii")) == expected


@pytest.mark.parametrize("path", _files(JCS / "output", "*.json"))
def test_every_jcs_output_is_a_fixed_point_and_a_valid_state(path: Path) -> None:
    expected = path.read_bytes()
    assert canonical_json(freeze(json.loads(expected))) == expected
    if expected.startswith(b"{"):
        assert_agrees(run_state(path), judge(expected))


def _readme() -> str:
    return (_require(JCS) / "README.md").read_text(encoding="utf-8")


def _double(bits: int) -> float:
    value: float = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return value


def _readme_samples() -> list[Any]:
    """The README's "Sample lines" (`hex-ieee,expected`), one parameter each."""
    readme = JCS / "README.md"
    if not readme.is_file():
        return [pytest.param("", "", id="corpus-absent", marks=pytest.mark.skip(reason=_absent(JCS)))]
    block = readme.read_text(encoding="utf-8").split("Sample lines:", 1)[1].split("```code", 1)[1].split("```", 1)[0]
    lines = block.split()
    assert lines and all(re.fullmatch(r"[0-9a-f]{1,16},\S+", line) for line in lines), lines
    return [pytest.param(*line.split(","), id=line) for line in lines]


# The README lists no NaN or infinity; the patterns (the ES6 generator skips them too) are written out here.
NON_FINITE = {"7ff0000000000000": "Infinity", "fff0000000000000": "-Infinity", "7ff8000000000000": "NaN"}


@pytest.mark.parametrize(("ieee", "expected"), _readme_samples())
def test_the_readme_sample_doubles_encode_as_listed(ieee: str, expected: str) -> None:
    x = _double(int(ieee, 16))
    if not math.isfinite(x):
        pytest.skip(f"{expected} is outside the value domain (test_non_finite_doubles_are_outside_the_value_domain)")
    assert canonical_json(x) == expected.encode("ascii")
    assert canonical_json(freeze([x])) == b"[" + expected.encode("ascii") + b"]"


@pytest.mark.parametrize("ieee", sorted(NON_FINITE), ids=lambda ieee: NON_FINITE[ieee])
def test_non_finite_doubles_are_outside_the_value_domain(ieee: str) -> None:
    x = _double(int(ieee, 16))
    assert not math.isfinite(x)
    with pytest.raises(InvalidValueError, match=r"is not allowed \(only finite numbers\)"):
        freeze(x)
    with pytest.raises(InvalidValueError, match=r"is not allowed \(only finite numbers\)"):
        canonical_json(x)  # RFC 8785 3.2.2.3: an error, never `nan` or `inf` text
    with pytest.raises(InvalidValueError):
        canonical_json({"v": [x]})


def _es6_bit_patterns(readme: str) -> Iterator[int]:
    """The ES6 number test sequence, as the README's generator makes it: its static values, 2000 serial ones, then
    the doubles of a SHA-256 chain from 32 zero bytes (4 little-endian doubles a hash, zeros and non-finite skipped)."""
    static = readme.split("staticU64s = new BigUint64Array([", 1)[1].split("])", 1)[0]
    yield from (int(digits, 16) for digits in re.findall(r"0x([0-9a-f]{1,16})n", static))
    yield from (0x0010000000000000 + i for i in range(2000))
    block = bytes(32)
    while True:
        block = hashlib.sha256(block).digest()
        for (bits,) in struct.iter_unpack("<Q", block):
            x = _double(bits)
            if x != 0 and math.isfinite(x):
                yield bits


ES6_LINES = 100_000
"""How much of the 100-million-line ES6 test file to rebuild (about half a second)."""


def test_the_es6_number_test_file_rebuilt_with_canonical_json_has_the_readme_hashes() -> None:
    # The corpus holds no copy of es6testfile100m.txt, but its README gives the generator and the SHA-256 of the
    # file's first 1,000 ... 100,000,000 lines (`hex-ieee,expected\n`): the expected column written by
    # canonical_json must hash to the same.
    readme = _readme()
    hashes = {
        int(lines): digest for digest, lines in re.findall(r"^\|\s*([0-9a-f]{64})\s*\|\s*(\d+)\s*\|", readme, re.M)
    }
    checked = {lines: digest for lines, digest in hashes.items() if lines <= ES6_LINES}
    assert sorted(checked) == [1000, 10_000, 100_000]
    patterns = _es6_bit_patterns(readme)
    digest = hashlib.sha256()
    got: dict[int, str] = {}
    for line in range(1, ES6_LINES + 1):
        bits = next(patterns)
        digest.update(b"%x," % bits + canonical_json(_double(bits)) + b"\n")
        if line in checked:
            got[line] = digest.hexdigest()
    assert got == checked
