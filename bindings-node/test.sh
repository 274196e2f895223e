#!/usr/bin/env bash
# The Node binding's CI check: installs the pinned tools (npm ci), builds the addon, fails if the
# build changed the committed index.d.ts / index.js, compiles the types test with tsc, and runs
# the node:test suite against moto and the KMS test server on 127.0.0.1 (started here unless
# KMS_ROTATION_MOTO_URL / KMS_TEST_SERVER_BIN are already set; stopped however this exits).
#
#   bindings-node/test.sh            debug addon (faster to build)
#   BUILD=release bindings-node/test.sh
set -euo pipefail
cd "$(dirname "$0")"
here=$PWD
root=$(cd .. && pwd)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# The tests use dummy credentials and never reach a real AWS endpoint.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS

echo "== npm ci"
npm ci --no-audit --no-fund

# The committed generated files, to compare with what the build writes.
committed=$(mktemp -d)
for f in index.d.ts index.js; do
  [ -f "$f" ] || { echo "$f is missing: run 'npm run build' in bindings-node and commit it" >&2; exit 1; }
  cp "$f" "$committed/$f"
done

echo "== napi build (${BUILD:-debug})"
if [ "${BUILD:-debug}" = release ]; then npm run --silent build; else npm run --silent build:debug; fi

echo "== generated files match the committed ones"
for f in index.d.ts index.js; do
  if ! diff -u "$committed/$f" "$f"; then
    echo "$f changed when rebuilt: run 'npm run build' in bindings-node and commit it" >&2
    exit 1
  fi
done

echo "== tsc --noEmit (types test)"
npm run --silent test:types

pids=()
stop_servers() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_servers EXIT

if [ -z "${KMS_TEST_SERVER_BIN:-}" ]; then
  echo "== building kms-test-server"
  cargo build --quiet -p kms-test-server
  # Under CARGO_BUILD_TARGET, cargo puts binaries in a directory named after the target.
  export KMS_TEST_SERVER_BIN=$CARGO_TARGET_DIR/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug/kms-test-server
fi

if [ -z "${KMS_ROTATION_MOTO_URL:-}" ]; then
  # The same pinned venv as scripts/test (KMS_ROTATION_VENV overrides its place).
  venv=${KMS_ROTATION_VENV:-$root/.venv-test}
  if [ ! -x "$venv/bin/moto_server" ] || ! cmp -s "$root/tests/requirements.txt" "$venv/requirements.txt"; then
    echo "== installing Python test tools into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tests/requirements.txt"
    cp "$root/tests/requirements.txt" "$venv/requirements.txt"
  fi
  port=$("$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "== starting moto on 127.0.0.1:$port"
  log=$(mktemp)
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  pids+=($!)
  export KMS_ROTATION_MOTO_URL="http://127.0.0.1:$port"
  for _ in $(seq 100); do
    if curl -fs -o /dev/null -X POST "$KMS_ROTATION_MOTO_URL/moto-api/reset"; then break; fi
    sleep 0.2
  done
  curl -fs -o /dev/null -X POST "$KMS_ROTATION_MOTO_URL/moto-api/reset" || { echo "moto did not start:"; cat "$log"; exit 1; }
fi

echo "== node --test"
node --test --test-reporter=spec __test__/
