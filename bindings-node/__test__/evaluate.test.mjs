// evaluate(): the rule on plain objects, as JS callers build or parse them.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { evaluate, loadPolicy } from 'kms-rotation'
import { NOW, examples, expectedSmallFleet, record, smallFleet, verdicts } from './helpers.mjs'

test('one finding per record, in order, with the rule of rule.md', () => {
  const records = smallFleet()
  const findings = evaluate(records, null, NOW)
  assert.equal(findings.length, records.length)
  assert.deepEqual(findings.map((f) => f.arn), records.map((r) => r.arn))
  assert.deepEqual(verdicts(findings), expectedSmallFleet)
})

test('findings keep the snake_case shape of formats.md', () => {
  const [finding] = evaluate([record('us-east-1', 'k1', { rotation: { enabled: false }, aliases: ['alias/a'] })], null, NOW)
  assert.equal(finding.account_id, '111122223333')
  assert.equal(finding.region, 'us-east-1')
  assert.equal(finding.key_id, 'k1')
  assert.equal(finding.remediable, true)
  assert.equal(finding.remediation_target, finding.arn)
  assert.equal(finding.key_spec, 'SYMMETRIC_DEFAULT')
  assert.deepEqual(finding.aliases, ['alias/a'])
  assert.equal(finding.error, null)
  assert.equal(finding.exception, null)
})

test("a parsed inventory's keys go in as they are", () => {
  const inventory = JSON.parse(readFileSync(path.join(examples, 'fleet.json'), 'utf8'))
  const policy = loadPolicy(path.join(examples, 'policy.yaml'), { exceptions: [path.join(examples, 'exceptions.yaml')] })
  const findings = evaluate(inventory.keys, policy, NOW)
  const count = (s) => findings.filter((f) => f.status === s).length
  assert.equal(findings.length, 22)
  assert.equal(count('fail'), 7)
  assert.equal(count('exempt'), 1)
  assert.equal(count('error'), 2)
})

test('the policy document is snake_case, like the file', () => {
  const records = [record('us-east-1', 'k1', { rotation: { enabled: true, period_days: 730 } })]
  assert.equal(evaluate(records, null, NOW)[0].status, 'fail')
  const lenient = { max_rotation_period_days: 730 }
  assert.equal(evaluate(records, lenient, NOW)[0].status, 'pass')
})

test('exceptions expire relative to `now`, given as a Date or an RFC 3339 string', () => {
  const records = [record('us-east-1', 'k1', { rotation: { enabled: false } })]
  const policy = {
    exceptions: [{ match: { key_id: 'k1' }, owner: 'team', reason: 'legacy', expires: '2026-06-30' }],
  }
  assert.equal(evaluate(records, policy, '2026-06-30T23:59:59Z')[0].status, 'exempt')
  assert.equal(evaluate(records, policy, new Date('2026-07-01T00:00:00Z'))[0].status, 'fail')
  const expired = evaluate(records, policy, new Date('2026-07-01T00:00:00Z'))[0]
  assert.equal(expired.exception.expired, true)
})

test('account, region and key id come from the ARN when absent', () => {
  const [finding] = evaluate([{ arn: 'arn:aws:kms:eu-west-1:123456789012:key/abc', errors: [{ operation: 'DescribeKey', code: 'AccessDeniedException' }] }], null, NOW)
  assert.equal(finding.account_id, '123456789012')
  assert.equal(finding.region, 'eu-west-1')
  assert.equal(finding.status, 'error')
  assert.equal(finding.reason, 'describe_failed')
})

test('an empty list gives no findings', () => {
  assert.deepEqual(evaluate([], undefined, NOW), [])
})
