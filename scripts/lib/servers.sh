# shellcheck shell=bash
# The test servers, started in one place: sourced by scripts/test, bindings-python/test.sh and
# bindings-node/test.sh (and tested by scripts/lib/servers.test.sh).
#
#   on_exit COMMAND [ARG...]   run COMMAND when the script exits, after the servers are stopped
#   isolate_from_aws           dummy credentials; no profile, config file, endpoint or IMDS
#   ensure_moto VENV           export KMS_ROTATION_MOTO_URL: the moto it names, else one started
#                              from VENV's moto_server
#   ensure_kms_test_server_bin export KMS_TEST_SERVER_BIN: the binary it names, else built here
#   start_kms_test_server INVENTORY [FLAG...]
#                              start a KMS test server; its URL in KMS_TEST_SERVER_URL (the suites
#                              start their own, per test, from KMS_TEST_SERVER_BIN)
#   stop_servers               stop every server started here
#
# A variable already set is reused, not replaced: run from scripts/test, the bindings' scripts use
# the moto and the binary it set up; run alone, they start what they need.
#
# Servers listen on 127.0.0.1 only, each on a port it picks itself (port 0) and reports: a port
# picked beforehand could be taken by another process before the server binds it. Each start waits
# until the server answers, for at most SERVERS_START_TIMEOUT seconds (default 60), and on failure
# prints the server's log and exits the script.
#
# Every server started here is stopped when the script exits, however it exits: at its end, on an
# error (set -e), on Ctrl-C, SIGTERM or SIGHUP. Sourcing this file installs the EXIT, INT, TERM and
# HUP traps; add cleanup with on_exit, not with trap. (An EXIT trap set before sourcing still
# runs.) A signal sent to the script alone waits for the command it is running to finish (bash
# runs traps between commands); Ctrl-C and a signal to the process group end that command too.
# Nothing can clean up after SIGKILL.

# Sourced twice, it would take its own EXIT trap for the caller's.
if [[ -n ${_servers_root:-} ]]; then return 0; fi
_servers_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_servers_logs=$(mktemp -d "${TMPDIR:-/tmp}/kms-rotation-servers.XXXXXX")
_servers_pids=()
_servers_exit_hooks=()

on_exit() {
  _servers_exit_hooks+=("$(printf '%q ' "$@")")
}

_servers_keep_previous_exit_trap() {
  local previous
  previous=$(trap -p EXIT)
  [[ -n $previous ]] || return 0
  eval "set -- $previous" # trap -- 'COMMAND' EXIT
  _servers_exit_hooks+=("$3")
}
_servers_keep_previous_exit_trap

_servers_on_exit() {
  local status=$? hook
  # A second Ctrl-C must not cut the cleanup short and leave a server behind.
  trap '' INT TERM HUP
  stop_servers
  for hook in "${_servers_exit_hooks[@]}"; do eval "$hook" || true; done
  rm -rf "$_servers_logs"
  exit "$status"
}
trap _servers_on_exit EXIT
# Exiting runs the EXIT trap; the status says which signal ended the script.
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

isolate_from_aws() {
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
  unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS
}

ensure_moto() {
  local venv=$1
  if [[ -n ${KMS_ROTATION_MOTO_URL:-} ]]; then
    export KMS_ROTATION_MOTO_URL=${KMS_ROTATION_MOTO_URL%/}
    _servers_loopback KMS_ROTATION_MOTO_URL "$KMS_ROTATION_MOTO_URL"
    _servers_wait_for "moto at KMS_ROTATION_MOTO_URL=$KMS_ROTATION_MOTO_URL" "" "" \
      _servers_answers "$KMS_ROTATION_MOTO_URL/moto-api/"
    return
  fi
  echo "== starting moto on 127.0.0.1"
  local log=$_servers_logs/moto.log
  "$venv/bin/moto_server" -H 127.0.0.1 -p 0 >"$log" 2>&1 &
  _servers_pids+=("$!")
  _servers_wait_for moto "$!" "$log" _servers_moto_answers "$log"
  export KMS_ROTATION_MOTO_URL=$_servers_url
}

# moto (werkzeug) logs the address it bound: " * Running on http://127.0.0.1:PORT".
_servers_moto_answers() {
  local url
  url=$(grep -o -m1 'Running on http://127\.0\.0\.1:[0-9]*' "$1" | sed 's/^Running on //') || return 1
  _servers_answers "$url/moto-api/" && _servers_url=$url
}

ensure_kms_test_server_bin() {
  if [[ -n ${KMS_TEST_SERVER_BIN:-} ]]; then return; fi
  echo "== building kms-test-server"
  cargo build --quiet --manifest-path "$_servers_root/Cargo.toml" -p kms-test-server
  # Under CARGO_BUILD_TARGET, cargo puts binaries in a directory named after the target.
  export KMS_TEST_SERVER_BIN=${CARGO_TARGET_DIR:-$_servers_root/target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug/kms-test-server
}

start_kms_test_server() {
  ensure_kms_test_server_bin
  local out=$_servers_logs/kms-test-server-${#_servers_pids[@]}.out
  "$KMS_TEST_SERVER_BIN" --inventory "$@" >"$out" 2>"$out.log" &
  _servers_pids+=("$!")
  _servers_wait_for kms-test-server "$!" "$out.log" _servers_kms_answers "$out"
  KMS_TEST_SERVER_URL=$_servers_url
}

# The server's first stdout line is its URL.
_servers_kms_answers() {
  local url
  url=$(head -n 1 "$1")
  [[ $url == http://127.0.0.1:* ]] && _servers_answers "$url/_calls" && _servers_url=$url
}

stop_servers() {
  local pid
  for pid in "${_servers_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${_servers_pids[@]}"; do _servers_reap "$pid"; done
  _servers_pids=()
}

# Waits for a server told to stop (bash reaps its children as they exit); one still there after
# 10 seconds is killed.
_servers_reap() {
  local pid=$1 _
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# _servers_wait_for NAME PID LOG PROBE [ARG...]: until PROBE succeeds; fails (exiting the script)
# when the server exits first or the time is up, printing its log.
_servers_wait_for() {
  local name=$1 pid=$2 log=$3 deadline=$((SECONDS + ${SERVERS_START_TIMEOUT:-60}))
  shift 3
  until "$@"; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      _servers_failed "$name exited before it answered" "$log"
    elif ((SECONDS >= deadline)); then
      _servers_failed "$name did not answer within ${SERVERS_START_TIMEOUT:-60} s" "$log"
    fi
    sleep 0.1
  done
}

_servers_failed() {
  if [[ -s $2 ]]; then
    printf 'error: %s; its log:\n' "$1"
    cat "$2"
  else
    printf 'error: %s\n' "$1"
  fi >&2
  exit 1
}

_servers_answers() {
  curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null
}

# Tests talk to loopback servers only.
_servers_loopback() {
  if [[ ! $2 =~ ^http://(127\.0\.0\.1|localhost)(:[0-9]+)?/?$ ]]; then
    echo "error: $1=$2 is not a server on 127.0.0.1: tests talk to loopback servers only" >&2
    exit 1
  fi
}
