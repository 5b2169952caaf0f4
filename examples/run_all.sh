#!/bin/sh
# The daily loop end to end, as `make run` shows it: run (it suspends at the
# human step), resume with the approval, show what each step changed, verify.
# Usage: sh examples/daily_loop.sh PATH/TO/stepfold
set -u
stepfold="$1"
store="${STEPFOLD_STORE:-stepfold.db}"

say() { printf '\n$ stepfold %s\n' "$*"; }

say "run daily_loop --state examples/daily_state.json --params '{\"date\": \"2026-11-24\"}'"
out=$("$stepfold" run daily_loop --store "$store" --state examples/daily_state.json --params '{"date": "2026-11-24"}')
code=$?
printf '%s\n(exit %s: suspended, waiting for a person)\n' "$out" "$code"
[ "$code" -eq 3 ] || exit 1
run_id=$(printf '%s\n' "$out" | sed -n 's/^run  *\([0-9a-f]*\).*/\1/p')
short=$(printf '%.12s' "$run_id")

say "resume $short --input 'daily-confirm-priorities={\"approved\": true}'"
out=$("$stepfold" resume "$short" --store "$store" --input 'daily-confirm-priorities={"approved": true}')
code=$?
printf '%s\n(exit %s)\n' "$out" "$code"
[ "$code" -eq 0 ] || exit 1
done_id=$(printf '%.12s' "$(printf '%s\n' "$out" | sed -n 's/^run  *\([0-9a-f]*\).*/\1/p')")

say "show $done_id"
"$stepfold" show "$done_id" --store "$store" || exit 1

say "verify $done_id"
"$stepfold" verify "$done_id" --store "$store"
