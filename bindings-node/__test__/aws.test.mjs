// scan() against AWS semantics on 127.0.0.1: the project's KMS test server (KMS_TEST_SERVER_BIN)
// and moto (KMS_ROTATION_MOTO_URL). Skipped with a note when a server is not configured, except
// in CI, where that fails.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { scan, sendToSecurityHub } from 'kms-rotation'
import {
  ACCOUNT, NOW, expectedSmallFleet, motoKms, motoUrl, resetMoto, smallFleet, startTestServer, verdicts,
} from './helpers.mjs'

// Few, quick retries: failure paths take milliseconds.
const quick = { maxAttempts: 2, initialBackoffMs: 10, operationAttemptTimeoutMs: 5000, operationTimeoutMs: 10000 }

describe('the KMS test server', () => {
  let server
  before(async () => {
    server = await startTestServer(smallFleet())
  })
  after(async () => server?.stop())

  test('findings follow the rule, across regions, with progress', async (t) => {
    if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
    const progress = []
    const report = await scan({
      endpointUrl: server.url,
      regions: ['us-east-1', 'eu-west-1'],
      now: NOW,
      onProgress: (p) => progress.push(p),
      ...quick,
    })
    assert.equal(report.scope.source, 'aws')
    assert.deepEqual(report.scope.accounts, [ACCOUNT])
    assert.deepEqual(report.scope.regions, ['eu-west-1', 'us-east-1'])
    assert.deepEqual(verdicts(report.findings), expectedSmallFleet)
    assert.equal(report.summary.complete, true)
    const denied = report.findings.find((f) => f.status === 'error')
    assert.equal(denied.error.code, 'AccessDeniedException')
    assert.equal(denied.error.operation, 'GetKeyRotationStatus')
    assert.ok(progress.length >= 1)
    assert.deepEqual(progress.at(-1), { keysListed: 6, keysRead: 6 })
  })

  test('the policy decides: a longer maximum passes the 730-day key', async (t) => {
    if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
    const report = await scan({
      endpointUrl: server.url,
      regions: ['us-east-1'],
      policy: { max_rotation_period_days: 730 },
      now: NOW,
      ...quick,
    })
    assert.equal(verdicts(report.findings)['00000000-0000-4000-8000-000000000003'][0], 'pass')
    assert.ok(report.findings.every((f) => f.region === 'us-east-1'))
  })

  test('a region that cannot be listed is a scope error, not a rejection', async (t) => {
    if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
    // Nothing listens on port 9: the region's ListKeys fails after retries.
    const report = await scan({ endpointUrl: 'http://127.0.0.1:9', regions: ['us-east-1'], now: NOW, ...quick, maxAttempts: 1 })
    assert.equal(report.summary.complete, false)
    assert.equal(report.scope_errors.length, 1)
    assert.equal(report.scope_errors[0].region, 'us-east-1')
  })
})

describe('the KMS test server with latency', () => {
  let server
  before(async () => {
    server = await startTestServer(smallFleet(), ['--latency-ms', '150'])
  })
  after(async () => server?.stop())

  test('a scan never blocks the event loop', async (t) => {
    if (!server) return t.skip('KMS_TEST_SERVER_BIN is not set')
    let ticks = 0
    const timer = setInterval(() => ticks++, 5)
    const started = Date.now()
    const report = await scan({ endpointUrl: server.url, regions: ['us-east-1'], now: NOW, ...quick })
    clearInterval(timer)
    const elapsed = Date.now() - started
    assert.equal(report.findings.length, 5)
    assert.ok(elapsed >= 150, `${elapsed} ms`)
    // The timer kept firing while the scan waited on the server.
    assert.ok(ticks >= Math.floor(elapsed / 5 / 4), `${ticks} ticks in ${elapsed} ms`)
  })
})

describe('moto', () => {
  const url = motoUrl()

  test('keys created in moto are judged by the rule', async (t) => {
    if (!url) return t.skip('KMS_ROTATION_MOTO_URL is not set')
    await resetMoto(url)
    const create = async (region, body = {}) => (await motoKms(url, region, 'CreateKey', body)).KeyMetadata.KeyId
    const off = await create('us-east-1')
    const on = await create('us-east-1')
    await motoKms(url, 'us-east-1', 'EnableKeyRotation', { KeyId: on })
    const rsa = await create('us-east-1', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })
    const eu = await create('eu-west-1')
    await motoKms(url, 'us-east-1', 'CreateAlias', { AliasName: 'alias/payments', TargetKeyId: off })

    const report = await scan({ endpointUrl: url, regions: ['us-east-1', 'eu-west-1'], now: NOW, ...quick })
    const v = verdicts(report.findings)
    assert.deepEqual(v[off], ['fail', 'rotation_disabled'])
    assert.deepEqual(v[on], ['pass', 'rotation_enabled'])
    assert.deepEqual(v[rsa], ['not_applicable', 'unsupported_key_spec'])
    assert.deepEqual(v[eu], ['fail', 'rotation_disabled'])
    const payments = report.findings.find((f) => f.key_id === off)
    assert.deepEqual(payments.aliases, ['alias/payments'])
    // moto reports no rotation period: the rule assumes AWS's default, and says so.
    assert.equal(report.findings.find((f) => f.key_id === on).period_source, 'assumed_default')
  })

  test('organization options cross to the core: discovery on moto, a shard, checks naming the field', async (t) => {
    if (!url) return t.skip('KMS_ROTATION_MOTO_URL is not set')
    await resetMoto(url)
    await assert.rejects(scan({ organization: true, regions: ['us-east-1'], endpointUrl: url, ...quick }),
      { code: 'InvalidInput', field: 'org_role_name' })
    await assert.rejects(
      scan({ organization: true, orgRoleName: 'scanner', includeOus: ['ou-x'], regions: ['us-east-1'], endpointUrl: url, ...quick }),
      { code: 'InvalidInput', field: 'include_ous[0]' })
    const res = await fetch(url + '/', {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'AWSOrganizationsV20161128.CreateOrganization',
        Authorization: 'AWS4-HMAC-SHA256 Credential=testing/20260601/us-east-1/organizations/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ FeatureSet: 'ALL' }),
    })
    assert.ok(res.ok, `CreateOrganization: ${res.status}`)
    const key = (await motoKms(url, 'us-east-1', 'CreateKey', {})).KeyMetadata.Arn
    const options = { organization: true, orgRoleName: 'kms-rotation-scanner', excludeAccounts: ['999999999999'], regions: ['us-east-1'], endpointUrl: url, ...quick }
    const report = await scan(options)
    assert.deepEqual(report.scope.accounts, ['123456789012'])
    assert.deepEqual(report.findings.map((f) => f.arn), [key])
    assert.deepEqual(report.scope_errors, [])
    const half = await scan({ ...options, shard: '1/2' })
    assert.equal(half.scope.shard, '1/2')
  })

  test('sendToSecurityHub imports every finding into moto, and again as an update', async (t) => {
    if (!url) return t.skip('KMS_ROTATION_MOTO_URL is not set')
    await resetMoto(url)
    await motoKms(url, 'us-east-1', 'CreateKey', {})
    await motoKms(url, 'us-east-1', 'CreateKey', {})
    const report = await scan({ endpointUrl: url, regions: ['us-east-1'], ...quick })
    const sent = await sendToSecurityHub({ report, endpointUrl: url, ...quick })
    assert.deepEqual(sent, { findings: 2, imported: 2, failed: [], calls: 1, complete: true })
    assert.deepEqual(await sendToSecurityHub({ report, endpointUrl: url, ...quick }), sent)
  })
})

test('sendToSecurityHub refuses a role of another account before any call', async () => {
  const report = await scan({ records: smallFleet(), now: NOW })
  await assert.rejects(
    sendToSecurityHub({ report, roleArn: 'arn:aws:iam::999999999999:role/importer', endpointUrl: 'http://127.0.0.1:9' }),
    { code: 'InvalidInput', field: 'report.findings[0].account_id' },
  )
  await assert.rejects(sendToSecurityHub({ endpointUrl: 'http://127.0.0.1:9' }), { code: 'InvalidInput', field: 'report' })
})

test('scan rejects before any call when AWS options are invalid', async () => {
  await assert.rejects(scan({ regions: ['us-east-1'], endpointUrl: 'ftp://127.0.0.1', ...quick }), { code: 'InvalidInput' })
  await assert.rejects(scan({ regions: ['us-east-1'], maxAttempts: 0, endpointUrl: 'http://127.0.0.1:9' }), { code: 'InvalidInput', field: 'max_attempts' })
  await assert.rejects(
    scan({ regions: ['us-east-1'], rates: ['describe-key=0'], endpointUrl: 'http://127.0.0.1:9' }),
    { code: 'InvalidInput', field: 'rate_limits.describe_key' },
  )
  await assert.rejects(
    scan({ regions: ['us-east-1'], rates: ['describe_key=100'], endpointUrl: 'http://127.0.0.1:9' }),
    { code: 'InvalidInput', message: /OPERATION=REQUESTS_PER_SECOND/ },
  )
})
