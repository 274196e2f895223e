// Errors are real `Error`s whose `code` is the core's error kind, with the context it knows;
// each code here is produced by a real situation, for sync throws and rejected Promises alike.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import binding, { apply, errorCodes, evaluate, evaluateJson, explain, iamPolicy, loadExceptions, loadPolicy, plan, render, rollback, scan } from 'kms-rotation'
import { NOW, record, startTestServer, tempFile } from './helpers.mjs'

function isError(code, props = {}) {
  return (err) => {
    assert.ok(err instanceof Error, `not an Error: ${err}`)
    assert.equal(err.code, code, err.message)
    assert.equal(typeof err.message, 'string')
    assert.equal(typeof err.retryable, 'boolean')
    for (const [key, value] of Object.entries(props)) {
      if (value instanceof RegExp) assert.match(String(err[key]), value, `${key}: ${err.message}`)
      else assert.equal(err[key], value, `${key}: ${err.message}`)
    }
    return true
  }
}

test('the codes are the core error kinds', () => {
  assert.deepEqual(errorCodes(), [
    'InvalidInput', 'NotFound', 'AccessDenied', 'Throttled', 'InvalidKeyState', 'Unsupported', 'Unavailable', 'Unexpected',
  ])
})

test('InvalidInput: a malformed record names its index and field', () => {
  const records = [record('us-east-1', 'k1'), { ...record('us-east-1', 'k2'), key_spec: 'SYMMETRIC' }]
  assert.throws(() => evaluate(records, null, NOW), isError('InvalidInput', { field: 'records[1].key_spec', retryable: false }))
  assert.throws(() => evaluateJson(JSON.stringify(records), null, NOW), isError('InvalidInput', { field: 'records[1].key_spec' }))
  assert.throws(() => evaluate(undefined), isError('InvalidInput', { field: 'records' }))
  assert.throws(() => evaluateJson('[{"arn": '), isError('InvalidInput'))
  assert.throws(() => evaluateJson(Buffer.from([0x5b, 0xff, 0x5d])), isError('InvalidInput', { field: 'input' }))
})

test('InvalidInput: a required field missing, a bad ARN', () => {
  const { key_state, ...noState } = record('us-east-1', 'k1')
  assert.throws(() => evaluate([noState], null, NOW), isError('InvalidInput', { field: 'records[0]', message: /key_state/ }))
  assert.throws(() => evaluate([{ arn: 'not-an-arn' }], null, NOW), isError('InvalidInput', { message: /not a KMS key ARN/ }))
})

test('InvalidInput: a misspelt or inconsistent policy', () => {
  assert.throws(
    () => evaluate([], { max_rotation_perod_days: 365 }, NOW),
    isError('InvalidInput', { field: 'policy.max_rotation_perod_days' }),
  )
  assert.throws(
    () => evaluate([], { max_rotation_period_days: 180, target_rotation_period_days: 365 }, NOW),
    isError('InvalidInput', { field: 'policy.target_rotation_period_days' }),
  )
  assert.throws(() => evaluate([], { max_rotation_period_days: 30 }, NOW), isError('InvalidInput', { field: 'policy.max_rotation_period_days' }))
})

test('InvalidInput: a bad time', () => {
  assert.throws(() => evaluate([], null, 'yesterday'), isError('InvalidInput', { field: 'now' }))
})

test('InvalidInput: a policy file names the file, line and field', () => {
  const file = tempFile('policy.yaml', 'max_rotation_period_days: 365\ndisabled_keys: ignore\n')
  assert.throws(() => loadPolicy(file), isError('InvalidInput', { file, line: 2, field: 'disabled_keys' }))
  const exceptions = tempFile('exceptions.json', '{"exceptions": [{"match": {"arn": "a", "alias": "b"}, "owner": "o", "reason": "r", "expires": "2027-01-01"}]}')
  assert.throws(() => loadExceptions(exceptions), isError('InvalidInput', { file: exceptions, field: /exceptions\[0\]/ }))
})

test('InvalidInput: an unknown report format, a malformed report', () => {
  assert.throws(() => render({ report: {}, format: 'json' }), isError('InvalidInput', { field: /^report/ }))
  assert.throws(() => render({}), isError('InvalidInput', { field: 'report' }))
})

// Options are the core's: a name it does not know is refused, never ignored. A misspelt
// `dryRun` that was ignored would write.
test('InvalidInput: an unknown option is refused by every operation, naming it', async () => {
  const report = await scan({ records: [], now: NOW })
  const planned = await plan({ report, now: NOW })
  const journal = tempFile('journal.ndjson', '')
  const unknown = (name) => isError('InvalidInput', { message: new RegExp(`unknown field \`${name}\``) })
  await assert.rejects(apply({ plan: planned, journal, dryrun: false }), unknown('dryrun'))
  await assert.rejects(apply({ plan: planned, journal, 'dry-run': false }), unknown('dry-run'))
  await assert.rejects(rollback({ journal, dryrun: false }), unknown('dryrun'))
  await assert.rejects(scan({ records: [], region: ['us-east-1'] }), unknown('region'))
  await assert.rejects(plan({ report, targetPeriod: 180 }), unknown('targetPeriod'))
  assert.throws(() => render({ report, fmt: 'json' }), unknown('fmt'))
  assert.throws(() => explain({ reasons: ['rotation_disabled'] }), unknown('reasons'))
  assert.throws(() => iamPolicy({ roleArn: 'arn:aws:iam::111122223333:role/x' }), unknown('roleArn'))
  // They report no progress: a callback is no option of theirs.
  assert.throws(() => explain({ onProgress: null }), unknown('onProgress'))
  assert.throws(() => iamPolicy({ onProgress: () => {} }), isError('InvalidInput', { field: 'onProgress' }))
  assert.throws(() => explain({ reason: () => 'rotation_disabled' }), isError('InvalidInput', { field: 'reason' }))
  // A function can only be the progress callback.
  await assert.rejects(scan({ records: [], onprogress: () => {} }), isError('InvalidInput', { field: 'onprogress' }))
  await assert.rejects(scan({ records: [], onProgress: 'log' }), isError('InvalidInput', { field: 'onProgress' }))
  // Values of the wrong type name their field, in the core's snake_case.
  await assert.rejects(apply({ plan: planned, dryRun: 'no' }), isError('InvalidInput', { field: 'dry_run' }))
  await assert.rejects(plan({ report, batchSize: 'ten' }), isError('InvalidInput', { field: 'batch_size' }))
  await assert.rejects(scan({ records: [], allowUnknownRegion: 1 }), isError('InvalidInput', { field: 'allow_unknown_region' }))
  await assert.rejects(scan({ records: 'none' }), isError('InvalidInput', { field: 'records' }))
})

test('InvalidInput rejects the Promise for a bad scan option', async () => {
  await assert.rejects(scan({ records: [], regions: ['us-esat-1'] }), isError('InvalidInput', { message: /us-esat-1/ }))
  await assert.rejects(
    scan({ records: [{ ...record('us-east-1', 'k1'), key_state: 'On' }] }),
    isError('InvalidInput', { field: 'records[0].key_state' }),
  )
  await assert.rejects(scan({ records: [], policy: { disabled_keys: 'never' } }), isError('InvalidInput', { field: 'policy.disabled_keys' }))
  await assert.rejects(scan({ records: [], accounts: ['12345'] }), isError('InvalidInput', { field: 'accounts[0]' }))
  await assert.rejects(
    scan({ endpointUrl: '127.0.0.1:1', regions: ['us-east-1'] }),
    isError('InvalidInput', { field: 'endpoint_url' }),
  )
  await assert.rejects(
    scan({ roleArns: ['arn:aws:iam::12:role/x'], regions: ['us-east-1'], endpointUrl: 'http://127.0.0.1:9' }),
    isError('InvalidInput', { field: 'role_arns[0]' }),
  )
  // AWS options do not apply to records or an inventory file: refused, not ignored.
  await assert.rejects(scan({ records: [], endpointUrl: 'http://127.0.0.1:9' }), isError('InvalidInput'))
})

test('InvalidInput: a malformed inventory file names the file and line', async () => {
  const file = tempFile('inventory.json', '{"schema_version": 1, "keys": [\n {"arn": 42}\n]}')
  await assert.rejects(scan({ inventory: file }), isError('InvalidInput', { file, line: 2, field: 'keys[0].arn' }))
  const v2 = tempFile('inventory.json', { schema_version: 2, keys: [] })
  await assert.rejects(scan({ inventory: v2 }), isError('InvalidInput', { field: 'schema_version' }))
})

test('NotFound: a missing file, sync and async', async () => {
  assert.throws(() => loadPolicy('/nonexistent/policy.yaml'), isError('NotFound', { file: '/nonexistent/policy.yaml' }))
  assert.throws(() => loadExceptions('/nonexistent/exceptions.yaml'), isError('NotFound'))
  await assert.rejects(scan({ inventory: '/nonexistent/fleet.json' }), isError('NotFound', { file: '/nonexistent/fleet.json' }))
  await assert.rejects(plan({ reportFile: '/nonexistent/report.json' }), isError('NotFound', { file: '/nonexistent/report.json' }))
})

test('Unavailable: a file that cannot be read (a directory)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kms-rotation-node-'))
  await assert.rejects(scan({ inventory: dir }), isError('Unavailable', { file: dir, retryable: false }))
})

test('Unexpected: a panic becomes an error, sync or in a Promise, and the process lives on', async () => {
  assert.throws(() => binding.__panicForTests(false), isError('Unexpected', { message: /panicked/ }))
  await assert.rejects(binding.__panicForTests(true), isError('Unexpected', { message: /panicked/ }))
  // Still usable afterwards.
  assert.equal(evaluate([record('us-east-1', 'k1', { rotation: { enabled: true } })], null, NOW).findings[0].status, 'pass')
})

// Per-key AWS failures are results; `errorOnFailure` turns the first one into the error of its
// kind, with the key, region, operation and AWS code. Against the KMS test server, whose writes
// all fail with the code given.
const awsKinds = {
  ThrottlingException: 'Throttled',
  KMSInvalidStateException: 'InvalidKeyState',
  UnsupportedOperationException: 'Unsupported',
  AccessDeniedException: 'AccessDenied',
}
for (const [awsCode, code] of Object.entries(awsKinds)) {
  test(`${code}: a write failing with ${awsCode}, apply and rollback with errorOnFailure`, async (t) => {
    const key = record('us-east-1', '00000000-0000-4000-8000-0000000000a1', { rotation: { enabled: false } })
    const server = await startTestServer([key], ['--writes', `fail:${awsCode}`])
    if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
    try {
      const aws = { endpointUrl: server.url, maxAttempts: 1 }
      const fast = { verifyAttempts: 1, verifyDelayMs: 10, maxConsecutiveFailures: 1 }
      const report = await scan({ ...aws, regions: ['us-east-1'], now: NOW })
      const planned = await plan({ report, now: NOW })
      const props = { keyArn: key.arn, region: 'us-east-1', operation: 'EnableKeyRotation', awsCode, retryable: code === 'Throttled' }
      const journal = tempFile('journal.ndjson', '')
      await assert.rejects(apply({ plan: planned, journal, dryRun: false, ...aws, ...fast, errorOnFailure: true }), isError(code, props))
      // Without the option, the same failure is data.
      const outcome = await apply({ plan: planned, journal, dryRun: false, ...aws, ...fast })
      assert.equal(outcome.results[0].error.code, awsCode)

      // A journal saying a run turned rotation off on a key that had it on: rolling it back
      // is an EnableKeyRotation, which fails the same way.
      const lines = [['before', { enabled: true, period_days: 365 }], ['after', { enabled: false, period_days: null }]]
        .map(([event, state]) => JSON.stringify({ at: NOW, run_id: 'r1', target_arn: key.arn, event, state, error: null }))
      const undo = tempFile('undo.ndjson', lines.join('\n') + '\n')
      await assert.rejects(rollback({ journal: undo, dryRun: false, ...aws, verifyAttempts: 1, errorOnFailure: true }), isError(code, props))
    } finally {
      await server.stop()
    }
  })
}
