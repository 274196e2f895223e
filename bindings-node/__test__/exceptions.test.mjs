// reviewExceptions: the review of a report's exceptions (expired, unused, unknown, expiring,
// active), as the core (and `kms-rotation exceptions --format json`) gives it.
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'

import { reviewExceptions, scan } from 'kms-rotation'
import { examples, tempFile } from './helpers.mjs'

const NOW = '2026-11-22T12:00:00Z'
const ORDERS = 'arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002'

/** An expiring exception (a failing key, 9 days left), an unused one (a key id no key has), an
 * unknown one (a tag: one key of the fleet had its tags unread), beside the sample's expired
 * and active ones. */
function scanOptions() {
  const more = tempFile('more.json', {
    exceptions: [
      { match: { arn: ORDERS }, owner: 'orders-team', reason: 'freeze', ticket: 'CHG-7', expires: '2026-12-01' },
      { match: { key_id: '00000099-0000-4000-8000-000000000099' }, owner: 'gone-team', reason: 'deleted', expires: '2027-06-30' },
      { match: { tag: { key: 'rotation-exception', value: 'TKT-99' } }, owner: 'data-team', reason: 'pinned', expires: '2027-06-30' },
    ],
  })
  return {
    inventory: path.join(examples, 'fleet.json'),
    policyFile: path.join(examples, 'policy.yaml'),
    exceptions: [path.join(examples, 'exceptions.yaml'), more],
    now: NOW,
  }
}

test('every state, most urgent first, from a scan', async () => {
  const review = await reviewExceptions({ scan: scanOptions(), now: NOW })
  assert.deepEqual(
    review.exceptions.map((e) => [e.owner, e.state]),
    [
      ['analytics-team', 'expired'],
      ['gone-team', 'unused'],
      ['data-team', 'unknown'],
      ['orders-team', 'expiring'],
      ['batch-team', 'active'],
    ],
  )
  assert.equal(review.summary.expired_failing, true)
  assert.equal(review.complete, true)
  const orders = review.exceptions[3]
  assert.equal(orders.days_left, 9)
  assert.deepEqual(orders.failing_keys, [ORDERS])
})

test('a report, a report file and a scan give one review; withinDays moves the window', async () => {
  const options = scanOptions()
  const report = await scan(options)
  const file = tempFile('report.json', report)
  const fromScan = await reviewExceptions({ scan: options, now: NOW })
  assert.deepEqual(await reviewExceptions({ report, now: NOW }), fromScan)
  assert.deepEqual(await reviewExceptions({ reportFile: file, now: new Date(NOW) }), fromScan)
  const narrow = await reviewExceptions({ report, now: NOW, withinDays: 8 })
  assert.equal(narrow.summary.expiring, 0)
  assert.equal(narrow.within_days, 8)
})

test('the core checks the options', async () => {
  await assert.rejects(reviewExceptions({}), (err) => {
    assert.equal(err.code, 'InvalidInput')
    assert.equal(err.field, 'report')
    assert.match(err.message, /nothing to review/)
    return true
  })
  await assert.rejects(reviewExceptions({ reportFile: 'r.json', withinDays: -1 }), { code: 'InvalidInput', field: 'within_days' })
  await assert.rejects(reviewExceptions({ reportFile: 'r.json', within_day: 3 }), { code: 'InvalidInput', field: 'within_day' })
})
