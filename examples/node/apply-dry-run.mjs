// Applies the sample fleet's plan as a dry run: what would change, with no AWS call and no
// journal. `apply` is a dry run unless it is given `dryRun: false` (and then it needs a journal).
//
//   node examples/node/apply-dry-run.mjs
import { fileURLToPath } from 'node:url'
import path from 'node:path'

import { apply, plan } from 'kms-rotation'

const examples = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')

try {
  const planned = await plan({
    scan: {
      inventory: path.join(examples, 'fleet.json'),
      policyFile: path.join(examples, 'policy.yaml'),
      exceptions: [path.join(examples, 'exceptions.yaml')],
      now: '2026-06-01T00:00:00Z',
    },
  })
  const outcome = await apply({ plan: planned })
  console.log(`dry run: ${outcome.dry_run}`)
  for (const result of outcome.results) {
    console.log(`${result.status} ${result.target_arn}`)
  }
  console.log('to make these changes: apply({ plan, journal: "run.ndjson", dryRun: false })')
} catch (err) {
  console.error(`${err.code}: ${err.message}`)
  process.exitCode = 2
}
