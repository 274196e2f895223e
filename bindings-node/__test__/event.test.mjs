// event, its Lambda handler (`kms-rotation/lambda`) and baseline: a KMS CloudTrail event
// re-checks the keys it touches (against the project's KMS test server), an unrelated event is
// ignored, a malformed one rejected naming the field; the handler only converts its environment.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { baseline, event } from 'kms-rotation'
import { handler } from 'kms-rotation/lambda'

import { ACCOUNT, examples, startTestServer, tempFile, writeCalls } from './helpers.mjs'

const events = path.join(examples, 'events')
const sample = (name) => JSON.parse(readFileSync(path.join(events, `${name}.json`), 'utf8'))
const fleet = () =>
  JSON.parse(readFileSync(path.join(examples, 'fleet.json'), 'utf8')).keys.filter((k) => k.arn.split(':')[4] === ACCOUNT)
const ROTATION_OFF = `arn:aws:kms:us-east-1:${ACCOUNT}:key/00000002-0000-4000-8000-000000000002`
const SETTINGS = ['REMEDIATE', 'DRY_RUN', 'JOURNAL', 'POLICY', 'ROLE_ARN', 'ENDPOINT_URL'].map((n) => `KMS_ROTATION_${n}`)

/** Runs `body` with the handler's variables set to `env` only, restoring them after. */
async function withEnv(env, body) {
  const saved = Object.fromEntries(SETTINGS.map((name) => [name, process.env[name]]))
  for (const name of SETTINGS) delete process.env[name]
  Object.assign(process.env, env)
  try {
    return await body()
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

test('event re-checks the key the event names, and ignores or refuses the others', async (t) => {
  const server = await startTestServer(fleet())
  if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
  try {
    const outcome = await event({ event: sample('disable-key-rotation'), scan: { endpointUrl: server.url } })
    assert.equal(outcome.ignored, null)
    assert.equal(outcome.event_name, 'DisableKeyRotation')
    assert.deepEqual(
      outcome.report.findings.map((f) => [f.arn, f.status, f.reason]),
      [[ROTATION_OFF, 'fail', 'rotation_disabled']],
    )
    const replicated = await event({ eventFile: path.join(events, 'replicate-key.json'), scan: { endpointUrl: server.url } })
    assert.equal(replicated.report.findings.length, 2)

    const ignored = await event({ event: sample('unrelated') })
    assert.match(ignored.ignored, /aws\.s3/)
    assert.equal(ignored.report, null)
    await assert.rejects(event({ event: sample('malformed') }), (err) => {
      assert.equal(err.code, 'InvalidInput')
      assert.equal(err.field, 'event.detail.requestParameters.keyId')
      return true
    })
    assert.deepEqual(writeCalls(await server.calls()), [])
  } finally {
    await server.stop()
  }
})

test('the Lambda handler re-checks with a dry run unless configured to write', async (t) => {
  const server = await startTestServer(fleet())
  if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
  try {
    const journal = path.join(path.dirname(tempFile('x', '')), 'event-journal.ndjson')
    await withEnv({ KMS_ROTATION_ENDPOINT_URL: server.url }, async () => {
      const outcome = await handler(sample('disable-key-rotation'), {})
      assert.equal(outcome.report.findings[0].arn, ROTATION_OFF)
      assert.equal(outcome.remediation, null)
      assert.ok((await handler(sample('unrelated'), {})).ignored)
    })
    await withEnv({ KMS_ROTATION_ENDPOINT_URL: server.url, KMS_ROTATION_REMEDIATE: 'true', KMS_ROTATION_JOURNAL: journal }, async () => {
      const dry = await handler(sample('disable-key-rotation'), {})
      assert.equal(dry.remediation.dry_run, true)
      assert.ok(!existsSync(journal))
      assert.deepEqual(writeCalls(await server.calls()), [])
    })
    await withEnv(
      { KMS_ROTATION_ENDPOINT_URL: server.url, KMS_ROTATION_REMEDIATE: 'true', KMS_ROTATION_DRY_RUN: 'false', KMS_ROTATION_JOURNAL: journal },
      async () => {
        const outcome = await handler(sample('disable-key-rotation'), {})
        assert.deepEqual(outcome.remediation.results.map((r) => r.status), ['remediated'])
        assert.deepEqual(writeCalls(await server.calls()).map((c) => c.operation), ['EnableKeyRotation'])
        assert.ok(readFileSync(journal, 'utf8').includes(ROTATION_OFF))
      },
    )
    await withEnv({ KMS_ROTATION_REMEDIATE: 'true', KMS_ROTATION_DRY_RUN: 'maybe' }, async () => {
      await assert.rejects(handler(sample('disable-key-rotation'), {}), (err) => err.field === 'dry_run')
    })
  } finally {
    await server.stop()
  }
})

test('baseline generates each document', () => {
  const template = JSON.parse(baseline())
  const kinds = new Set(Object.values(template.Resources).map((r) => r.Type))
  for (const kind of ['AWS::Config::ConfigRule', 'AWS::Config::RemediationConfiguration', 'AWS::Events::Rule']) {
    assert.ok(kinds.has(kind), kind)
  }
  const pack = JSON.parse(baseline({ format: 'conformance-pack' }))
  assert.equal(pack.Resources.KeyRotationRemediation.Properties.TargetId, 'AWSConfigRemediation-EnableKeyRotation')
  assert.match(baseline({ format: 'terraform' }), /rotation_period_in_days {2}= 365/)
  assert.throws(() => baseline({ format: 'yaml' }), (err) => err.code === 'InvalidInput' && err.field === 'format')
})
