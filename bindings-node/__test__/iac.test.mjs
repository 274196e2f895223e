// scan() of a Terraform plan and CloudFormation templates: the core's sources, as options.
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'

import { render, scan } from 'kms-rotation'
import { NOW, examples } from './helpers.mjs'

const iac = path.join(examples, 'iac')

const byAddress = (report) =>
  Object.fromEntries(report.findings.map((f) => [f.location.address, `${f.status}/${f.reason}`]))

test('scan a Terraform plan: verdicts, locations, no remediation target', async () => {
  const report = await scan({ terraformPlan: path.join(iac, 'plan.json'), now: NOW })
  assert.equal(report.scope.source, 'terraform')
  const verdicts = byAddress(report)
  assert.equal(verdicts['aws_kms_key.logs'], 'fail/rotation_disabled')
  assert.equal(verdicts['aws_kms_key.tenant'], 'error/unknown_until_apply')
  assert.equal(verdicts['aws_kms_key.webhooks'], 'fail/rotation_not_supported')
  assert.equal(verdicts['module.storage.aws_kms_key.hsm'], 'not_applicable/custom_key_store')
  assert.equal(verdicts['aws_s3_bucket.logs'], undefined)
  const logs = report.findings.find((f) => f.key_id === 'aws_kms_key.logs')
  assert.equal(logs.location.file, path.join(iac, 'plan.json'))
  assert.ok(logs.location.line > 1)
  assert.equal(logs.remediation_target, null)
})

test('scan CloudFormation templates; SARIF points at the lines', async () => {
  const report = await scan({
    cloudformation: [path.join(iac, 'template.yaml'), path.join(iac, 'template.json')],
    now: NOW,
  })
  const verdicts = byAddress(report)
  assert.equal(verdicts.LogsKey, 'fail/rotation_disabled')
  assert.equal(verdicts.RegionalKey, 'error/unknown_until_apply')
  assert.equal(verdicts.EncryptionKeyPair, 'fail/rotation_not_supported')
  const sarif = JSON.parse(render({ report, format: 'sarif' }))
  for (const result of sarif.runs[0].results) {
    assert.ok(result.locations[0].physicalLocation.region.startLine > 1)
  }
})

test('one source at a time; bad input names the file and field', async () => {
  await assert.rejects(
    scan({ inventory: path.join(examples, 'fleet.json'), terraformPlan: path.join(iac, 'plan.json') }),
    (e) => e.code === 'InvalidInput' && e.field === 'terraform_plan',
  )
  await assert.rejects(
    scan({ terraformPlan: path.join(iac, 'template.json') }),
    (e) => e.field === 'format_version' && `${e.file} ${e.message}`.includes('template.json'),
  )
})
