// Errors are real `Error`s whose `code` is the core's error kind, with the context it knows;
// each code here is produced by a real situation, for sync throws and rejected Promises alike.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import binding, { apply, errorCodes, evaluate, loadExceptions, loadPolicy, planRemediation, render, rollback, scan } from 'kms-rotation'
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
  assert.throws(() => render({}, 'json'), isError('InvalidInput', { field: /^report/ }))
})

test('InvalidInput rejects the Promise for a bad scan option', async () => {
  await assert.rejects(scan({ records: [], regions: ['us-esat-1'] }), isError('InvalidInput', { message: /us-esat-1/ }))
  await assert.rejects(
    scan({ records: [{ ...record('us-east-1', 'k1'), key_state: 'On' }] }),
    isError('InvalidInput', { field: 'records[0].key_state' }),
  )
  await assert.rejects(scan({ records: [], policy: { disabled_keys: 'never' } }), isError('InvalidInput', { field: 'policy.disabled_keys' }))
  await assert.rejects(
    scan({ endpointUrl: '127.0.0.1:1', regions: ['us-east-1'] }),
    isError('InvalidInput', { field: 'endpoint_url' }),
  )
  await assert.rejects(
    scan({ roleArns: ['arn:aws:iam::12:role/x'], regions: ['us-east-1'], endpointUrl: 'http://127.0.0.1:9' }),
    isError('InvalidInput', { field: 'role_arns[0]' }),
  )
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
})

test('Unavailable: a file that cannot be read (a directory)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kms-rotation-node-'))
  await assert.rejects(scan({ inventory: dir }), isError('Unavailable', { file: dir, retryable: false }))
})

test('Unexpected: a panic becomes an error, sync or in a Promise, and the process lives on', async () => {
  assert.throws(() => binding.__panicForTests(false), isError('Unexpected', { message: /panicked/ }))
  await assert.rejects(binding.__panicForTests(true), isError('Unexpected', { message: /panicked/ }))
  // Still usable afterwards.
  assert.equal(evaluate([record('us-east-1', 'k1', { rotation: { enabled: true } })], null, NOW)[0].status, 'pass')
})

// Per-key AWS failures are results; `throwOnFailure` turns the first one into the error of its
// kind, with the key, region, operation and AWS code. Against the KMS test server, whose writes
// all fail with the code given.
const awsKinds = {
  ThrottlingException: 'Throttled',
  KMSInvalidStateException: 'InvalidKeyState',
  UnsupportedOperationException: 'Unsupported',
  AccessDeniedException: 'AccessDenied',
}
for (const [awsCode, code] of Object.entries(awsKinds)) {
  test(`${code}: a write failing with ${awsCode}, apply and rollback with throwOnFailure`, async (t) => {
    const key = record('us-east-1', '00000000-0000-4000-8000-0000000000a1', { rotation: { enabled: false } })
    const server = await startTestServer([key], ['--writes', `fail:${awsCode}`])
    if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
    try {
      const aws = { endpointUrl: server.url, maxAttempts: 1 }
      const fast = { verifyAttempts: 1, verifyDelayMs: 10, maxConsecutiveFailures: 1 }
      const report = await scan({ ...aws, regions: ['us-east-1'], now: NOW })
      const plan = planRemediation(report, { now: NOW })
      const props = { keyArn: key.arn, region: 'us-east-1', operation: 'EnableKeyRotation', awsCode, retryable: code === 'Throttled' }
      const journal = tempFile('journal.ndjson', '')
      await assert.rejects(apply(plan, { journal, aws, ...fast, throwOnFailure: true }), isError(code, props))
      // Without the option, the same failure is data.
      const outcome = await apply(plan, { journal, aws, ...fast })
      assert.equal(outcome.results[0].error.code, awsCode)

      // A journal saying a run turned rotation off on a key that had it on: rolling it back
      // is an EnableKeyRotation, which fails the same way.
      const lines = [['before', { enabled: true, period_days: 365 }], ['after', { enabled: false, period_days: null }]]
        .map(([event, state]) => JSON.stringify({ at: NOW, run_id: 'r1', target_arn: key.arn, event, state, error: null }))
      const undo = tempFile('undo.ndjson', lines.join('\n') + '\n')
      await assert.rejects(rollback(undo, { aws, verifyAttempts: 1, throwOnFailure: true }), isError(code, props))
    } finally {
      await server.stop()
    }
  })
}
