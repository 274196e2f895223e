// loadPolicy / loadExceptions: files as the CLI reads them, returned as policy documents.
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'

import { evaluate, loadExceptions, loadPolicy } from 'kms-rotation'
import { NOW, examples, record, tempFile } from './helpers.mjs'

test('the default policy when no file is given', () => {
  assert.deepEqual(loadPolicy(), {
    max_rotation_period_days: 365,
    target_rotation_period_days: 365,
    disabled_keys: 'evaluate',
    imported_key_max_age_days: null,
    exceptions: [],
  })
})

test('a YAML policy plus exceptions files, as --policy and --exceptions', () => {
  const policy = loadPolicy(path.join(examples, 'policy.yaml'), { exceptions: [path.join(examples, 'exceptions.yaml')] })
  assert.equal(policy.max_rotation_period_days, 365)
  assert.equal(policy.exceptions.length, 2)
  assert.deepEqual(policy.exceptions[0].match, { alias: 'alias/legacy-batch' })
  assert.equal(policy.exceptions[0].expires, '2030-12-31')
})

test('a JSON policy; the document it returns goes back into evaluate unchanged', () => {
  const file = tempFile('policy.json', { max_rotation_period_days: 730, disabled_keys: 'skip' })
  const policy = loadPolicy(file)
  assert.equal(policy.max_rotation_period_days, 730)
  assert.equal(policy.disabled_keys, 'skip')
  const disabled = record('us-east-1', 'k1', { key_state: 'Disabled', rotation: { enabled: false } })
  assert.deepEqual(evaluate([disabled], policy, NOW).findings.map((f) => f.reason), ['key_disabled'])
})

test('loadExceptions returns the entries of an exceptions file', () => {
  const exceptions = loadExceptions(path.join(examples, 'exceptions.yaml'))
  assert.equal(exceptions.length, 2)
  assert.deepEqual(exceptions[1].match, { tag: { key: 'rotation-exception', value: 'TKT-42' } })
  const policy = { exceptions }
  const key = record('us-east-1', 'k1', { aliases: ['alias/legacy-batch'], rotation: { enabled: false } })
  assert.equal(evaluate([key], policy, NOW).findings[0].status, 'exempt')
})
