// scan(): Promises over the memory and inventory sources; the report's shape and renderings.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { formats, loadPolicy, plan, render, scan } from 'kms-rotation'
import { NOW, examples, expectedSmallFleet, smallFleet, tempFile, verdicts } from './helpers.mjs'

test('scan over records returns a Promise of the report', async () => {
  const promise = scan({ records: smallFleet(), now: NOW })
  assert.ok(promise instanceof Promise)
  const report = await promise
  assert.equal(report.schema_version, 1)
  assert.equal(report.scope.source, 'memory')
  assert.deepEqual(report.scope.regions, ['eu-west-1', 'us-east-1'])
  assert.deepEqual(verdicts(report.findings), expectedSmallFleet)
  assert.equal(report.summary.compliant, false)
  assert.equal(report.summary.complete, true)
  assert.deepEqual(report.summary.by_status, { total: 6, pass: 1, fail: 3, not_applicable: 1, exempt: 0, error: 1 })
  assert.equal(report.generated_at, NOW)
  // Report order: account, region, ARN.
  const order = report.findings.map((f) => [f.account_id, f.region, f.arn].join(' '))
  assert.deepEqual(order, [...order].sort())
})

test('scan over an inventory file, with policy and exceptions files, scope and progress', async () => {
  const policy = loadPolicy(path.join(examples, 'policy.yaml'), { exceptions: [path.join(examples, 'exceptions.yaml')] })
  const progress = []
  const report = await scan({
    inventory: path.join(examples, 'fleet.json'),
    policy,
    now: new Date(NOW),
    onProgress: (update) => progress.push(update),
  })
  assert.equal(report.scope.source, 'inventory')
  assert.deepEqual(report.summary.by_status, { total: 22, pass: 3, fail: 7, not_applicable: 9, exempt: 1, error: 2 })
  assert.ok(progress.length >= 1)
  assert.deepEqual(progress.at(-1), { keysListed: 22, keysRead: 22 })
  // The same policy from its files, read by the core.
  const fromFiles = await scan({
    inventory: path.join(examples, 'fleet.json'),
    policyFile: path.join(examples, 'policy.yaml'),
    exceptions: [path.join(examples, 'exceptions.yaml')],
    now: NOW,
  })
  assert.deepEqual(fromFiles, report)

  const euOnly = await scan({ inventory: path.join(examples, 'fleet.json'), regions: ['eu-west-1'], now: NOW })
  assert.ok(euOnly.findings.length > 0)
  assert.ok(euOnly.findings.every((f) => f.region === 'eu-west-1'))
  const otherAccount = await scan({ inventory: path.join(examples, 'fleet.json'), accounts: ['999999999999'], now: NOW })
  assert.equal(otherAccount.findings.length, 0)
})

test('YAML inventories are read too', async () => {
  const file = tempFile('inventory.yaml', `schema_version: 1\nkeys:\n  - arn: arn:aws:kms:us-east-1:111122223333:key/k1\n    key_manager: CUSTOMER\n    key_spec: SYMMETRIC_DEFAULT\n    origin: AWS_KMS\n    key_state: Enabled\n    rotation: {enabled: true, period_days: 365}\n`)
  const report = await scan({ inventory: file, now: NOW })
  assert.deepEqual(report.findings.map((f) => f.status), ['pass'])
})

test('render: every format the core offers; json is the report itself', async () => {
  assert.deepEqual(formats(), ['json', 'ndjson', 'csv', 'markdown', 'asff', 'sarif', 'ocsf', 'html'])
  const report = await scan({ records: smallFleet(), now: NOW })
  for (const format of formats()) assert.equal(typeof render({ report, format }), 'string')
  assert.deepEqual(JSON.parse(render({ report, format: 'json' })), report)
  assert.deepEqual(JSON.parse(render({ report })), report)
  const lines = render({ report, format: 'ndjson' }).trimEnd().split('\n')
  assert.equal(lines.length, report.findings.length)
  assert.deepEqual(lines.map((l) => JSON.parse(l)), report.findings)
})

test('render: csv is a header and a row per finding; markdown lists the keys that need attention', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const rows = render({ report, format: 'csv' }).trimEnd().split('\r\n').join('\n').split('\n')
  assert.match(rows[0], /^account_id,region,key_id,arn,aliases,status,reason,severity,message,/)
  assert.equal(rows.length, report.findings.length + 1)
  const markdown = render({ report, format: 'markdown' })
  assert.match(markdown, /^# KMS key rotation: /)
  for (const f of report.findings.filter((f) => f.status === 'fail')) assert.ok(markdown.includes(f.key_id), f.key_id)
})

test('render: sarif has a result per key that needs attention; ocsf a compliance finding per key', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const sarif = JSON.parse(render({ report, format: 'sarif' }))
  assert.equal(sarif.version, '2.1.0')
  const attention = report.findings.filter((f) => ['fail', 'error', 'exempt'].includes(f.status))
  assert.deepEqual(sarif.runs[0].results.map((r) => r.locations[0].physicalLocation.artifactLocation.uri), attention.map((f) => f.arn))
  const ocsf = JSON.parse(render({ report, format: 'ocsf' }))
  assert.equal(ocsf.length, report.findings.length)
  for (const [i, f] of report.findings.entries()) {
    assert.equal(ocsf[i].class_uid, 2003)
    assert.equal(ocsf[i].resources[0].uid, f.arn)
    assert.deepEqual(ocsf[i].compliance.requirements, f.controls)
  }
})

test('render: html is one page with a row per finding and the fix for each failing key', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const html = render({ report, format: 'html' })
  assert.match(html, /^<!DOCTYPE html>\n/)
  assert.equal(html.match(/<tr data-status=/g).length, report.findings.length)
  for (const f of report.findings.filter((f) => f.status === 'fail')) {
    assert.ok(html.includes(`<code>aws kms enable-key-rotation --key-id ${f.remediation_target} `), f.arn)
  }
})

test('render: a plan in every plan format, or into a file', async () => {
  assert.deepEqual(formats('plan'), ['json', 'table', 'script'])
  const report = await scan({ records: smallFleet(), now: NOW })
  const planned = await plan({ report, now: NOW })
  assert.deepEqual(JSON.parse(render({ plan: planned })), planned)
  assert.match(render({ plan: planned, format: 'table' }), /3 action\(s\)/)
  assert.match(render({ plan: planned, format: 'script' }), /aws kms enable-key-rotation/)
  const output = tempFile('plan.json', '')
  assert.equal(render({ plan: planned, output }), '')
  assert.deepEqual(JSON.parse(readFileSync(output, 'utf8')), planned)
  assert.throws(() => render({ plan: planned, format: 'ndjson' }), { code: 'InvalidInput', field: 'format' })
  assert.throws(() => render({ report, plan: planned }), { code: 'InvalidInput' })
})

test('a report survives a round trip through its JSON', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  const again = JSON.parse(JSON.stringify(report))
  assert.equal(render({ report: again }), render({ report }))
})

test('scans run concurrently', async () => {
  const many = Array.from({ length: 5000 }, (_, i) => ({
    ...smallFleet()[i % 6],
    arn: `arn:aws:kms:us-east-1:111122223333:key/k${i}`,
  }))
  const reports = await Promise.all([scan({ records: many, now: NOW }), scan({ records: many, now: NOW })])
  assert.equal(reports[0].findings.length, 5000)
  assert.deepEqual(reports[0].summary, reports[1].summary)
})
