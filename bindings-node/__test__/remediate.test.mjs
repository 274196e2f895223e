// The remediation loop against the KMS test server: plan, apply, re-scan, rollback, re-scan.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { test } from 'node:test'

import { apply, planRemediation, rollback, scan } from 'kms-rotation'
import { NOW, expectedSmallFleet, record, smallFleet, startTestServer, tempFile, verdicts } from './helpers.mjs'

const quick = { maxAttempts: 2, initialBackoffMs: 10, operationAttemptTimeoutMs: 5000, operationTimeoutMs: 10000 }
const fast = { verifyAttempts: 3, verifyDelayMs: 10 }

test('planRemediation is pure: actions for remediable failures, skips with reasons', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const plan = planRemediation(report, { now: NOW })
  assert.equal(plan.schema_version, 1)
  assert.equal(plan.generated_at, NOW)
  const targets = plan.actions.map((a) => a.target_arn).sort()
  const failing = report.findings.filter((f) => f.remediable).map((f) => f.arn).sort()
  assert.deepEqual(targets, failing)
  assert.ok(plan.actions.every((a) => a.action === 'enable_rotation' && a.rotation_period_days === 365))
  const skip = Object.fromEntries(plan.skips.map((s) => [s.arn.split('/')[1], s.reason]))
  assert.equal(skip['00000000-0000-4000-8000-000000000001'], 'passing')
  assert.equal(skip['00000000-0000-4000-8000-000000000005'], 'error_rescan_first')
  // Options are camelCase: only one region, a shorter period.
  const eu = planRemediation(report, { include: { regions: ['eu-west-1'] }, targetPeriodDays: 180, now: NOW })
  assert.deepEqual(eu.actions.map((a) => a.region), ['eu-west-1'])
  assert.equal(eu.actions[0].rotation_period_days, 180)
  assert.throws(() => planRemediation(report, { targetPeriodDays: 30 }), { code: 'InvalidInput' })
  assert.throws(() => planRemediation(report, { batchSize: 0 }), { code: 'InvalidInput' })
})

test('plan, apply, re-scan, rollback, re-scan', async (t) => {
  const server = await startTestServer(smallFleet())
  if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
  try {
    const aws = { endpointUrl: server.url, ...quick }
    const scanAll = () => scan({ ...aws, regions: ['us-east-1', 'eu-west-1'], now: NOW })
    const before = await scanAll()
    assert.deepEqual(verdicts(before.findings), expectedSmallFleet)
    const plan = planRemediation(before, { now: NOW })
    assert.equal(plan.actions.length, 3)

    // A dry run writes nothing and needs no journal.
    const dry = await apply(plan, { dryRun: true, aws, ...fast })
    assert.equal(dry.dry_run, true)
    assert.ok(dry.results.every((r) => r.status === 'would_remediate'), JSON.stringify(dry.results))
    assert.deepEqual(verdicts((await scanAll()).findings), expectedSmallFleet)

    const journal = tempFile('journal.ndjson', '')
    const progress = []
    const outcome = await apply(plan, { journal, aws, ...fast, onProgress: (p) => progress.push(p), throwOnFailure: true })
    assert.deepEqual(outcome.results.map((r) => r.status), ['remediated', 'remediated', 'remediated'])
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(progress, [1, 2, 3].map((done) => ({ done, total: 3 })))
    assert.equal(outcome.stopped, null)
    const lines = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    assert.ok(lines.every((l) => l.run_id === outcome.run_id))
    assert.deepEqual([...new Set(lines.map((l) => l.event))].sort(), ['after', 'before', 'verified'])

    const fixed = await scanAll()
    assert.equal(fixed.summary.by_status.fail, 0)
    assert.equal(fixed.summary.compliant, true)

    const rollbackProgress = []
    const undone = await rollback(journal, { aws, ...fast, onProgress: (p) => rollbackProgress.push(p) })
    assert.equal(undone.results.length, 3)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(rollbackProgress, [1, 2, 3].map((done) => ({ done, total: 3 })))
    assert.ok(undone.results.every((r) => r.status === 'rolled_back'), JSON.stringify(undone.results))
    assert.deepEqual(verdicts((await scanAll()).findings), expectedSmallFleet)

    // A second rollback of the same journal changes nothing.
    const again = await rollback(journal, { aws, ...fast })
    assert.ok(again.results.every((r) => r.status !== 'rolled_back'), JSON.stringify(again.results))
  } finally {
    await server.stop()
  }
})

// Per-key failures are data (rule: one bad key does not stop the run): the AWS error code of
// each kind of write failure lands in the result and the journal.
for (const code of ['AccessDeniedException', 'ThrottlingException', 'DisabledException', 'UnsupportedOperationException']) {
  test(`a write failing with ${code} is a result, not a rejection`, async (t) => {
    const server = await startTestServer([record('us-east-1', 'k1', { rotation: { enabled: false } })], ['--writes', `fail:${code}`])
    if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
    try {
      // One attempt per call: a write that is always throttled would otherwise be retried for
      // the whole retry budget (minutes) before it counts as failed.
      const aws = { endpointUrl: server.url, ...quick, maxAttempts: 1 }
      const report = await scan({ ...aws, regions: ['us-east-1'], now: NOW })
      const journal = tempFile('journal.ndjson', '')
      const outcome = await apply(planRemediation(report), { journal, aws, ...fast })
      assert.equal(outcome.results[0].status, 'failed')
      assert.equal(outcome.results[0].error.code, code)
      const failed = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.event === 'failed')
      assert.equal(failed.error.code, code)
    } finally {
      await server.stop()
    }
  })
}

test('apply and rollback reject when they cannot run at all', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const plan = planRemediation(report, { now: NOW })
  const aws = { endpointUrl: 'http://127.0.0.1:9', ...quick }
  await assert.rejects(apply(plan, { aws }), { code: 'InvalidInput', field: 'journal' })
  await assert.rejects(apply({ ...plan, schema_version: 2 }, { dryRun: true, aws }), { code: 'InvalidInput', field: 'schema_version' })
  await assert.rejects(apply(plan, { journal: '/nonexistent/dir/journal.ndjson', aws }), { code: 'NotFound' })
  await assert.rejects(apply(plan, { dryRun: true, concurrency: 0, aws }), { code: 'InvalidInput', field: 'concurrency' })
  await assert.rejects(rollback('/nonexistent/journal.ndjson', { aws }), { code: 'NotFound' })
  const bad = tempFile('journal.ndjson', '{"not": "a journal entry"}\n')
  await assert.rejects(rollback(bad, { aws }), { code: 'InvalidInput' })
})

// A journal that cannot take a line (a full disk) stops the run before any write, and the
// outcome says so; a torn last line (an interrupted run) is a warning, not an error.
test('a failing journal stops apply with every result; a torn last line is a warning', async (t) => {
  const server = await startTestServer([record('us-east-1', 'k1', { rotation: { enabled: false } })])
  if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
  try {
    const aws = { endpointUrl: server.url, ...quick }
    const plan = planRemediation(await scan({ ...aws, regions: ['us-east-1'], now: NOW }))
    if (existsSync('/dev/full')) {
      const outcome = await apply(plan, { journal: '/dev/full', aws, ...fast })
      assert.equal(typeof outcome.journal_error, 'string')
      assert.match(outcome.stopped, /journal/)
      assert.deepEqual(outcome.results.map((r) => [r.status, r.reason]), [['not_attempted', 'journal_failed']])
    }
    const torn = tempFile('torn.ndjson', '{"at": "2026-11-22T12:00:00Z", "run_')
    const undone = await rollback(torn, { dryRun: true, aws })
    assert.deepEqual(undone.results, [])
    assert.equal(undone.journal_error, null)
    assert.equal(undone.journal_warnings.length, 1)
    assert.match(undone.journal_warnings[0], /line 1 is incomplete/)
  } finally {
    await server.stop()
  }
})
