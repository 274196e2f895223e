// The remediation loop against the KMS test server: plan, apply, re-scan, rollback, re-scan; and
// that apply and rollback are dry runs unless told `dryRun: false`, counted from the server's
// own call log.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { apply, plan, rollback, scan } from 'kms-rotation'
import { NOW, expectedSmallFleet, record, smallFleet, startTestServer, tempFile, verdicts, writeCalls } from './helpers.mjs'

const quick = { maxAttempts: 2, initialBackoffMs: 10, operationAttemptTimeoutMs: 5000, operationTimeoutMs: 10000 }
const fast = { verifyAttempts: 3, verifyDelayMs: 10 }

test('plan: actions for remediable failures, skips with reasons; camelCase options', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const planned = await plan({ report, now: NOW })
  assert.equal(planned.schema_version, 1)
  assert.equal(planned.generated_at, NOW)
  const targets = planned.actions.map((a) => a.target_arn).sort()
  const failing = report.findings.filter((f) => f.remediable).map((f) => f.arn).sort()
  assert.deepEqual(targets, failing)
  assert.ok(planned.actions.every((a) => a.action === 'enable_rotation' && a.rotation_period_days === 365))
  const skip = Object.fromEntries(planned.skips.map((s) => [s.arn.split('/')[1], s.reason]))
  assert.equal(skip['00000000-0000-4000-8000-000000000001'], 'passing')
  assert.equal(skip['00000000-0000-4000-8000-000000000005'], 'error_rescan_first')
  // Options are camelCase: only one region, a shorter period, batches of one.
  const eu = await plan({ report, selection: { include: { regions: ['eu-west-1'] } }, targetPeriodDays: 180, now: NOW })
  assert.deepEqual(eu.actions.map((a) => a.region), ['eu-west-1'])
  assert.equal(eu.actions[0].rotation_period_days, 180)
  const batched = await plan({ report, batchSize: 1, now: NOW })
  assert.deepEqual(batched.actions.map((a) => a.batch), [1, 2, 3])
  await assert.rejects(plan({ report, targetPeriodDays: 30 }), { code: 'InvalidInput' })
  await assert.rejects(plan({ report, batchSize: 0 }), { code: 'InvalidInput', field: 'batch_size' })
  await assert.rejects(plan({}), { code: 'InvalidInput', field: 'report' })
})

test('plan from a scan it makes, with priorities and progress, or from a saved report', async () => {
  const progress = []
  const tagged = smallFleet().map((r, i) => ({ ...r, tags: { tier: i === 5 ? 'gold' : 'bronze' } }))
  const planned = await plan({ scan: { records: tagged, now: NOW }, priorities: ['tag:tier=gold'], now: NOW, onProgress: (p) => progress.push(p) })
  assert.equal(planned.actions[0].region, 'eu-west-1')
  assert.equal(planned.actions[0].priority, 1)
  assert.equal(planned.actions[0].priority_reason, 'tag tier=gold')
  await assert.rejects(plan({ scan: { records: tagged }, priorities: ['tier=gold'] }), { code: 'InvalidInput', field: 'priorities[0]' })
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(progress.at(-1), { keysListed: 6, keysRead: 6 })
  const reportFile = tempFile('report.json', await scan({ records: smallFleet(), now: NOW }))
  assert.equal((await plan({ reportFile, now: NOW })).actions.length, 3)
})

test('plan refuses a report whose verdicts were edited', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const edited = structuredClone(report)
  const failing = edited.findings.findIndex((f) => f.status === 'fail')
  edited.findings[failing].status = 'pass'
  await assert.rejects(plan({ report: edited }), (err) => {
    assert.equal(err.code, 'InvalidInput')
    assert.match(err.field, /^report\.findings\[\d+\]/)
    return true
  })
})

test('apply and rollback are dry runs unless told otherwise: no write reaches the server', async (t) => {
  const server = await startTestServer(smallFleet())
  if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
  try {
    const aws = { endpointUrl: server.url, ...quick }
    const before = await scan({ ...aws, regions: ['us-east-1', 'eu-west-1'], now: NOW })
    const planned = await plan({ report: before, now: NOW })
    assert.equal(planned.actions.length, 3)
    const scanned = await server.calls()
    assert.ok(scanned.some((c) => c.operation === 'ListKeys'), 'the call log has the scan')

    // A journal is given, and AWS options, but not `dryRun: false`.
    const journal = path.join(path.dirname(tempFile('x', '')), 'journal.ndjson')
    const dry = await apply({ plan: planned, journal, ...aws, ...fast })
    assert.equal(dry.dry_run, true)
    assert.deepEqual(dry.results.map((r) => r.status), ['would_remediate', 'would_remediate', 'would_remediate'])
    assert.ok(!existsSync(journal), 'a dry run creates no journal')

    // A journal saying a run enabled rotation on two keys: rolling back would disable it.
    const lines = ['00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000006'].flatMap((id) => {
      const arn = before.findings.find((f) => f.key_id === id).arn
      const line = (event, state) => JSON.stringify({ at: NOW, run_id: 'r1', target_arn: arn, event, state, error: null })
      return [line('before', { enabled: false, period_days: null }), line('after', { enabled: true, period_days: 365 })]
    })
    const written = tempFile('journal.ndjson', lines.join('\n') + '\n')
    const undo = await rollback({ journal: written, ...aws, ...fast })
    assert.equal(undo.dry_run, true)
    assert.deepEqual(undo.results.map((r) => r.status), ['would_roll_back', 'would_roll_back'])
    assert.equal(readFileSync(written, 'utf8'), lines.join('\n') + '\n', 'a dry run leaves the journal as it was')
    assert.deepEqual(await server.calls(), scanned, 'the dry runs made no call')

    // Nothing changed: the keys still fail as before.
    assert.deepEqual(verdicts((await scan({ ...aws, regions: ['us-east-1', 'eu-west-1'], now: NOW })).findings), expectedSmallFleet)
    assert.deepEqual(writeCalls(await server.calls()), [])
  } finally {
    await server.stop()
  }
})

test('plan, apply, re-scan, rollback, re-scan', async (t) => {
  const server = await startTestServer(smallFleet())
  if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
  try {
    const aws = { endpointUrl: server.url, ...quick }
    const scanAll = () => scan({ ...aws, regions: ['us-east-1', 'eu-west-1'], now: NOW })
    const before = await scanAll()
    assert.deepEqual(verdicts(before.findings), expectedSmallFleet)
    const planned = await plan({ report: before, now: NOW })
    assert.equal(planned.actions.length, 3)

    const journal = tempFile('journal.ndjson', '')
    const progress = []
    const outcome = await apply({ plan: planned, journal, dryRun: false, ...aws, ...fast, onProgress: (p) => progress.push(p), errorOnFailure: true })
    assert.equal(outcome.dry_run, false)
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

    // The dry run first: what would be undone, nothing undone, nothing called.
    const beforePreview = await server.calls()
    const preview = await rollback({ journal, ...aws })
    assert.deepEqual(preview.results.map((r) => r.status), ['would_roll_back', 'would_roll_back', 'would_roll_back'])
    assert.deepEqual(await server.calls(), beforePreview, 'a dry-run rollback made a call')
    assert.equal((await scanAll()).summary.compliant, true)

    const rollbackProgress = []
    const undone = await rollback({ journal, dryRun: false, ...aws, ...fast, onProgress: (p) => rollbackProgress.push(p) })
    assert.equal(undone.results.length, 3)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(rollbackProgress, [1, 2, 3].map((done) => ({ done, total: 3 })))
    assert.ok(undone.results.every((r) => r.status === 'rolled_back'), JSON.stringify(undone.results))
    assert.deepEqual(verdicts((await scanAll()).findings), expectedSmallFleet)

    // A second rollback of the same journal changes nothing.
    const again = await rollback({ journal, dryRun: false, ...aws, ...fast })
    assert.ok(again.results.every((r) => r.status !== 'rolled_back'), JSON.stringify(again.results))

    // Three writes to apply, three to undo (the 730-day key gets its period back, the others
    // their rotation turned off): the dry runs and the second rollback wrote nothing.
    const writes = writeCalls(await server.calls()).map((c) => c.operation)
    assert.deepEqual(writes.slice(0, 3), Array(3).fill('EnableKeyRotation'))
    assert.deepEqual(writes.slice(3).sort(), ['DisableKeyRotation', 'DisableKeyRotation', 'EnableKeyRotation'])
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
      const outcome = await apply({ plan: await plan({ report }), journal, dryRun: false, ...aws, ...fast })
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
  const planned = await plan({ report, now: NOW })
  const aws = { endpointUrl: 'http://127.0.0.1:9', ...quick }
  await assert.rejects(apply({ plan: planned, dryRun: false, ...aws }), { code: 'InvalidInput', field: 'journal' })
  await assert.rejects(apply({ ...aws }), { code: 'InvalidInput', field: 'plan' })
  await assert.rejects(apply({ plan: { ...planned, schema_version: 2 }, ...aws }), { code: 'InvalidInput', field: /schema_version$/ })
  await assert.rejects(apply({ plan: planned, journal: '/nonexistent/dir/journal.ndjson', dryRun: false, ...aws }), { code: 'NotFound' })
  await assert.rejects(apply({ plan: planned, concurrency: 0, ...aws }), { code: 'InvalidInput', field: 'concurrency' })
  await assert.rejects(apply({ planFile: '/nonexistent/plan.json' }), { code: 'NotFound' })
  await assert.rejects(rollback({ journal: '/nonexistent/journal.ndjson', ...aws }), { code: 'NotFound' })
  await assert.rejects(rollback({ ...aws }), { code: 'InvalidInput', field: 'journal' })
  const bad = tempFile('journal.ndjson', '{"not": "a journal entry"}\n')
  await assert.rejects(rollback({ journal: bad, ...aws }), { code: 'InvalidInput' })
})

// A journal that cannot take a line (a full disk) stops the run before any write, and the
// outcome says so; a torn last line (an interrupted run) is a warning, not an error.
test('a failing journal stops apply with every result; a torn last line is a warning', async (t) => {
  const server = await startTestServer([record('us-east-1', 'k1', { rotation: { enabled: false } })])
  if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
  try {
    const aws = { endpointUrl: server.url, ...quick }
    const planned = await plan({ report: await scan({ ...aws, regions: ['us-east-1'], now: NOW }) })
    if (existsSync('/dev/full')) {
      const outcome = await apply({ plan: planned, journal: '/dev/full', dryRun: false, ...aws, ...fast })
      assert.equal(typeof outcome.journal_error, 'string')
      assert.match(outcome.stopped, /journal/)
      assert.deepEqual(outcome.results.map((r) => [r.status, r.reason]), [['not_attempted', 'journal_failed']])
    }
    const torn = tempFile('torn.ndjson', '{"at": "2026-11-22T12:00:00Z", "run_')
    const undone = await rollback({ journal: torn, ...aws })
    assert.deepEqual(undone.results, [])
    assert.equal(undone.journal_error, null)
    assert.equal(undone.journal_warnings.length, 1)
    assert.match(undone.journal_warnings[0], /line 1 is incomplete/)
  } finally {
    await server.stop()
  }
})
