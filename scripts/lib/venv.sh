# shellcheck shell=bash
# The Python venv of the pinned test tools (moto, maturin, pytest, mypy): sourced by scripts/test
# and bindings-node/test.sh, so that both keep the same venv with the same contents.
#
#   ensure_test_venv   export KMS_ROTATION_VENV: the venv it names, used as is; else .venv-test,
#                      where the pinned tools are (re)installed when missing or when the
#                      requirements changed since

_venv_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_venv_requirements=("$_venv_root/tests/requirements.txt" "$_venv_root/bindings-python/requirements-dev.txt")

ensure_test_venv() {
  if [[ -n ${KMS_ROTATION_VENV:-} ]]; then return; fi
  export KMS_ROTATION_VENV=$_venv_root/.venv-test
  local venv=$KMS_ROTATION_VENV r
  # The venv keeps the requirements it was installed from, to see when they change.
  if [[ -x $venv/bin/moto_server ]] && cat "${_venv_requirements[@]}" | cmp -s - "$venv/requirements.txt"; then
    return
  fi
  echo "== installing the pinned Python test tools into $venv"
  python3 -m venv "$venv"
  for r in "${_venv_requirements[@]}"; do
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$r"
  done
  cat "${_venv_requirements[@]}" >"$venv/requirements.txt"
}
