// Previews the rollback of a run from its journal: which keys would get their old rotation
// setting back, with no AWS call. A dry run only reads the journal; here it is a tiny journal
// written to a temporary directory, as if an apply had enabled rotation on two sample keys.
//
//   node examples/node/rollback-dry-run.mjs [JOURNAL.ndjson]
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

import { rollback } from 'kms-rotation'

function sampleJournal() {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'kms-rotation-example-')), 'journal.ndjson')
  const at = '2026-06-01T12:00:00Z'
  // Two keys of the sample fleet whose rotation the plan turns on (see plan-fleet.mjs).
  const lines = [
    'arn:aws:kms:us-east-1:111122223333:key/00000002-0000-4000-8000-000000000002',
    'arn:aws:kms:eu-west-1:111122223333:key/00000012-0000-4000-8000-000000000012',
  ].flatMap((target_arn) => {
    return [
      { at, run_id: 'example-run', target_arn, event: 'before', state: { enabled: false, period_days: null }, target: { enabled: true, period_days: 365 }, error: null },
      { at, run_id: 'example-run', target_arn, event: 'after', state: { enabled: true, period_days: 365 }, error: null },
      { at, run_id: 'example-run', target_arn, event: 'verified', state: { enabled: true, period_days: 365 }, error: null },
    ]
  })
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
  return file
}

try {
  const journal = process.argv[2] ?? sampleJournal()
  const outcome = await rollback({ journal })
  console.log(`dry run: ${outcome.dry_run}`)
  for (const result of outcome.results) {
    const restore = result.restore.enabled ? `enabled, ${result.restore.period_days ?? 365} days` : 'disabled'
    console.log(`${result.status} ${result.target_arn} -> ${restore}`)
  }
  console.log('to undo them: rollback({ journal, dryRun: false })')
} catch (err) {
  console.error(`${err.code}: ${err.message}`)
  process.exitCode = 2
}
