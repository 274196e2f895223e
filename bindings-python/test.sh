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
#   KMS_ROTATION_MOTO_URL a running moto server; else one is started here if VENV has moto
#   KMS_TEST_SERVER_BIN   the kms-test-server binary; else it is built here
# The servers are started (and stopped however this exits) by scripts/lib/servers.sh.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
workspace="$(dirname "$here")"
python="${PYTHON:-python3}"
profile="${PROFILE:-debug}"
features="${FEATURES:-}"
source "$workspace/scripts/lib/servers.sh"
scratch="$(mktemp -d)"
on_exit rm -rf "$scratch"

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

ensure_kms_test_server_bin
if [[ -n "${KMS_ROTATION_MOTO_URL:-}" || -x "$VENV/bin/moto_server" ]]; then
    ensure_moto "$VENV"
fi
isolate_from_aws

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
