#!/usr/bin/env bash
# zflow run --history / --resume / --redrive as a user runs them: a run killed with SIGKILL
# while a task runs continues from its history file (finished tasks are not run again, the
# task in flight is); a failed run is redriven from the state that failed.
# Usage: resume_cli.sh ZFLOW
set -euo pipefail
zflow=$1
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$tmp/m.json" <<'JSON'
{"StartAt": "A", "States": {
  "A": {"Type": "Task", "Resource": "arn:aws:states:::zflow:a", "ResultPath": "$.a", "Next": "B"},
  "B": {"Type": "Task", "Resource": "arn:aws:states:::zflow:b", "ResultPath": "$.b", "Next": "W"},
  "W": {"Type": "Wait", "Seconds": 1, "Next": "C"},
  "C": {"Type": "Task", "Resource": "arn:aws:states:::zflow:c", "ResultPath": "$.c", "End": true}}}
JSON
cat >"$tmp/a.sh" <<SH
echo a >>"$tmp/calls.txt"; echo '{"a": 1}'
SH
cat >"$tmp/b.sh" <<SH
echo \$\$ >"$tmp/b.pid"
echo b >>"$tmp/calls.txt"
if [ -e "$tmp/slow" ]; then exec sleep 60; fi
echo '{"b": 2}'
SH
cat >"$tmp/c.sh" <<SH
echo c >>"$tmp/calls.txt"
if [ -e "$tmp/healed" ]; then echo '{"c": 3}'; else echo '{"errorType": "Broken", "errorMessage": "not yet"}'; exit 1; fi
SH
tasks=(--task "arn:aws:states:::zflow:a=bash $tmp/a.sh" --task "arn:aws:states:::zflow:b=bash $tmp/b.sh"
       --task "arn:aws:states:::zflow:c=bash $tmp/c.sh")
touch "$tmp/healed"

# 1. Killed while B runs.
touch "$tmp/slow"
"$zflow" run "$tmp/m.json" --input '{"x": 1}' "${tasks[@]}" --history "$tmp/h.json" -q &
run=$!
for _ in $(seq 1 200); do grep -q b "$tmp/calls.txt" 2>/dev/null && break; sleep 0.05; done
grep -q b "$tmp/calls.txt" || fail "B never started"
# While it runs, its history file is not taken over by another run.
if "$zflow" run "$tmp/m.json" --resume "$tmp/h.json" "${tasks[@]}" -q 2>"$tmp/err.txt"; then
  fail "a history file in use was resumed"
fi
grep -q "being written by another zflow run" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "no reason given"; }
kill -9 "$run"; wait "$run" 2>/dev/null || true
kill "$(cat "$tmp/b.pid")" 2>/dev/null || true  # the killed run's job outlives it
tail -n 1 "$tmp/h.json" | grep -q '"type":"TaskStarted"' || fail "the history does not end with B's TaskStarted"
rm "$tmp/slow"
"$zflow" run "$tmp/m.json" --resume "$tmp/h.json" "${tasks[@]}" --result-json >"$tmp/out.txt" 2>"$tmp/err.txt" \
  || { cat "$tmp/err.txt"; fail "resume failed"; }
tail -n 1 "$tmp/out.txt" | grep -q '"status":"SUCCEEDED","output":{"x":1,"a":{"a":1},"b":{"b":2},"c":{"c":3}}' \
  || { cat "$tmp/out.txt"; fail "wrong output after resume"; }
[ "$(tr -d '\n' <"$tmp/calls.txt")" = "abbc" ] || fail "calls were $(tr -d '\n' <"$tmp/calls.txt"), expected abbc"
grep -q "resuming" "$tmp/err.txt" || fail "no resume message"
# The file is one JSON document again, and holds every event once, in order.
node -e 'const h = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  h.events.forEach((e, i) => { if (e.id !== i + 1) throw new Error("event " + i); });
  if (h.events[h.events.length - 1].type !== "ExecutionSucceeded") throw new Error("end");' "$tmp/h.json" \
  || fail "the history file is not a complete history"

# 2. A run that has ended is not resumed.
if "$zflow" run "$tmp/m.json" --resume "$tmp/h.json" "${tasks[@]}" -q 2>"$tmp/err.txt"; then
  fail "an ended run was resumed"
fi
grep -q "already ended (SUCCEEDED)" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "no reason given"; }

# 3. Failed, then redriven from C: A and B are not run again.
rm -f "$tmp/healed" "$tmp/calls.txt"
if "$zflow" run "$tmp/m.json" --input '{"x": 2}' "${tasks[@]}" --history "$tmp/f.json" -q; then
  fail "C should have failed"
fi
touch "$tmp/healed"
"$zflow" run "$tmp/m.json" --redrive "$tmp/f.json" "${tasks[@]}" --result-json >"$tmp/out.txt" 2>"$tmp/err.txt" \
  || { cat "$tmp/err.txt"; fail "redrive failed"; }
tail -n 1 "$tmp/out.txt" | grep -q '"status":"SUCCEEDED"' || fail "redrive did not succeed"
[ "$(tr -d '\n' <"$tmp/calls.txt")" = "abcc" ] || fail "calls were $(tr -d '\n' <"$tmp/calls.txt"), expected abcc"
grep -q '"type":"ExecutionRedriven"' "$tmp/f.json" || fail "no ExecutionRedriven event"
# Redriving a run that succeeded is refused.
if "$zflow" run "$tmp/m.json" --redrive "$tmp/f.json" "${tasks[@]}" -q 2>"$tmp/err.txt"; then
  fail "a succeeded run was redriven"
fi
grep -q "ExecutionNotRedrivable" "$tmp/err.txt" || { cat "$tmp/err.txt"; fail "no reason given"; }
echo "ok: killed run resumed, failed run redriven"
