// Shared test helpers: fixtures, and the local KMS servers (never anything but 127.0.0.1).
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const here = path.dirname(fileURLToPath(import.meta.url))
export const root = path.resolve(here, '..', '..')
export const examples = path.join(root, 'examples')
export const NOW = '2026-06-01T00:00:00Z'

// Dummy credentials; no instance metadata lookups (169.254.169.254 is not loopback).
process.env.AWS_ACCESS_KEY_ID ??= 'testing'
process.env.AWS_SECRET_ACCESS_KEY ??= 'testing'
process.env.AWS_REGION ??= 'us-east-1'
process.env.AWS_EC2_METADATA_DISABLED = 'true'
delete process.env.AWS_PROFILE
delete process.env.AWS_ENDPOINT_URL
delete process.env.AWS_ENDPOINT_URL_KMS

export const ACCOUNT = '111122223333'
export const arn = (region, id, account = ACCOUNT) => `arn:aws:kms:${region}:${account}:key/${id}`

/** A key record of the formats.md shape: an enabled customer symmetric key, then `extra`. */
export function record(region, id, extra = {}) {
  return {
    arn: arn(region, id),
    key_manager: 'CUSTOMER',
    key_spec: 'SYMMETRIC_DEFAULT',
    key_usage: 'ENCRYPT_DECRYPT',
    origin: 'AWS_KMS',
    key_state: 'Enabled',
    creation_date: '2024-01-01T00:00:00Z',
    rotation: null,
    ...extra,
  }
}

/** A small fleet whose findings are known, per rule.md. */
export function smallFleet() {
  const on = (days) => ({ enabled: true, period_days: days })
  return [
    record('us-east-1', '00000000-0000-4000-8000-000000000001', { rotation: on(365), aliases: ['alias/on'] }),
    record('us-east-1', '00000000-0000-4000-8000-000000000002', { rotation: { enabled: false }, aliases: ['alias/off'] }),
    record('us-east-1', '00000000-0000-4000-8000-000000000003', { rotation: on(730) }),
    record('us-east-1', '00000000-0000-4000-8000-000000000004', { key_spec: 'RSA_2048', key_usage: 'SIGN_VERIFY' }),
    record('us-east-1', '00000000-0000-4000-8000-000000000005', {
      errors: [{ operation: 'GetKeyRotationStatus', code: 'AccessDeniedException', message: 'denied' }],
    }),
    record('eu-west-1', '00000000-0000-4000-8000-000000000006', { rotation: { enabled: false } }),
  ]
}

export const expectedSmallFleet = {
  '00000000-0000-4000-8000-000000000001': ['pass', 'rotation_enabled'],
  '00000000-0000-4000-8000-000000000002': ['fail', 'rotation_disabled'],
  '00000000-0000-4000-8000-000000000003': ['fail', 'rotation_period_exceeds_policy'],
  '00000000-0000-4000-8000-000000000004': ['not_applicable', 'unsupported_key_spec'],
  '00000000-0000-4000-8000-000000000005': ['error', 'rotation_status_failed'],
  '00000000-0000-4000-8000-000000000006': ['fail', 'rotation_disabled'],
}

export function verdicts(findings) {
  return Object.fromEntries(findings.map((f) => [f.key_id, [f.status, f.reason]]))
}

export function tempFile(name, content) {
  const dir = mkdtempSync(path.join(tmpdir(), 'kms-rotation-node-'))
  const file = path.join(dir, name)
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  return file
}

function assertLoopback(url) {
  const host = new URL(url).hostname
  if (!['127.0.0.1', 'localhost'].includes(host)) {
    throw new Error(`${url} is not on 127.0.0.1: tests only talk to loopback servers`)
  }
  return url
}

/**
 * Starts the project's KMS test server (`KMS_TEST_SERVER_BIN`) seeded with `keys`; returns
 * `{ url, calls, stop }`, or null when the variable is not set (the test is then skipped, except
 * in CI). `calls()` reads the server's call log (`GET /_calls`), at any time: one `{ operation,
 * account_id, region, key_id, key_arn, status, error_code, write }` per request, in arrival order.
 */
export async function startTestServer(keys, args = []) {
  const bin = process.env.KMS_TEST_SERVER_BIN
  if (!bin) {
    if (process.env.CI) throw new Error('KMS_TEST_SERVER_BIN must be set in CI')
    return null
  }
  const inventory = tempFile('inventory.json', { schema_version: 1, keys })
  const child = spawn(bin, ['--inventory', inventory, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const lines = createInterface({ input: child.stdout })
  // The first stdout line is the URL, printed once the server listens.
  const url = await new Promise((resolve, reject) => {
    lines.once('line', resolve)
    child.once('error', reject)
    exited.then((code) => reject(new Error(`kms-test-server exited with ${code}`)))
  })
  lines.close()
  const base = assertLoopback(url.trim())
  return {
    url: base,
    calls: async () => {
      const res = await fetch(`${base}/_calls`)
      if (!res.ok) throw new Error(`GET /_calls: ${res.status}`)
      return res.json()
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill()
      await exited
    },
  }
}

/** The write calls (EnableKeyRotation, DisableKeyRotation) of a call log. */
export const writeCalls = (calls) => calls.filter((c) => c.write)

/** moto's URL (`KMS_ROTATION_MOTO_URL`), or null (skipped) when not set outside CI. */
export function motoUrl() {
  const url = process.env.KMS_ROTATION_MOTO_URL
  if (!url) {
    if (process.env.CI) throw new Error('KMS_ROTATION_MOTO_URL must be set in CI')
    return null
  }
  return assertLoopback(url.replace(/\/$/, ''))
}

/**
 * Calls a KMS operation on moto (AWS JSON 1.1; moto does not check signatures, and reads the
 * region from the credential scope).
 */
export async function motoKms(url, region, operation, body = {}) {
  const res = await fetch(url + '/', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `TrentService.${operation}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=testing/20260601/${region}/kms/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  })
  const json = await res.json()
  if (!res.ok) throw new Error(`${operation}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

export async function resetMoto(url) {
  const res = await fetch(url + '/moto-api/reset', { method: 'POST' })
  if (!res.ok) throw new Error(`moto reset: ${res.status}`)
}
