#!/usr/bin/env bash
# Tests examples/demo.sh: a whole run succeeds and shows every step; a run interrupted halfway
# (SIGINT to its process group, as Ctrl-C in a terminal sends) stops the emulator and removes its
# working directory. Either way no process is left behind.
#
#   KMS_ROTATION_BIN_DIR=target/<triple>/debug tests/demo/test-demo.sh
#
# KMS_ROTATION_BIN_DIR must hold built `kms-rotation` and `kms-test-server` binaries.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${KMS_ROTATION_BIN_DIR:?set it to the directory of the built binaries}"
export KMS_ROTATION_BIN_DIR

log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() { echo "FAIL: $*"; echo "--- demo output:"; cat "$log"; exit 1; }

work_dir_of() { grep -o '/[^ ]*kms-rotation-demo\.[A-Za-z0-9]*' "$log" | head -n 1; }
assert_cleaned_up() {
  local work
  work=$(work_dir_of)
  [ -n "$work" ] || fail "the demo did not print its working directory"
  [ ! -e "$work" ] || fail "$work was left behind"
  ! pgrep -f -- "$work" > /dev/null || fail "a process of $work is still running: $(pgrep -fa -- "$work")"
}

echo "== a whole run"
examples/demo.sh > "$log" 2>&1 || fail "the demo exited $?"
for expected in "1. Scan" "2. Plan" "3. Apply, dry run" "would change 4 keys" "4 remediated" \
  "5. Re-scan" "6. The journal" "4 rolled back" "8. Re-scan" "Done."; do
  grep -qF -- "$expected" "$log" || fail "no \"$expected\" in the output"
done
# The re-scan after apply differs from the first scan, and rollback brings the first one back.
summaries=$(grep -E '^[0-9]+ keys: ' "$log" || true)
[ "$(echo "$summaries" | wc -l)" -eq 3 ] || fail "expected 3 scan summaries, got: $summaries"
first=$(echo "$summaries" | sed -n 1p) fixed=$(echo "$summaries" | sed -n 2p) last=$(echo "$summaries" | sed -n 3p)
[ "$fixed" != "$first" ] || fail "the re-scan after apply shows no change: $fixed"
[ "$last" = "$first" ] || fail "after rollback: $last; before apply: $first"
assert_cleaned_up
echo "ok"

echo "== interrupted halfway"
# In its own session, with SIGINT at its default: a script's background job would otherwise start
# with SIGINT ignored, which no trap can undo.
python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' examples/demo.sh > "$log" 2>&1 &
demo=$!
for _ in $(seq 300); do grep -qF "2. Plan" "$log" && break; sleep 0.1; done
grep -qF "2. Plan" "$log" || fail "the demo never reached step 2"
kill -INT -- "-$demo"
status=0
wait "$demo" || status=$?
[ "$status" -ne 0 ] || fail "the interrupted demo exited 0"
grep -qF "interrupted" "$log" || fail "the demo did not say it was interrupted"
grep -qF "Done." "$log" && fail "the demo ran to the end despite the interrupt"
assert_cleaned_up
echo "ok"
