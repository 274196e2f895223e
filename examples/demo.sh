#!/usr/bin/env bash
# The whole job on a local KMS emulator, in one command: scan, plan, apply, re-scan, journal,
# rollback. Needs only cargo (and a C linker); contacts nothing but 127.0.0.1.
#
#   ./examples/demo.sh
#
# The emulator is the project's own KMS test server (tests/kms-test-server): it speaks the KMS
# API on a loopback port and starts out holding the sample fleet in examples/fleet.json, a key of
# every kind the rule knows. It is stopped when the demo ends, fails or is interrupted.
#
# Environment: KMS_ROTATION_BIN_DIR, a directory holding already built `kms-rotation` and
# `kms-test-server` binaries (the tests use it to skip the build).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

work=$(mktemp -d "${TMPDIR:-/tmp}/kms-rotation-demo.XXXXXX")
server_pid=
stop() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT
# An interrupted demo stops the emulator too (the EXIT trap runs on the way out).
trap 'echo; echo "interrupted: stopping the emulator"; exit 130' INT TERM

bold=$(tput bold 2>/dev/null || true)
plain=$(tput sgr0 2>/dev/null || true)
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '   %s\n' "$@"; }

if [ -n "${KMS_ROTATION_BIN_DIR:-}" ]; then
  bin=$KMS_ROTATION_BIN_DIR
else
  step "Building the command and the KMS emulator (the first time takes a few minutes)"
  cargo build --quiet --package kms-rotation-core --features cli --bin kms-rotation \
    --package kms-test-server --bin kms-test-server
  bin=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
  target=${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}
  bin=$bin/${target}debug
fi
kms_rotation() { "$bin/kms-rotation" "$@"; }

step "Starting the KMS emulator on 127.0.0.1"
say "working in $work (removed at the end)"
cp examples/fleet.json "$work/fleet.json"
"$bin/kms-test-server" --inventory "$work/fleet.json" > "$work/endpoint" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/endpoint" ] && break; sleep 0.1; done
endpoint=$(head -n 1 "$work/endpoint")
[ -n "$endpoint" ] || { echo "the emulator did not start:"; cat "$work/server.log"; exit 1; }
say "$endpoint holds the sample fleet (examples/fleet.json): 19 keys of account 111122223333" \
    "in us-east-1 and eu-west-1, of every kind (rotating or not, asymmetric, HMAC, imported," \
    "CloudHSM, external key store, AWS managed, disabled, pending deletion, a multi-Region pair)."

# Everything below talks to the emulator only, with dummy credentials.
export AWS_ENDPOINT_URL=$endpoint AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL_KMS
scan_flags=(--region us-east-1 --region eu-west-1 --allow-unknown-region
  --policy examples/policy.yaml --exceptions examples/exceptions.yaml)

step "1. Scan: one finding per key, with its reason"
say "Exit code 1 means not compliant; the summary line goes to stderr."
kms_rotation scan "${scan_flags[@]}" --format table || true

step "2. Plan: what remediation would change, in batches"
say "Failing keys get rotation enabled (or their period shortened); a multi-Region replica is" \
    "fixed through its primary; keys that cannot rotate, exempt keys and errors are skipped."
kms_rotation plan "${scan_flags[@]}" --format table
kms_rotation plan "${scan_flags[@]}" --output "$work/plan.json" --quiet

step "3. Apply, dry run (the default): calls nothing, writes nothing"
kms_rotation apply --plan "$work/plan.json" --quiet > "$work/dry-run.json"
python3 - "$work/dry-run.json" <<'EOF'
import json, sys
outcome = json.load(open(sys.argv[1]))
would = [r["target_arn"] for r in outcome["results"] if r["status"] == "would_remediate"]
print(f"   would change {len(would)} keys; nothing was called or written (dry_run: {outcome['dry_run']})")
EOF

step "4. Apply for real: each write verified and journaled"
kms_rotation apply --plan "$work/plan.json" --yes --journal "$work/journal.ndjson" > "$work/applied.json"

step "5. Re-scan: compliant, except the keys the scan explains"
say "Left failing: a disabled key (rotation cannot be enabled on it until it is enabled, so" \
    "the plan skips it), and an error: a key whose rotation status the emulator refuses to show." \
    "Not applicable keys and the exempt key are not shown here (--status fail,error)."
kms_rotation scan "${scan_flags[@]}" --status fail,error --format table || true

step "6. The journal: what was changed, before and after (what rollback reads)"
python3 - "$work/journal.ndjson" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    event = json.loads(line)
    if event["event"] in ("before", "verified"):
        state = event["state"] or {}
        rotation = f"period {state['period_days']} days" if state.get("enabled") else "no rotation"
        print(f"   {event['at'][11:19]} {event['event']:9} {event['target_arn'][-36:]}  {rotation}")
EOF

step "7. Roll back: every change undone, from the journal"
kms_rotation rollback --journal "$work/journal.ndjson" --yes > "$work/rolled-back.json"

step "8. Re-scan: back where we started"
kms_rotation scan "${scan_flags[@]}" > /dev/null || true

step "Done. The emulator is stopped and $work removed."
cat <<'EOF'
   Against a real account (read-only first; see `kms-rotation iam-policy --read-only`):
     kms-rotation scan --all-regions --policy examples/policy.yaml
     kms-rotation plan --all-regions --output plan.json
     kms-rotation apply --plan plan.json                      # a dry run
     kms-rotation apply --plan plan.json --yes --journal journal.ndjson
     kms-rotation rollback --journal journal.ndjson --yes     # if needed
EOF
