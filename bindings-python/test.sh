#!/usr/bin/env bash
# Builds the kms_rotation wheel, installs it into a fresh venv, checks the stubs against it and
# runs the pytest suite. Exits non-zero on any failure (pytest's "no tests collected" included).
#
#   VENV=/path/to/venv bindings-python/test.sh
#
# Environment:
#   VENV                  a venv with requirements-dev.txt (created in bindings-python/.venv if unset)
#   PYTHON                the interpreter for the venvs (default: python3)
#   CARGO_TARGET_DIR      cargo's target dir (default: the workspace's)
#   PROFILE               `debug` (default: faster to build) or `release`
#   FEATURES              extra cargo features of the wheel (default: none; `aws` is a default)
#   KMS_ROTATION_MOTO_URL a running moto server; else one is started here if moto is installed
#   KMS_TEST_SERVER_BIN   the kms-test-server binary; else it is built here
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(dirname "$here")"
python="${PYTHON:-python3}"
profile="${PROFILE:-debug}"
features="${FEATURES:-}"
scratch="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$scratch"
}
trap cleanup EXIT

if [[ -z "${VENV:-}" ]]; then
    VENV="$here/.venv"
    [[ -x "$VENV/bin/python" ]] || "$python" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements-dev.txt"
fi

echo "--- building the wheel ($profile, features: default${features:+ + $features})"
build_args=(build --manifest-path "$here/Cargo.toml" --out "$scratch/dist" --interpreter "$python")
[[ "$profile" == release ]] && build_args+=(--release)
[[ -n "$features" ]] && build_args+=(--features "$features")
"$VENV/bin/maturin" "${build_args[@]}"

echo "--- installing it into a fresh venv"
fresh="$scratch/venv"
"$python" -m venv "$fresh"
"$fresh/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements-test.txt" "$scratch"/dist/kms_rotation-*.whl

if [[ -z "${KMS_TEST_SERVER_BIN:-}" ]]; then
    echo "--- building kms-test-server"
    cargo build --quiet --manifest-path "$workspace/Cargo.toml" -p kms-test-server
    KMS_TEST_SERVER_BIN="${CARGO_TARGET_DIR:-$workspace/target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}debug/kms-test-server"
fi
export KMS_TEST_SERVER_BIN

if [[ -z "${KMS_ROTATION_MOTO_URL:-}" && -x "$VENV/bin/moto_server" ]]; then
    port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$scratch/moto.log" 2>&1 &
    pids+=($!)
    export KMS_ROTATION_MOTO_URL="http://127.0.0.1:$port"
    for _ in $(seq 100); do
        curl -fs "$KMS_ROTATION_MOTO_URL/moto-api/" >/dev/null 2>&1 && break
        sleep 0.1
    done
fi

# Dummy credentials: nothing here may reach AWS.
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secret AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

# Run from outside the source tree, so that `import kms_rotation` is the installed wheel.
cd "$scratch"
echo "--- stub check (mypy.stubtest against the installed module)"
"$fresh/bin/python" -m mypy.stubtest kms_rotation --allowlist "$here/stubtest-allowlist.txt"

echo "--- pytest"
status=0
"$fresh/bin/python" -m pytest -c "$here/pyproject.toml" --rootdir "$here" "$here/tests" "$@" || status=$?
if [[ $status -eq 5 ]]; then
    echo "pytest collected no tests: failing" >&2
fi
exit "$status"
