// The Node examples in examples/node run offline over the sample fleet and print what their
// comments say.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { examples, here, tempFile } from './helpers.mjs'

const run = promisify(execFile)

// What `npm install` in examples/node does (its package.json depends on file:../../bindings-node).
function linkPackage() {
  const modules = path.join(examples, 'node', 'node_modules')
  const link = path.join(modules, 'kms-rotation')
  if (!existsSync(link)) {
    mkdirSync(modules, { recursive: true })
    symlinkSync(path.resolve(here, '..'), link, 'dir')
  }
}

async function exitOf(script, args = []) {
  linkPackage()
  // No AWS endpoint at all: an example that tried to call AWS would fail.
  const env = { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' }
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(examples, 'node', script), ...args], { env })
    return { code: 0, stdout, stderr }
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

test('scan-fleet prints the summary of the sample fleet and exits 1 (not compliant)', async () => {
  const { code, stdout, stderr } = await exitOf('scan-fleet.mjs')
  assert.equal(code, 1, stderr)
  const lines = stdout.split('\n')
  for (const line of ['keys: 22', 'fail: 7', 'exempt: 1', 'error: 2', 'compliant: false']) {
    assert.ok(lines.includes(line), `${line} missing from:\n${stdout}`)
  }
  assert.match(stdout, /rotation_period_exceeds_policy \(alias\/reports\)/)
  assert.match(stderr, /read 22 keys/)
})

test('scan-fleet reports bad input with its code and exits 2', async () => {
  const { code, stderr } = await exitOf('scan-fleet.mjs', ['/nonexistent/fleet.json'])
  assert.equal(code, 2)
  assert.match(stderr, /^NotFound: .*\/nonexistent\/fleet\.json/)
})

test('plan-fleet prints the plan table and saves the plan file', async () => {
  const output = tempFile('plan.json', '')
  const { code, stdout, stderr } = await exitOf('plan-fleet.mjs', [output])
  assert.equal(code, 0, stderr)
  assert.match(stdout, /^5 action\(s\) in 1 batch\(es\), rotation period 365 days/)
  assert.match(stdout, /key\/00000002-0000-4000-8000-000000000002/)
  const saved = JSON.parse(readFileSync(output, 'utf8'))
  assert.equal(saved.actions.length, 5)
  const eu = await exitOf('plan-fleet.mjs', ['--region', 'eu-west-1'])
  assert.match(eu.stdout, /^1 action\(s\)/)
})

test('apply-dry-run lists what would change, calling nothing', async () => {
  const { code, stdout, stderr } = await exitOf('apply-dry-run.mjs')
  assert.equal(code, 0, stderr)
  assert.match(stdout, /^dry run: true$/m)
  const would = stdout.split('\n').filter((l) => l.startsWith('would_remediate '))
  assert.equal(would.length, 5)
})

test('rollback-dry-run lists what would be undone from its journal', async () => {
  const { code, stdout, stderr } = await exitOf('rollback-dry-run.mjs')
  assert.equal(code, 0, stderr)
  assert.match(stdout, /^dry run: true$/m)
  const would = stdout.split('\n').filter((l) => l.startsWith('would_roll_back '))
  assert.equal(would.length, 2)
  assert.ok(would.every((l) => l.endsWith('-> disabled')), stdout)
  const missing = await exitOf('rollback-dry-run.mjs', ['/nonexistent/journal.ndjson'])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /^NotFound: /)
})
