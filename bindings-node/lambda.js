// An AWS Lambda handler for the EventBridge rule of KMS CloudTrail calls: `event` of the addon
// (`require('kms-rotation/lambda').handler`, or `import { handler } from 'kms-rotation/lambda'`).
// It converts its configuration and calls the core; every decision is the core's.
//
// Environment variables, named as the `kms-rotation event` flags' variables:
//   KMS_ROTATION_POLICY              a policy file shipped with the function (default policy when unset)
//   KMS_ROTATION_ROLE_ARN            roles to assume, comma-separated (unset: the function's account)
//   KMS_ROTATION_EXTERNAL_ID_FILE    a file holding the external id those roles require
//   KMS_ROTATION_ENDPOINT_URL        send every AWS call there (emulators and tests)
//   KMS_ROTATION_REMEDIATE           `true`: plan and apply the fix of a touched key that fails
//   KMS_ROTATION_DRY_RUN             `false`: the fix changes keys; `true` or unset: a dry run
//   KMS_ROTATION_JOURNAL             the journal of a real fix (required to change keys); Lambda's
//                                    /tmp lasts as long as the instance: the returned outcome, in
//                                    the function's logs, is the durable record
//   KMS_ROTATION_TARGET_PERIOD_DAYS  the period a fix sets (default: the policy's target)
// Resolves with the outcome (`EventOutcome`); rejects with `code` and `field` for a malformed
// event or a setting the core refuses.
'use strict'

const { event } = require('./index.js')

/** `true`/`false` as booleans; anything else as given, for the core to refuse by name. */
function boolean(value) {
  const known = { true: true, false: false }[value.trim().toLowerCase()]
  return known === undefined ? value : known
}

/** The core's event options from `env`: values converted, never judged. */
function options(env) {
  const scan = {}
  const converted = { scan }
  if (env.KMS_ROTATION_POLICY !== undefined) scan.policyFile = env.KMS_ROTATION_POLICY
  if (env.KMS_ROTATION_ROLE_ARN !== undefined) {
    scan.roleArns = env.KMS_ROTATION_ROLE_ARN.split(',').map((r) => r.trim()).filter(Boolean)
  }
  if (env.KMS_ROTATION_EXTERNAL_ID_FILE !== undefined) scan.externalIdFile = env.KMS_ROTATION_EXTERNAL_ID_FILE
  if (env.KMS_ROTATION_ENDPOINT_URL !== undefined) scan.endpointUrl = env.KMS_ROTATION_ENDPOINT_URL
  if (env.KMS_ROTATION_REMEDIATE !== undefined) converted.remediate = boolean(env.KMS_ROTATION_REMEDIATE)
  if (env.KMS_ROTATION_DRY_RUN !== undefined) converted.dryRun = boolean(env.KMS_ROTATION_DRY_RUN)
  if (env.KMS_ROTATION_JOURNAL !== undefined) converted.journal = env.KMS_ROTATION_JOURNAL
  if (env.KMS_ROTATION_TARGET_PERIOD_DAYS !== undefined) {
    const days = env.KMS_ROTATION_TARGET_PERIOD_DAYS
    converted.targetPeriodDays = /^\d+$/.test(days) ? Number(days) : days
  }
  return converted
}

/** Re-check (and optionally fix) the keys of one EventBridge event. */
async function handler(incoming, _context) {
  return event({ event: incoming, ...options(process.env) })
}

module.exports = { handler }
