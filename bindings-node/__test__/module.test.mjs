// The package works from both `require` and `import`, with the same functions.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'

import * as esm from 'kms-rotation'

const require = createRequire(import.meta.url)

test('require and import give the same addon', () => {
  const cjs = require('kms-rotation')
  for (const name of ['scan', 'evaluate', 'evaluateAsync', 'evaluateJson', 'evaluateJsonAsync', 'render', 'loadPolicy', 'loadExceptions', 'formats', 'errorCodes', 'plan', 'apply', 'rollback', 'explain', 'iamPolicy', 'baseline', 'event', 'diff', 'diffAsync', 'merge', 'mergeAsync']) {
    assert.equal(typeof cjs[name], 'function', name)
    assert.equal(esm[name], cjs[name], name)
  }
  assert.equal(esm.default, cjs)
})

test('the ES module exports every public function of the addon', () => {
  const cjs = require('kms-rotation')
  const expected = Object.keys(cjs).filter((name) => !name.startsWith('__')).sort()
  const exported = Object.keys(esm).filter((name) => name !== 'default').sort()
  assert.deepEqual(exported, expected)
})
