// Plans the remediation of the sample fleet (examples/fleet.json under the sample policy and
// exceptions): scans it offline, plans, prints the plan as a table, and saves the plan file that
// `apply` reads when given a path.
//
//   node examples/node/plan-fleet.mjs [PLAN.json] [--region eu-west-1]
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { plan, render } from 'kms-rotation'

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { region: { type: 'string', multiple: true } },
})

try {
  const planned = await plan({
    // Scan first: the inventory source reads the file, no AWS call.
    scan: {
      inventory: path.join(examples, 'fleet.json'),
      policyFile: path.join(examples, 'policy.yaml'),
      exceptions: [path.join(examples, 'exceptions.yaml')],
      now: '2026-06-01T00:00:00Z',
    },
    selection: { include: { regions: values.region ?? [] } },
    now: '2026-06-01T00:00:00Z',
  })
  process.stdout.write(render({ plan: planned, format: 'table' }))
  if (positionals[0]) {
    render({ plan: planned, output: positionals[0] })
    console.log(`plan written to ${positionals[0]}`)
  }
} catch (err) {
  console.error(`${err.code}: ${err.message}`)
  process.exitCode = 2
}
