// evaluate(): the rule on plain objects, as JS callers build or parse them, returning the same
// report as a scan; evaluateAsync off the event loop; evaluateJson from text to text.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { evaluate, evaluateAsync, evaluateJson, evaluateJsonAsync, loadPolicy, scan } from 'kms-rotation'
import { NOW, examples, expectedSmallFleet, record, smallFleet, verdicts } from './helpers.mjs'

test('one finding per record, in report order, with the rule of rule.md', () => {
  const records = smallFleet()
  const report = evaluate(records, null, NOW)
  assert.equal(report.findings.length, records.length)
  assert.deepEqual(report.findings.map((f) => f.arn).sort(), records.map((r) => r.arn).sort())
  assert.deepEqual(verdicts(report.findings), expectedSmallFleet)
  // Report order: account, region, ARN.
  const order = report.findings.map((f) => [f.account_id, f.region, f.arn].join(' '))
  assert.deepEqual(order, [...order].sort())
  assert.equal(report.scope.source, 'memory')
  assert.deepEqual(report.summary.by_status, { total: 6, pass: 1, fail: 3, not_applicable: 1, exempt: 0, error: 1 })
  assert.equal(report.summary.compliant, false)
  assert.equal(report.generated_at, NOW)
})

test('evaluate returns the report a scan of the same records gives', async () => {
  const policy = { max_rotation_period_days: 365, exceptions: [{ match: { key_id: '00000000-0000-4000-8000-000000000006' }, owner: 'o', reason: 'r', expires: '2030-01-01' }] }
  const scanned = await scan({ records: smallFleet(), policy, now: NOW })
  assert.deepEqual(evaluate(smallFleet(), policy, NOW), scanned)
  assert.deepEqual(await evaluateAsync(smallFleet(), policy, new Date(NOW)), scanned)
  assert.deepEqual(JSON.parse(evaluateJson(JSON.stringify(smallFleet()), policy, NOW)), scanned)
  assert.deepEqual(JSON.parse(await evaluateJsonAsync(Buffer.from(JSON.stringify(smallFleet())), policy, NOW)), scanned)
})

test('findings keep the snake_case shape of formats.md', () => {
  const [finding] = evaluate([record('us-east-1', 'k1', { rotation: { enabled: false }, aliases: ['alias/a'] })], null, NOW).findings
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

test("a parsed inventory's keys go in as they are; its text goes into evaluateJson", () => {
  const text = readFileSync(path.join(examples, 'fleet.json'), 'utf8')
  const inventory = JSON.parse(text)
  const policy = loadPolicy(path.join(examples, 'policy.yaml'), { exceptions: [path.join(examples, 'exceptions.yaml')] })
  const report = evaluate(inventory.keys, policy, NOW)
  const count = (s) => report.findings.filter((f) => f.status === s).length
  assert.equal(report.findings.length, 22)
  assert.equal(count('fail'), 7)
  assert.equal(count('exempt'), 1)
  assert.equal(count('error'), 2)
  // The whole inventory document, or its keys, as text or bytes.
  assert.deepEqual(JSON.parse(evaluateJson(text, policy, NOW)), report)
  assert.deepEqual(JSON.parse(evaluateJson(Buffer.from(JSON.stringify(inventory.keys)), policy, NOW)), report)
})

test('the policy document is snake_case, like the file', () => {
  const records = [record('us-east-1', 'k1', { rotation: { enabled: true, period_days: 730 } })]
  assert.equal(evaluate(records, null, NOW).findings[0].status, 'fail')
  const lenient = { max_rotation_period_days: 730 }
  assert.equal(evaluate(records, lenient, NOW).findings[0].status, 'pass')
})

test('exceptions expire relative to `now`, given as a Date or an RFC 3339 string', () => {
  const records = [record('us-east-1', 'k1', { rotation: { enabled: false } })]
  const policy = {
    exceptions: [{ match: { key_id: 'k1' }, owner: 'team', reason: 'legacy', expires: '2026-06-30' }],
  }
  assert.equal(evaluate(records, policy, '2026-06-30T23:59:59Z').findings[0].status, 'exempt')
  assert.equal(evaluate(records, policy, new Date('2026-07-01T00:00:00Z')).findings[0].status, 'fail')
  const expired = evaluate(records, policy, new Date('2026-07-01T00:00:00Z')).findings[0]
  assert.equal(expired.exception.expired, true)
})

test('account, region and key id come from the ARN when absent', () => {
  const [finding] = evaluate([{ arn: 'arn:aws:kms:eu-west-1:123456789012:key/abc', errors: [{ operation: 'DescribeKey', code: 'AccessDeniedException' }] }], null, NOW).findings
  assert.equal(finding.account_id, '123456789012')
  assert.equal(finding.region, 'eu-west-1')
  assert.equal(finding.status, 'error')
  assert.equal(finding.reason, 'describe_failed')
})

test('a key listed twice is one finding; two different records for it are an error finding', () => {
  const key = record('us-east-1', 'k1', { rotation: { enabled: true, period_days: 365 } })
  assert.deepEqual(evaluate([key, { ...key }], null, NOW).findings.map((f) => f.status), ['pass'])
  const other = { ...key, rotation: { enabled: false } }
  const [conflict] = evaluate([key, other], null, NOW).findings
  assert.equal(conflict.status, 'error')
  assert.equal(conflict.error.code, 'ConflictingRecords')
})

test('an empty list gives an empty, compliant report', () => {
  const report = evaluate([], undefined, NOW)
  assert.deepEqual(report.findings, [])
  assert.equal(report.summary.compliant, true)
  assert.equal(report.summary.by_status.total, 0)
})

test('evaluate takes and gives large arrays a slice at a time: errors name the index in the whole array', () => {
  const many = Array.from({ length: 4500 }, (_, i) => record('us-east-1', `k${i}`, { rotation: { enabled: i % 3 !== 0 } }))
  assert.deepEqual(evaluate(many, null, NOW), JSON.parse(evaluateJson(JSON.stringify(many), null, NOW)))
  const bad = [...many]
  bad[4321] = { ...bad[4321], key_spec: 'SYMMETRIC' }
  assert.throws(() => evaluate(bad, null, NOW), { code: 'InvalidInput', field: 'records[4321].key_spec' })
  // What JSON.stringify cannot write throws its own error, wherever it is.
  const cyclic = record('us-east-1', 'k1')
  cyclic.self = cyclic
  assert.throws(() => evaluate([...many.slice(0, 2500), cyclic], null, NOW), /circular/)
})

test('evaluateAsync runs off the event loop and resolves with the report', async () => {
  const many = Array.from({ length: 5000 }, (_, i) => ({
    ...smallFleet()[i % 6],
    arn: `arn:aws:kms:us-east-1:111122223333:key/k${i}`,
  }))
  const promise = evaluateAsync(many, null, NOW)
  assert.ok(promise instanceof Promise)
  // The rule runs on a worker thread: the event loop turns while it does.
  let turns = 0
  const timer = setInterval(() => turns++, 1)
  const report = await promise
  clearInterval(timer)
  assert.equal(report.findings.length, 5000)
  assert.deepEqual(report, evaluate(many, null, NOW))
  assert.ok(turns > 0, 'the event loop did not turn while evaluateAsync ran')
  await assert.rejects(evaluateAsync([{ arn: 'x' }]), { code: 'InvalidInput', field: 'records[0]' })
})

test('evaluateAsync takes records a slice at a time: errors name the index in the whole array', async () => {
  const many = Array.from({ length: 4500 }, (_, i) => record('us-east-1', `k${i}`, { rotation: { enabled: true } }))
  many[4321] = { ...many[4321], key_spec: 'SYMMETRIC' }
  await assert.rejects(evaluateAsync(many, null, NOW), { code: 'InvalidInput', field: 'records[4321].key_spec' })
  await assert.rejects(evaluateAsync('none'), { code: 'InvalidInput', field: 'records' })
  const cyclic = record('us-east-1', 'k1')
  cyclic.self = cyclic
  await assert.rejects(evaluateAsync([cyclic]), { code: 'InvalidInput', field: 'records', message: /circular/ })
  assert.deepEqual((await evaluateAsync([])).findings, [])
})
