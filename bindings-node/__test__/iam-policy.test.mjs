// iamPolicy: the least-privilege IAM policy to scan (`read_only`) or to change keys
// (`remediate`), as the core (and `kms-rotation iam-policy`) gives it.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { iamPolicy } from 'kms-rotation'

const ROLE = 'arn:aws:iam::111122223333:role/kms-rotation'

/** Every action the document grants. */
const actions = (policy) => policy.document.Statement.flatMap((statement) => statement.Action)

test('read_only is the default and never writes', () => {
  const policy = iamPolicy()
  assert.deepEqual(iamPolicy(null), policy)
  assert.deepEqual(iamPolicy({ mode: 'read_only' }), policy)
  assert.equal(policy.mode, 'read_only')
  assert.equal(policy.document.Version, '2012-10-17')
  const granted = actions(policy)
  assert.ok(granted.includes('kms:ListKeys') && granted.includes('kms:GetKeyRotationStatus'))
  assert.ok(!granted.includes('kms:EnableKeyRotation'))
  assert.ok(!granted.includes('kms:DisableKeyRotation'))
  // Each action of the document is described, in the document's order.
  assert.deepEqual(policy.permissions.map((p) => p.action), granted)
  assert.ok(policy.permissions.every((p) => p.why && typeof p.optional === 'boolean'))
})

test('remediate grants the writes', () => {
  const policy = iamPolicy({ mode: 'remediate' })
  assert.equal(policy.mode, 'remediate')
  const granted = actions(policy)
  assert.ok(granted.includes('kms:EnableKeyRotation') && granted.includes('kms:DisableKeyRotation'))
  assert.ok(!granted.includes('kms:ListKeys'))
})

test('roleArns add sts:AssumeRole on those roles, in either spelling', () => {
  for (const mode of ['read_only', 'remediate']) {
    assert.ok(!actions(iamPolicy({ mode })).includes('sts:AssumeRole'), mode)
    const policy = iamPolicy({ mode, roleArns: [ROLE] })
    const assume = policy.document.Statement.filter((s) => s.Action.includes('sts:AssumeRole'))
    assert.equal(assume.length, 1, mode)
    assert.deepEqual(assume[0].Resource, [ROLE])
    assert.deepEqual(iamPolicy({ mode, role_arns: [ROLE] }), policy)
  }
})

test('a bad role ARN or mode is InvalidInput on its field', () => {
  assert.throws(() => iamPolicy({ roleArns: ['kms-rotation'] }), { code: 'InvalidInput', field: 'role_arns[0]' })
  assert.throws(
    () => iamPolicy({ roleArns: [ROLE, 'arn:aws:iam::1:role/x'] }),
    { code: 'InvalidInput', field: 'role_arns[1]' },
  )
  assert.throws(() => iamPolicy({ mode: 'read-write' }), { code: 'InvalidInput', field: 'mode' })
})
