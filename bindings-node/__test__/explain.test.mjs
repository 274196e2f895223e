// explain: what each reason code of a finding means, why it matters and how to fix the key, as
// the core (and `kms-rotation explain --format json`) gives it.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { explain } from 'kms-rotation'
import { root } from './helpers.mjs'

/** The strings a schema's `$defs[name]` allows: those of the generated type of that name. */
function literals(schema, name) {
  const doc = JSON.parse(readFileSync(path.join(root, 'schemas', `${schema}.schema.json`), 'utf8'))
  return new Set(doc.$defs[name].oneOf.map((variant) => variant.const))
}

test('without a reason, every reason code a finding can carry is explained once', () => {
  for (const options of [undefined, null, {}, { reason: null }]) {
    const explanations = explain(options)
    const codes = explanations.map((e) => e.reason)
    assert.equal(new Set(codes).size, codes.length)
    // The generated `Reason` type of a report's findings (schemas/report.schema.json).
    assert.deepEqual(new Set(codes), literals('report', 'Reason'))
    const statuses = literals('report', 'Status')
    for (const e of explanations) {
      assert.ok(e.statuses.length > 0 && e.statuses.every((s) => statuses.has(s)), e.reason)
      assert.ok(e.meaning && e.why && e.fix_console.length > 0, e.reason)
      assert.ok(e.fix_cli.every((command) => command.startsWith('aws kms ')), e.reason)
    }
  }
})

test('one reason is its explanation from the list', () => {
  const every = new Map(explain().map((e) => [e.reason, e]))
  const one = explain({ reason: 'rotation_disabled' })
  assert.deepEqual(one, [every.get('rotation_disabled')])
  assert.deepEqual(one[0].statuses, ['fail', 'exempt'])
  assert.ok(one[0].fix_cli.some((command) => command.includes('enable-key-rotation')))
})

test('an unknown reason is InvalidInput on `reason`, listing the codes', () => {
  assert.throws(() => explain({ reason: 'rotation_off' }), (err) => {
    assert.equal(err.code, 'InvalidInput')
    assert.equal(err.field, 'reason')
    assert.match(err.message, /`rotation_off` is not a reason code/)
    assert.match(err.message, /rotation_disabled/)
    return true
  })
  assert.throws(() => explain({ reason: 42 }), { code: 'InvalidInput', field: 'reason' })
})
