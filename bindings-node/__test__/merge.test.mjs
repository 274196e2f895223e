// merge: one report from the reports of a scan split over several jobs, as the core (and
// `kms-rotation merge`) makes it.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { evaluate, merge, mergeAsync } from 'kms-rotation'
import { record } from './helpers.mjs'

const NOW = '2026-11-22T12:00:00Z'
const key = (region, n) =>
  record(region, `0000000${n}-0000-4000-8000-000000000000`, { aliases: [], tags: {}, rotation: { enabled: n % 2 === 0 } })

test('parts by region merge into the report of one scan', async () => {
  const east = [key('us-east-1', 1), key('us-east-1', 2)]
  const west = [key('eu-west-1', 3), key('eu-west-1', 4)]
  const whole = evaluate([...east, ...west], undefined, NOW)
  const merged = merge({ reports: [evaluate(east, undefined, NOW), evaluate(west, undefined, NOW)] })
  assert.deepEqual(merged.findings, whole.findings)
  assert.deepEqual(merged.summary, whole.summary)
  const again = await mergeAsync({ reports: [evaluate(west, undefined, NOW), evaluate(east, undefined, NOW)] })
  assert.deepEqual(again.findings, whole.findings)
})

test('overlapping parts and nothing to merge are refused, naming the part', () => {
  const east = evaluate([key('us-east-1', 1)], undefined, NOW)
  assert.throws(() => merge({ reports: [east, east] }), { code: 'InvalidInput', field: 'reports[1]' })
  assert.throws(() => merge({}), { code: 'InvalidInput', field: 'reports' })
})
