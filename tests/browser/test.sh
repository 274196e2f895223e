#!/usr/bin/env bash
# The HTML report in headless Chromium (html-report.test.mjs): installs the locked npm packages
# (playwright-core only: it drives the system's Chromium and downloads no browser), then runs
# the test against the CLI built in the directory of CARGO_BUILD_TARGET (built when missing).
#
#   tests/browser/test.sh
# Chromium: /usr/bin/chromium (Debian's `chromium`), or CHROMIUM. Without it the test is skipped,
# and fails under CI=true. Screenshots: BROWSER_TEST_OUT, default target/browser-test/.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)

export CARGO_BUILD_TARGET=${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
export KMS_ROTATION_CLI=${KMS_ROTATION_CLI:-$CARGO_TARGET_DIR/$CARGO_BUILD_TARGET/debug/kms-rotation}
export BROWSER_TEST_OUT=${BROWSER_TEST_OUT:-$CARGO_TARGET_DIR/browser-test}
# Never AWS: the CLI only reads an inventory, and anything else goes to a closed loopback port.
export AWS_ENDPOINT_URL=http://127.0.0.1:9

echo "== npm ci"
npm ci --no-audit --no-fund

if [ ! -x "$KMS_ROTATION_CLI" ]; then
  echo "== cargo build (the CLI)"
  (cd "$root" && cargo build -p kms-rotation-core --features cli --bin kms-rotation)
fi

echo "== node --test"
node --test --test-reporter=spec html-report.test.mjs
echo "screenshots in $BROWSER_TEST_OUT"
