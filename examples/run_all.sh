#!/bin/sh
# What `make run` shows, end to end, in a fresh folder `.stepfold-demo/` (so it can run again and again):
# 1. the daily loop: run (it suspends at the human step), resume with the approval, show, verify;
# 2. a mission of your own whose steps do real work through effects (examples/notes_mission.py):
#    the effects performed once, the receipt, and a verify that replays without performing them;
# 3. the built-in run_tests mission on the sample projects in examples/projects (passing, then failing).
# Usage: sh examples/run_all.sh PATH/TO/stepfold
set -u
stepfold=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
demo="$root/.stepfold-demo"
rm -rf "$demo" && mkdir -p "$demo"
cd "$demo" || exit 1
cp "$root/examples/daily_state.json" "$root/examples/notes.txt" .

say() { printf '\n$ stepfold %s\n' "$*"; }
id_of() { printf '%s\n' "$1" | sed -n 's/^run  *\([0-9a-f]*\).*/\1/p'; }

printf '# 1. The daily loop: a person confirms the priorities\n'
say "run daily_loop --state daily_state.json --params '{\"date\": \"2026-11-24\"}'"
out=$("$stepfold" run daily_loop --state daily_state.json --params '{"date": "2026-11-24"}')
code=$?
printf '%s\n(exit %s: suspended, waiting for a person)\n' "$out" "$code"
[ "$code" -eq 3 ] || exit 1
short=$(printf '%.12s' "$(id_of "$out")")

say "resume $short --input 'daily-confirm-priorities={\"approved\": true}'"
out=$("$stepfold" resume "$short" --input 'daily-confirm-priorities={"approved": true}')
code=$?
printf '%s\n(exit %s)\n' "$out" "$code"
[ "$code" -eq 0 ] || exit 1
done_id=$(printf '%.12s' "$(id_of "$out")")

say "show $done_id"
"$stepfold" show "$done_id" || exit 1

say "verify $done_id"
"$stepfold" verify "$done_id" || exit 1

printf '\n# 2. Your own mission with effects: read a file, ask a model (examples/notes_mission.py)\n'
load="--load $root/examples/notes_mission.py"
say "--load examples/notes_mission.py run notes_digest --params '{\"path\": \"notes.txt\"}'"
# shellcheck disable=SC2086
out=$("$stepfold" $load run notes_digest --params '{"path": "notes.txt"}')
code=$?
printf '%s\n(exit %s)\n' "$out" "$code"
[ "$code" -eq 0 ] || exit 1
notes_id=$(printf '%.12s' "$(id_of "$out")")
printf '\n$ wc -l < notes-ledger.jsonl    # the model was asked once\n%s\n' "$(wc -l < notes-ledger.jsonl | tr -d ' ')"

say "--load examples/notes_mission.py verify $notes_id"
# shellcheck disable=SC2086
"$stepfold" $load verify "$notes_id" || exit 1
printf '\n$ wc -l < notes-ledger.jsonl    # verify replayed the run without asking again\n%s\n' "$(wc -l < notes-ledger.jsonl | tr -d ' ')"

say "runs"
"$stepfold" runs || exit 1

printf '\n# 3. run_tests: the tests really run; their outcome is recorded, so verify needs no test run\n'
for variant in passing failing; do
    cd "$root/examples/projects/$variant" || exit 1
    say "run run_tests --params '{\"paths\": [\"tests\"]}'    # in examples/projects/$variant"
    "$stepfold" --store "$demo/stepfold.db" run run_tests --params '{"paths": ["tests"]}' > "$demo/.out"
    code=$?
    out=$(sed "s#$demo/##" "$demo/.out")
    printf '%s\n(exit %s)\n' "$out" "$code"
    tests_id=$(printf '%.12s' "$(id_of "$out")")
done
cd "$demo" || exit 1
say "show $tests_id"
"$stepfold" show "$tests_id"
say "verify $tests_id"
"$stepfold" verify "$tests_id"
printf '(exit %s: the record is intact and replays; the run it records failed)\n' "$?"
