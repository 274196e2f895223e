// diff: the progress between an older and a newer report, as the core (and `kms-rotation diff
// --format json`) gives it, as a plain object.
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

import { diff, diffAsync, evaluate } from 'kms-rotation'
import { arn, record } from './helpers.mjs'

const id = (n) => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`
const key = (n, enabled) =>
  record('eu-west-1', id(n), { aliases: [], tags: {}, rotation: { enabled, period_days: enabled ? 365 : null } })
// Key 3's exception lapses between the two scans.
const policy = {
  exceptions: [{ match: { arn: arn('eu-west-1', id(3)) }, owner: 'team-l', reason: 'legacy', expires: '2026-06-30' }],
}

/** Key 1 fixed, 2 regressed, 3 lapsed, 4 new and failing, 5 gone, 6 unchanged. */
function reports() {
  const old = [key(1, false), key(2, true), key(3, false), key(5, false), key(6, true)]
  const now = [key(1, true), key(2, false), key(3, false), key(4, false), key(6, true)]
  return [evaluate(old, policy, '2026-06-01T00:00:00Z'), evaluate(now, policy, '2026-07-15T00:00:00Z')]
}

const arns = (changes) => changes.map((c) => c.arn)

test('each category gets its keys', () => {
  const [old, now] = reports()
  const d = diff({ old, new: now })
  assert.deepEqual(arns(d.fixed), [arn('eu-west-1', id(1))])
  assert.deepEqual(arns(d.regressed), [arn('eu-west-1', id(2))])
  assert.deepEqual(arns(d.lapsed), [arn('eu-west-1', id(3))])
  assert.deepEqual(arns(d.new_failing), [arn('eu-west-1', id(4))])
  assert.deepEqual(arns(d.gone), [arn('eu-west-1', id(5))])
  assert.equal(d.worse, true)
  assert.equal(d.policy_changed, false)
  assert.equal(d.lapsed[0].old_status, 'exempt')
  assert.equal(d.lapsed[0].exception.owner, 'team-l')
  assert.deepEqual(d.by_account_region.map((p) => [p.region, p.regressed, p.fixed]), [['eu-west-1', 1, 1]])
})

test('files (camelCase options) and the Promise give the same diff', async () => {
  const [old, now] = reports()
  const dir = mkdtempSync(path.join(tmpdir(), 'kms-rotation-diff-'))
  const oldFile = path.join(dir, 'old.json')
  writeFileSync(oldFile, JSON.stringify(old))
  const fromFile = diff({ oldFile, new: now })
  assert.deepEqual(fromFile, diff({ old, new: now }))
  assert.deepEqual(await diffAsync({ oldFile, new: now }), fromFile)
})

test('a swapped, edited or missing report is refused with its field', async () => {
  const [old, now] = reports()
  assert.throws(() => diff({ old: now, new: old }), { code: 'InvalidInput', field: 'old.generated_at' })
  const edited = structuredClone(now)
  edited.findings[0].status = 'fail' // key 1 passes in the new report
  assert.throws(() => diff({ old, new: edited }), { code: 'InvalidInput', field: 'new.findings[0].status' })
  assert.throws(() => diff({ old }), { code: 'InvalidInput', field: 'new' })
  await assert.rejects(diffAsync({ old, new: old, newFile: 'x.json' }), { code: 'InvalidInput', field: 'new' })
})
