"""The commands an auditor uses: `verify` (a run, a file, standard input, or `--all`) and `keygen`.

`verify` exits 0 ok, 1 tampered (or a required signature missing), 4
diverged or unverifiable, 2 bad usage. It opens the store read-only.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

import attrs

from stepfold.cli.commands import EXIT_FAILED, EXIT_OK, EXIT_UNVERIFIED, open_store
from stepfold.cli.jsonio import STDIN, UsageError, read_bytes, read_document
from stepfold.cli.render import for_people, plural, quoted
from stepfold.errors import InvalidDocumentError, RunNotFoundError, StoreError
from stepfold.reader import read_workflow
from stepfold.registry import operations_for
from stepfold.result import OrchestrationResult
from stepfold.signing import Signature, SigningError, generate_key, load_public_key, public_key_hex, signature_valid
from stepfold.store import HEX_DIGITS, MIN_PREFIX, SQLiteStore
from stepfold.verdict import OK, TAMPERED, Verification
from stepfold.verification import verify
from stepfold.workflow import WorkflowDefinition

__all__ = ["command_verify", "command_keygen", "verdict_exit_code"]

_HEAD = re.compile(r"[0-9a-f]{64}\Z")


def verdict_exit_code(verdict: Verification) -> int:
    """0 ok, 1 tampered, 4 diverged or unverifiable."""
    if verdict.ok:
        return EXIT_OK
    return EXIT_FAILED if verdict.verdict == TAMPERED else EXIT_UNVERIFIED


def _looks_like_run_id(text: str) -> bool:
    return len(text) >= MIN_PREFIX and all(c in HEX_DIGITS for c in text)


def _expected_head(args: argparse.Namespace) -> str | None:
    if args.expect is None:
        return None
    head = str(args.expect).strip().lower()
    if not _HEAD.match(head):
        raise UsageError(f"--expect: a head is 64 hex digits (the full run id), got {quoted(str(args.expect))}")
    return head


def _workflow_of(document: Mapping[str, object]) -> WorkflowDefinition:
    try:
        return read_workflow(document.get("workflow"))
    except InvalidDocumentError:  # verify says what is wrong with the document; the defaults replay nothing
        return WorkflowDefinition()


def _signatures(raw: object) -> list[Signature]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise SigningError(f"signatures: expected a list, got {type(raw).__name__}")
    return [Signature.from_dict(item) for item in raw]


def _with_signature(
    verdict: Verification, args: argparse.Namespace, head: str | None, signatures: list[Signature]
) -> Verification:
    if args.key is None or not verdict.ok:
        return verdict
    key = load_public_key(read_bytes(args.key, "--key"), f"--key {args.key}")
    if head is not None and signature_valid(key, head, signatures):
        return attrs.evolve(verdict, reason=f"{verdict.reason}; signed by key {public_key_hex(key)[:16]}…")
    found = "no signature" if not signatures else f"{plural(len(signatures), 'signature')}, none valid"
    return attrs.evolve(
        verdict, verdict=TAMPERED, reason=f"{found} by key {public_key_hex(key)[:16]}… over head {head}"
    )


def _answer(label: str, run_id: str | None, verdict: Verification) -> dict[str, object]:
    mismatch = verdict.first_mismatch
    return {
        "checked_steps": verdict.checked_steps,
        "first_mismatch": None
        if mismatch is None
        else {"index": mismatch.index, "step": mismatch.index + 1, "step_id": mismatch.step_id},
        "ok": verdict.ok,
        "policy": None if verdict.policy is None else verdict.policy.to_dict(),
        "reason": verdict.reason,
        "run_id": run_id,
        "target": label,
        "verdict": verdict.verdict,
    }


def _line(label: str, verdict: Verification) -> str:
    if verdict.ok:
        return for_people(f"ok  {label}: {verdict.reason}")
    where = f" at {verdict.first_mismatch}" if verdict.first_mismatch is not None else ""
    checked = plural(verdict.checked_steps, "step")
    return for_people(f"{verdict.verdict.upper()}{where}  {label}: {verdict.reason} ({checked} verified before it)")


def _verify_stored(
    store: SQLiteStore, run_id: str, args: argparse.Namespace
) -> tuple[Verification, OrchestrationResult | None]:
    try:
        result = store.load(run_id)
    except RunNotFoundError:
        raise
    except StoreError as exc:  # tampered, or its row cannot be read back: either way not the run its id names
        return Verification(TAMPERED, 0, None, str(exc)), None
    verdict = verify(
        result, operations=operations_for(result.workflow), replay=not args.no_replay, expect_head=_expected_head(args)
    )
    return _with_signature(verdict, args, result.run_id, store.signatures(result.run_id)), result


def command_verify(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold verify RUN_ID|FILE|-` or `stepfold verify --all`."""
    if args.all:
        if args.target is not None:
            raise UsageError("verify: give a run or file, or --all, not both")
        return _verify_all(args, out)
    if args.target is None:
        raise UsageError("verify: give a run id, a JSON file, - (standard input), or --all")
    run_id: str | None
    if args.target == STDIN or Path(args.target).is_file():
        label = "standard input" if args.target == STDIN else args.target
        document = dict(read_document(args.target))
        signatures = _signatures(document.pop("signatures", None))
        verdict = verify(
            document,
            operations=operations_for(_workflow_of(document)),
            replay=not args.no_replay,
            expect_head=_expected_head(args),
        )
        receipt = document.get("receipt")
        head = receipt.get("head") if isinstance(receipt, Mapping) else None
        run_id = head if isinstance(head, str) else None
        verdict = _with_signature(verdict, args, run_id if verdict.ok else None, signatures)
    elif _looks_like_run_id(args.target):
        with open_store(args) as store:
            label = run_id = store.resolve(args.target)
            verdict, _ = _verify_stored(store, run_id, args)
    else:
        raise UsageError(f"verify: {quoted(args.target)} is neither a JSON file nor a run id")
    if args.json:
        out.write(json.dumps(_answer(label, run_id, verdict), ensure_ascii=False) + "\n")
    else:
        out.write(_line(label, verdict) + "\n")
    return verdict_exit_code(verdict)


def _verify_all(args: argparse.Namespace, out: TextIO) -> int:
    """Replay every stored run with the code installed now; list each that is not ok (a row that cannot be read
    back is tampered, and the rest are still checked)."""
    answers = []
    counts: dict[str, int] = {}
    with open_store(args) as store:
        for run_id in store.run_ids():
            verdict, _ = _verify_stored(store, run_id, args)
            counts[verdict.verdict] = counts.get(verdict.verdict, 0) + 1
            answers.append((run_id, verdict))
    failing = [(run_id, verdict) for run_id, verdict in answers if not verdict.ok]
    code = max(
        (verdict_exit_code(verdict) for _, verdict in failing), default=EXIT_OK, key=lambda c: (c == EXIT_FAILED, c)
    )
    if args.json:
        out.write(
            json.dumps(
                {
                    "counts": dict(sorted(counts.items())),
                    "not_ok": [_answer(run_id, run_id, verdict) for run_id, verdict in failing],
                    "runs": len(answers),
                },
                ensure_ascii=False,
            )
            + "\n"
        )
        return code
    for run_id, verdict in failing:
        out.write(_line(run_id, verdict) + "\n")
    shown = ", ".join(f"{counts[name]} {name}" for name in sorted(counts, key=lambda n: (n != OK, n)))
    how = "checked without replay (chain and record)" if args.no_replay else "replayed with the code installed now"
    out.write(f"{plural(len(answers), 'run')} {how}: {shown or 'none stored'}\n")
    return code


def command_keygen(args: argparse.Namespace, out: TextIO) -> int:
    """`stepfold keygen PATH`: a new Ed25519 key pair, the private key readable by its owner only, never overwriting."""
    if args.path == STDIN or Path(args.path).name in ("", ".", ".."):
        raise UsageError(
            f"keygen: give a file name for the private key (its public key goes to FILE.pub), got {quoted(args.path)}"
        )
    private_path, public_path = generate_key(args.path)
    out.write(for_people(f"private key  {private_path}  (readable by you only: keep it secret)") + "\n")
    out.write(
        for_people(f"public key   {public_path}  (give it to whoever checks your runs: stepfold verify --key)") + "\n"
    )
    return EXIT_OK
