// The Node example in examples/node runs and prints what its comment says.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

import { examples, here } from './helpers.mjs'

const run = promisify(execFile)
const script = path.join(examples, 'node', 'scan-fleet.mjs')

// What `npm install` in examples/node does (its package.json depends on file:../../bindings-node).
function linkPackage() {
  const modules = path.join(examples, 'node', 'node_modules')
  const link = path.join(modules, 'kms-rotation')
  if (!existsSync(link)) {
    mkdirSync(modules, { recursive: true })
    symlinkSync(path.resolve(here, '..'), link, 'dir')
  }
}

async function exitOf(args) {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args])
    return { code: 0, stdout, stderr }
  } catch (err) {
    return { code: err.code, stdout: err.stdout, stderr: err.stderr }
  }
}

test('scan-fleet prints the summary of the sample fleet and exits 1 (not compliant)', async () => {
  linkPackage()
  const { code, stdout, stderr } = await exitOf([])
  assert.equal(code, 1, stderr)
  const lines = stdout.split('\n')
  for (const line of ['keys: 22', 'fail: 7', 'exempt: 1', 'error: 2', 'compliant: false']) {
    assert.ok(lines.includes(line), `${line} missing from:\n${stdout}`)
  }
  assert.match(stdout, /rotation_period_exceeds_policy \(alias\/reports\)/)
  assert.match(stderr, /read 22 keys/)
})

test('scan-fleet reports bad input with its code and exits 2', async () => {
  linkPackage()
  const { code, stderr } = await exitOf(['/nonexistent/fleet.json'])
  assert.equal(code, 2)
  assert.match(stderr, /^NotFound: .*\/nonexistent\/fleet\.json/)
})
