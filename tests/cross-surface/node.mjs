// The cross-surface scenario through the Node binding: scan, plan, apply and rollback against
// the KMS test server at argv[2], writing each result as JSON into the directory argv[3].
// Run by bindings-python/tests/test_cross_surface.py; KMS_ROTATION_NODE is the binding's dir.
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const [endpointUrl, out, examples] = process.argv.slice(2)
const k = createRequire(import.meta.url)(join(process.env.KMS_ROTATION_NODE, 'index.js'))
const scan = {
  endpointUrl,
  regions: ['us-east-1', 'eu-west-1'],
  policyFile: join(examples, 'policy.yaml'),
  exceptions: [join(examples, 'exceptions.yaml')],
  now: '2026-12-01T00:00:00Z',
}
const save = (name, value) => writeFileSync(join(out, `${name}.json`), JSON.stringify(value))
save('report', await k.scan(scan))
const plan = await k.plan({ scan })
save('plan', plan)
const journal = join(out, 'journal.ndjson')
const fast = { endpointUrl, verifyDelayMs: 1 }
save('apply', await k.apply({ plan, journal, dryRun: false, ...fast }))
save('rollback', await k.rollback({ journal, dryRun: false, ...fast }))
