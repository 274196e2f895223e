// Scans the sample fleet (examples/fleet.json) under the sample policy and exceptions, prints a
// summary and the failing keys, and exits 1 when the fleet is not compliant (2 on bad input),
// like the CLI's gate.
//
//   node examples/node/scan-fleet.mjs [INVENTORY] [--now 2026-06-01T00:00:00Z]
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { loadPolicy, scan } from 'kms-rotation'

const here = path.dirname(fileURLToPath(import.meta.url))
const examples = path.join(here, '..')
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { now: { type: 'string' } },
})
const inventory = positionals[0] ?? path.join(examples, 'fleet.json')

try {
  const policy = loadPolicy(path.join(examples, 'policy.yaml'), {
    exceptions: [path.join(examples, 'exceptions.yaml')],
  })
  const report = await scan({
    inventory,
    policy,
    now: values.now ?? '2026-06-01T00:00:00Z',
    onProgress: ({ keysRead }) => process.stderr.write(`read ${keysRead} keys\n`),
  })
  const counts = report.summary.by_status
  console.log(`keys: ${counts.total}`)
  for (const status of ['pass', 'fail', 'not_applicable', 'exempt', 'error']) {
    console.log(`${status}: ${counts[status]}`)
  }
  console.log(`compliant: ${report.summary.compliant}`)
  for (const finding of report.findings.filter((f) => f.status === 'fail')) {
    const name = finding.aliases?.[0] ?? finding.arn
    console.log(`  ${finding.reason} (${name})`)
  }
  process.exitCode = report.summary.compliant ? 0 : 1
} catch (err) {
  // err.code is the error kind; file/line/field say where bad input is.
  console.error(`${err.code}: ${err.message}`)
  process.exitCode = err.code === 'InvalidInput' || err.code === 'NotFound' ? 2 : 3
}
