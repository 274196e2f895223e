// Compiled with `tsc --noEmit` (npm run test:types): the typings describe what the addon does,
// and misuse fails to compile (each `@ts-expect-error` must be an error).
import { handler } from 'kms-rotation/lambda'
import {
  apply,
  baseline,
  event,
  diff,
  diffAsync,
  evaluate,
  evaluateAsync,
  evaluateJson,
  evaluateJsonAsync,
  explain,
  iamPolicy,
  plan,
  rollback,
  formats,
  loadExceptions,
  loadPolicy,
  render,
  reviewExceptions,
  scan,
  sendToSecurityHub,
  type ApplyOptions,
  type ReportDiff,
  type ErrorCode,
  type ExceptionState,
  type ExceptionsReview,
  type Explanation,
  type Finding,
  type IamPolicy,
  type SecurityHubOutcome,
  type Inventory,
  type KeyRecord,
  type KmsRotationError,
  type ApplyOutcome,
  type Plan,
  type PlanFormat,
  type PlanOptions,
  type RollbackOutcome,
  type Policy,
  type PolicyException,
  type PolicyInput,
  type Report,
  type ReportFormat,
  type ScanOptions,
  type ScanProgress,
  type RemediationProgress,
  type WithProgress,
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
const policy: PolicyInput = {
  max_rotation_period_days: 365,
  exceptions: [{ match: { tag: { key: 'k', value: 'v' } }, owner: 'o', reason: 'r', expires: '2027-01-01' }],
}

const evaluated: Report = evaluate(inventory.keys, policy, new Date())
const findings: Finding[] = evaluated.findings
evaluate([record])
evaluate([record], null, '2026-06-01T00:00:00Z')
const reportText: string = evaluateJson(JSON.stringify(inventory), policy)
evaluateJson(Buffer.from('[]'))
const status: 'pass' | 'fail' | 'not_applicable' | 'exempt' | 'error' = findings[0].status
const target: string | null = findings[0].remediation_target

// What the tool writes goes where it reads: a loaded `Policy` is a `PolicyInput`.
const loaded: Policy = loadPolicy('policy.yaml', { exceptions: ['exceptions.yaml'] })
const exceptions: PolicyException[] = loadExceptions('exceptions.yaml')
const explained: Explanation[] = explain({ reason: 'rotation_disabled' })
const statuses: ('pass' | 'fail' | 'not_applicable' | 'exempt' | 'error')[] = explain()[0].statuses
const iam: IamPolicy = iamPolicy({ mode: 'remediate', roleArns: ['arn:aws:iam::111122223333:role/r'] })
const granted: string[] = iamPolicy(null).document.Statement.flatMap((s) => s.Action)
const optional: boolean = iam.permissions[0].optional
const template: string = baseline({ format: 'conformance-pack', policyFile: 'policy.yaml' })
const rechecked = event({ event: {}, scan: { endpointUrl: 'http://127.0.0.1:1' }, remediate: true, dryRun: true })
rechecked.then((o) => o.report?.findings.map((f) => f.arn) ?? o.ignored)
const handled = handler({}, {})
handled.then((o) => o.not_found.map((k) => `${k.region} ${k.key_id}`))
// @ts-expect-error: the baseline formats are cloudformation, conformance-pack and terraform
baseline({ format: 'yaml' })
const sent: Promise<SecurityHubOutcome> = sendToSecurityHub({ report: {} as Report, region: 'eu-west-1', roleArn: 'arn:aws:iam::111122223333:role/r' })
sent.then((o) => o.failed.map((f) => `${f.arn} ${f.code}`))
const fmts: ReportFormat[] = formats()
const planFmts: PlanFormat[] = formats('plan')

async function main(): Promise<void> {
  const options: ScanOptions & WithProgress<ScanProgress> = {
    inventory: 'fleet.json',
    policy: loaded,
    regions: ['us-east-1'],
    now: new Date(),
    onProgress: (p: ScanProgress) => void (p.keysListed + p.keysRead),
  }
  const report: Report = await scan(options)
  await scan()
  const aws: Pick<ScanOptions, 'endpointUrl' | 'roleArns' | 'rates' | 'maxAttempts'> = {
    endpointUrl: 'http://127.0.0.1:4566',
    roleArns: [],
    rates: ['describe-key=100'],
    maxAttempts: 2,
  }
  await scan({ ...aws, policyFile: 'policy.yaml', exceptions: ['exceptions.yaml'] })
  const again: Report = await evaluateAsync([record], policy)
  const text: string = await evaluateJsonAsync('[]')
  const compliant: boolean = report.summary.compliant
  const fails: number = report.summary.by_status.fail
  const rendered: string = render({ report, format: 'ndjson' })
  void [compliant, fails, rendered, again, text, report.scope_errors[0]?.code]

  const planOptions: PlanOptions = { report, selection: { include: { regions: ['us-east-1'], tags: ['env=prod'] } }, targetPeriodDays: 365 }
  const planned: Plan = await plan(planOptions)
  await plan({ scan: { inventory: 'fleet.json' }, priorities: ['tier=gold'], batchSize: 10, onProgress: (p) => void p.keysRead })
  await plan({ reportFile: 'report.json', now: new Date() })
  const table: string = render({ plan: planned, format: 'table' })
  const reviewed: ExceptionsReview = await reviewExceptions({ report, withinDays: 14, now: new Date() })
  await reviewExceptions({ scan: { inventory: 'fleet.json' }, onProgress: (p) => void p.keysRead })
  const state: ExceptionState = reviewed.exceptions[0].state
  const lapsed: boolean = reviewed.summary.expired_failing
  const daysLeft: number = reviewed.exceptions[0].days_left
  // @ts-expect-error: within_days is the data's spelling; the option is withinDays
  await reviewExceptions({ reportFile: 'report.json', within_days: 14 })
  void [state, lapsed, daysLeft]
  const applyOptions: ApplyOptions = { plan: planned, journal: 'journal.ndjson', dryRun: false, ...aws }
  const applied: ApplyOutcome = await apply(applyOptions)
  const preview: ApplyOutcome = await apply({ planFile: 'plan.json' })
  const undone: RollbackOutcome = await rollback({ journal: 'journal.ndjson' })
  const watched: ApplyOutcome = await apply({
    plan: planned,
    onProgress: (p: RemediationProgress) => void (p.done / p.total),
    errorOnFailure: true,
  })
  await rollback({ journal: 'journal.ndjson', dryRun: false, onProgress: (p) => void p.done, errorOnFailure: false })
  void [watched, preview, table]
  const action: 'enable_rotation' = planned.actions[0].action
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
// @ts-expect-error: a misspelt option
void scan({ inventroy: 'fleet.json' })
// @ts-expect-error: a misspelt option, where it matters most (`dryRun`)
void apply({ planFile: 'plan.json', dryrun: false })
// @ts-expect-error: a misspelt option of the scan a plan makes first
void plan({ scan: { inventroy: 'fleet.json' } })
// @ts-expect-error: an option of another operation
void rollback({ journal: 'journal.ndjson', planFile: 'plan.json' })
// @ts-expect-error: a misspelt selection dimension
void plan({ reportFile: 'report.json', selection: { include: { region: ['us-east-1'] } } })
// @ts-expect-error: numbers are numbers
void apply({ planFile: 'plan.json', concurrency: '4' })
// @ts-expect-error: a key record needs its ARN
evaluate([{ key_spec: 'SYMMETRIC_DEFAULT' }])
// @ts-expect-error: AWS's spelling of key specs
evaluate([{ ...record, key_spec: 'symmetric_default' }])
// @ts-expect-error: policy documents are snake_case, like the file
evaluate([record], { maxRotationPeriodDays: 365 })
// @ts-expect-error: progress has `done` and `total`, not scan's counts
void apply({ plan: {} as Plan, onProgress: (p) => void p.keysRead })
// @ts-expect-error: rates are OPERATION=RATE strings
void scan({ rates: { describeKey: 100 } })
// @ts-expect-error: render takes the report itself, not its file
render({ report: 'report.json' })
// @ts-expect-error: a reason code that is none
explain({ reason: 'rotation_off' })
// @ts-expect-error: options are camelCase
iamPolicy({ role_arns: [] })
// @ts-expect-error: the modes are `read_only` and `remediate`
iamPolicy({ mode: 'read-only' })
// @ts-expect-error: explain and iamPolicy report no progress
iamPolicy({ onProgress: () => {} })
// @ts-expect-error: scan returns a Promise
const notAwaited: Report = scan({})
// @ts-expect-error: plan returns a Promise
const notAwaitedPlan: Plan = plan({ report: {} as Report })

void [template, status, target, exceptions, fmts, planFmts, reportText, main, notAwaited, notAwaitedPlan]
void [explained, statuses, granted, optional]

// diff: two reports (or their files) in, the diff's JSON shape out.
const changed: ReportDiff = diff({ old: {} as Report, newFile: 'new.json' })
const worse: boolean = changed.worse
const lapsedOwner: string | undefined = changed.lapsed[0].exception?.owner
const later: Promise<ReportDiff> = diffAsync({ oldFile: 'old.json', newFile: 'new.json' })
// @ts-expect-error: options are camelCase
diff({ old_file: 'old.json' })
void [changed, worse, lapsedOwner, later]
