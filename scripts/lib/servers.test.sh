#!/usr/bin/env bash
# Tests scripts/lib/servers.sh: a script that sourced it and started moto and a KMS test server
# leaves no server behind however it ends (Ctrl-C, SIGTERM, SIGHUP, an error), runs its caller's
# cleanup, reuses a moto it is given, refuses one not on 127.0.0.1, and shows the log of a
# server that does not start.
#
#   KMS_ROTATION_VENV=.venv-test KMS_TEST_SERVER_BIN=target/.../kms-test-server scripts/lib/servers.test.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${KMS_ROTATION_VENV:?the venv with moto}" "${KMS_TEST_SERVER_BIN:?the kms-test-server binary}"
export KMS_ROTATION_VENV KMS_TEST_SERVER_BIN
# The scripts under test start their own moto, unless a case gives them one.
unset KMS_ROTATION_MOTO_URL

source "$here/servers.sh"
work=$(mktemp -d)
on_exit rm -rf "$work"
failures=0
failures_seen=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# ok NAME: NAME passed unless something failed since the last ok.
ok() {
  ((failures == failures_seen)) && echo "ok: $1"
  failures_seen=$failures
}

# The script under test: what scripts/test and the bindings' scripts do, then MODE.
cat >"$work/script.sh" <<'EOF'
set -euo pipefail
trap 'touch "$MARKS/previous-trap"' EXIT # a caller's trap, set before sourcing
source "$LIB"
on_exit touch "$MARKS/on-exit"
ensure_moto "$KMS_ROTATION_VENV"
start_kms_test_server "$ROOT/examples/fleet.json"
jobs -p >"$MARKS/pids"
echo "$KMS_ROTATION_MOTO_URL $KMS_TEST_SERVER_URL" >"$MARKS/urls"
touch "$MARKS/ready"
case $MODE in
  run) while :; do sleep 1; done ;; # a long test run, until a signal ends it
  error) false ;;
  done) ;;
esac
EOF

# run_script NAME MODE [VAR=VALUE...]: starts the script as a terminal would, in its own process
# group and with SIGINT not ignored (bash ignores it in the commands it runs with `&`), with a
# fresh MARKS directory; its pid in $script.
run_script() {
  marks=$work/$1
  mkdir -p "$marks"
  env MARKS="$marks" LIB="$here/servers.sh" ROOT="$root" MODE="$2" "${@:3}" python3 -c '
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' bash "$work/script.sh" >"$marks/out" 2>&1 &
  script=$!
}

wait_until_ready() {
  local _
  for _ in $(seq 1200); do
    [[ -e $marks/ready ]] && return 0
    kill -0 "$script" 2>/dev/null || break
    sleep 0.1
  done
  fail "$1: the servers did not start"
  cat "$marks/out" >&2
  return 1
}

# expect_cleaned_up NAME STATUS: the script exited with STATUS, its servers are gone, both
# cleanups ran.
expect_cleaned_up() {
  local name=$1 expected=$2 status=0 pid url
  wait "$script" || status=$?
  [[ $status == "$expected" ]] || fail "$name: exit status $status, expected $expected"
  if [[ ! -e $marks/pids ]]; then
    fail "$name: the servers did not start: $(cat "$marks/out")"
    return
  fi
  for pid in $(cat "$marks/pids"); do
    if kill -0 "$pid" 2>/dev/null; then
      fail "$name: server $pid is still running"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  for url in $(cat "$marks/urls"); do
    if curl -s -o /dev/null --max-time 5 "$url"; then fail "$name: $url still answers"; fi
  done
  [[ -e $marks/on-exit ]] || fail "$name: the on_exit cleanup did not run"
  [[ -e $marks/previous-trap ]] || fail "$name: the EXIT trap set before sourcing did not run"
  [[ $(wc -l <"$marks/pids") == 2 ]] || fail "$name: expected 2 servers, got $(cat "$marks/pids")"
  ok "$name"
}

# Ctrl-C: the terminal signals the whole process group.
run_script ctrl-c run
if wait_until_ready ctrl-c; then kill -INT -- "-$script"; fi
expect_cleaned_up ctrl-c 130

# A signal to the script alone: handled once its running command ends.
for signal in TERM HUP; do
  run_script "$signal" run
  if wait_until_ready "$signal"; then kill "-$signal" "$script"; fi
  expect_cleaned_up "$signal" $((128 + $(kill -l "$signal")))
done

run_script error error
expect_cleaned_up "an error (set -e)" 1

# A moto given in KMS_ROTATION_MOTO_URL is used, not replaced: only the KMS test server starts.
ensure_moto "$KMS_ROTATION_VENV"
run_script reuse done KMS_ROTATION_MOTO_URL="$KMS_ROTATION_MOTO_URL"
wait "$script" || fail "reuse: exit status $?"
read -r moto_url _ <"$marks/urls"
[[ $moto_url == "$KMS_ROTATION_MOTO_URL" ]] || fail "reuse: moto $moto_url, expected $KMS_ROTATION_MOTO_URL"
[[ $(wc -l <"$marks/pids") == 1 ]] || fail "reuse: expected only the KMS test server, got $(cat "$marks/pids")"
ok "a moto given is reused"

# Tests talk to 127.0.0.1 only, and a moto that does not answer is an error, not a skip.
run_script remote done KMS_ROTATION_MOTO_URL=http://198.51.100.7:5000
wait "$script" && fail "remote: a moto not on 127.0.0.1 was accepted"
grep -q "not a server on 127.0.0.1" "$marks/out" || fail "remote: $(cat "$marks/out")"
run_script closed done KMS_ROTATION_MOTO_URL=http://127.0.0.1:9 SERVERS_START_TIMEOUT=1
wait "$script" && fail "closed: a moto that does not answer was accepted"
grep -q "did not answer within 1 s" "$marks/out" || fail "closed: $(cat "$marks/out")"
ok "a moto given must be on 127.0.0.1 and answer"

# A server that exits at start: the script fails with the server's own words.
echo '{"schema_version": 1, "keys": [{"arn": "nope"}]}' >"$work/bad.json"
cat >"$work/bad.sh" <<EOF
source "$here/servers.sh"
start_kms_test_server "$work/bad.json"
echo "still running"
EOF
status=0
out=$(bash "$work/bad.sh" 2>&1) || status=$?
[[ $status == 1 ]] || fail "bad inventory: exit status $status"
[[ $out == *"kms-test-server exited before it answered; its log:"*"bad.json"* ]] || fail "bad inventory: $out"
[[ $out != *"still running"* ]] || fail "bad inventory: the script went on"
ok "a server that does not start fails the script with its log"

if ((failures)); then
  echo "$failures failure(s)" >&2
  exit 1
fi
