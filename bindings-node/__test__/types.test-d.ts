// Compiled with `tsc --noEmit` (npm run test:types): the typings describe what the addon does,
// and misuse fails to compile (each `@ts-expect-error` must be an error).
import {
  apply,
  evaluate,
  planRemediation,
  rollback,
  formats,
  loadExceptions,
  loadPolicy,
  render,
  scan,
  type ErrorCode,
  type Exception,
  type Finding,
  type Inventory,
  type KeyRecord,
  type KmsRotationError,
  type ApplyOutcome,
  type Plan,
  type RollbackOutcome,
  type PolicyDocument,
  type Report,
  type ReportFormat,
  type ScanOptions,
  type ScanProgress,
  type RemediationProgress,
} from 'kms-rotation'

const record: KeyRecord = {
  arn: 'arn:aws:kms:us-east-1:111122223333:key/k1',
  key_manager: 'CUSTOMER',
  key_spec: 'SYMMETRIC_DEFAULT',
  origin: 'AWS_KMS',
  key_state: 'Enabled',
  rotation: { enabled: true, period_days: 365 },
}
const inventory: Inventory = { schema_version: 1, keys: [record] }
const policy: PolicyDocument = {
  max_rotation_period_days: 365,
  exceptions: [{ match: { tag: { key: 'k', value: 'v' } }, owner: 'o', reason: 'r', expires: '2027-01-01' }],
}

const findings: Finding[] = evaluate(inventory.keys, policy, new Date())
evaluate([record])
evaluate([record], null, '2026-06-01T00:00:00Z')
const status: 'pass' | 'fail' | 'not_applicable' | 'exempt' | 'error' = findings[0].status
const target: string | null = findings[0].remediation_target

const loaded: PolicyDocument = loadPolicy('policy.yaml', { exceptions: ['exceptions.yaml'] })
const exceptions: Exception[] = loadExceptions('exceptions.yaml')
const fmts: ReportFormat[] = formats()

async function main(): Promise<void> {
  const options: ScanOptions = {
    inventory: 'fleet.json',
    policy: loaded,
    regions: ['us-east-1'],
    now: new Date(),
    onProgress: (p: ScanProgress) => void (p.keysListed + p.keysRead),
  }
  const report: Report = await scan(options)
  await scan({ endpointUrl: 'http://127.0.0.1:4566', roleArns: [], rateLimits: { describeKey: 100 }, maxAttempts: 2 })
  const compliant: boolean = report.summary.compliant
  const fails: number = report.summary.by_status.fail
  const text: string = render(report, 'ndjson')
  void [compliant, fails, text, report.scope_errors[0]?.code]

  const plan: Plan = planRemediation(report, { include: { regions: ['us-east-1'] }, targetPeriodDays: 365 })
  const applied: ApplyOutcome = await apply(plan, { journal: 'journal.ndjson', aws: { endpointUrl: 'http://127.0.0.1:1' } })
  const undone: RollbackOutcome = await rollback('journal.ndjson', { dryRun: true })
  const watched: ApplyOutcome = await apply(plan, {
    dryRun: true,
    onProgress: (p: RemediationProgress) => void (p.done / p.total),
    throwOnFailure: true,
  })
  await rollback('journal.ndjson', { onProgress: (p) => void p.done, throwOnFailure: false })
  void watched
  const action: 'enable_rotation' = plan.actions[0].action
  void [applied.results[0]?.status, undone.results[0]?.restore.enabled, action]
  const journalError: string | null = applied.journal_error
  const warnings: string[] = undone.journal_warnings
  const possibly: boolean | undefined = undone.results[0]?.possibly_applied
  void [journalError, warnings, possibly, undone.journal_error]

  try {
    await scan({ inventory: 'missing.json' })
  } catch (e) {
    const err = e as KmsRotationError
    const code: ErrorCode = err.code
    const where: string | undefined = err.field ?? err.file ?? err.keyArn ?? err.requestId
    void [code, where, err.line]
  }
}

// @ts-expect-error: options are camelCase
void scan({ endpoint_url: 'http://127.0.0.1:1' })
// @ts-expect-error: a key record needs its ARN
evaluate([{ key_spec: 'SYMMETRIC_DEFAULT' }])
// @ts-expect-error: AWS's spelling of key specs
evaluate([{ ...record, key_spec: 'symmetric_default' }])
// @ts-expect-error: policy documents are snake_case, like the file
evaluate([record], { maxRotationPeriodDays: 365 })
// @ts-expect-error: apply needs its options (the journal, or dryRun)
void apply({} as Plan)
// @ts-expect-error: progress has `done` and `total`, not scan's counts
void apply({} as Plan, { dryRun: true, onProgress: (p) => void p.keysRead })
// @ts-expect-error: scan returns a Promise
const notAwaited: Report = scan({})

void [status, target, exceptions, fmts, main, notAwaited]
