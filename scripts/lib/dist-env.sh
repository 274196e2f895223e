# shellcheck shell=bash
# The release build's environment, shared by scripts/dist and scripts/test-dist (which builds the
# sdist the same way, to reuse the dependencies scripts/dist compiled).
#
#   dist_env   install the pinned release tools into .venv-dist/ (KMS_ROTATION_DIST_VENV names
#              another venv) when missing or changed, export DIST_VENV, and make zig the C
#              compiler and linker of x86_64-unknown-linux-gnu, targeting glibc 2.17
#
# Our own zig wrappers at a fixed path, rather than maturin's `--zig` or cargo-zigbuild's (each
# writes wrappers under a path of its own): a compiler path that differs between two builds makes
# cargo rebuild every C dependency (aws-lc-sys) and everything above it.

_dist_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DIST_TARGET=x86_64-unknown-linux-gnu
DIST_GLIBC=2.17

dist_env() {
  export DIST_VENV=${KMS_ROTATION_DIST_VENV:-$_dist_root/.venv-dist}
  local requirements=$_dist_root/scripts/dist-requirements.txt
  if ! cmp -s "$requirements" "$DIST_VENV/requirements.txt"; then
    echo "== installing the pinned release tools into $DIST_VENV"
    python3 -m venv "$DIST_VENV"
    "$DIST_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$DIST_VENV/requirements.txt"
  fi

  export CARGO_BUILD_TARGET=$DIST_TARGET
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$_dist_root/target}
  local zig_dir=$CARGO_TARGET_DIR/zig-$DIST_GLIBC tool zig_version
  mkdir -p "$zig_dir"
  # Told to the wrappers, as cargo-zigbuild's own do, so that no compiler call runs `zig version`.
  zig_version=$("$DIST_VENV/bin/python" -m ziglang version)
  for tool in cc c++; do
    cat >"$zig_dir/$tool.new" <<WRAPPER
#!/bin/sh
export CARGO_ZIGBUILD_PYTHON_PATH="$DIST_VENV/bin/python" CARGO_ZIGBUILD_ZIG_VERSION=$zig_version
exec "$DIST_VENV/bin/cargo-zigbuild" zig $tool -- -g -fno-sanitize=all -target x86_64-linux-gnu.$DIST_GLIBC "\$@"
WRAPPER
    chmod +x "$zig_dir/$tool.new"
    mv "$zig_dir/$tool.new" "$zig_dir/$tool"
  done
  local triple=${DIST_TARGET//-/_}
  export "CC_$triple=$zig_dir/cc" "CXX_$triple=$zig_dir/c++" "CARGO_TARGET_${triple^^}_LINKER=$zig_dir/cc"
  # The same compiler flags for every build, whatever the environment holds: other flags
  # would rebuild everything.
  unset RUSTFLAGS CARGO_BUILD_RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
}

# Fails unless the CLI, the Node addon and the Python module resolve every dependency they share
# with the same features: otherwise the three release builds compile it (and everything above
# it) once each. The root Cargo.toml says how they are kept equal.
check_same_dependency_features() {
  local trees build
  trees=$(mktemp -d)
  for build in "kms-rotation-core --features cli" kms-rotation-node kms-rotation-python; do
    # shellcheck disable=SC2086 # the package and its features are two words
    cargo tree --locked --target "$DIST_TARGET" -e normal --prefix none -f '{p} {f}' -p $build \
      >"$trees/$build" || { rm -rf "$trees"; return 1; }
  done
  python3 - "$trees"/* <<'PYTHON'
import sys
features = {}  # "crate version" -> {build: its features}
for path in sys.argv[1:]:
    for line in open(path).read().splitlines():
        name, version, *rest = line.replace(" (*)", "").replace(" (proc-macro)", "").split(" ")
        if not name.startswith("kms-rotation"):
            features.setdefault(f"{name} {version}", {})[path] = rest[0] if rest else ""
differ = {dep: seen for dep, seen in features.items() if len(set(seen.values())) > 1}
for dep, seen in differ.items():
    print(f"{dep} has different features in these builds:", seen, file=sys.stderr)
sys.exit(1 if differ or len(sys.argv) != 4 else 0)
PYTHON
  local status=$?
  rm -rf "$trees"
  return $status
}
