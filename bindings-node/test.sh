#!/usr/bin/env bash
# The Node binding's CI check: installs the pinned tools (npm ci), builds the addon, fails if the
# build changed the committed index.d.ts / index.js, compiles the types test with tsc, and runs
# the node:test suite against moto and the KMS test server on 127.0.0.1 (scripts/lib/servers.sh:
# started here unless KMS_ROTATION_MOTO_URL / KMS_TEST_SERVER_BIN are already set; moto from
# KMS_ROTATION_VENV, else .venv-test; stopped however this exits).
#
#   bindings-node/test.sh            debug addon (faster to build)
#   BUILD=release bindings-node/test.sh
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd .. && pwd)
source "$root/scripts/lib/venv.sh"
source "$root/scripts/lib/servers.sh"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
# The tests use dummy credentials and never reach a real AWS endpoint.
isolate_from_aws

echo "== npm ci"
npm ci --no-audit --no-fund

# The committed generated files, to compare with what the build writes.
committed=$(mktemp -d)
on_exit rm -rf "$committed"
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

ensure_kms_test_server_bin
[[ -n ${KMS_ROTATION_MOTO_URL:-} ]] || ensure_test_venv
ensure_moto "${KMS_ROTATION_VENV:-}"

echo "== node --test"
node --test --test-reporter=spec __test__/
