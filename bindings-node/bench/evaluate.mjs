// Benchmark (not a test): `evaluate` on 100,000 records through the binding, against the same
// rule (rule.md rows 1-11, exceptions, remediation target) written in plain JavaScript, in one
// process.
//
//   npm run build && node bench/evaluate.mjs [RECORDS] [ROUNDS]
//
// Objects in, objects out: plain JS (findings only, and a whole report: findings in report
// order plus the summary), `evaluate`, `evaluateAsync`, and where the binding's time goes.
// Text in, text out: plain JS (JSON.parse, the rule, JSON.stringify) against `evaluateJson` and
// `evaluateJsonAsync`. For the async calls, the longest the event loop went without turning.
//
// The binding does more than the JS rule: it validates every record (enums, ARNs, required
// fields, period range), keeps one finding per key, and copies the evidence into findings of
// its own. Every path is checked to give the same verdicts.
import { evaluate, evaluateAsync, evaluateJson, evaluateJsonAsync } from 'kms-rotation'

const N = Number(process.argv[2] ?? 100_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const NOW = '2026-06-01T00:00:00Z'

// A fleet with every row of the rule represented, in realistic proportions.
function fleet(n) {
  const specs = ['SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT', 'RSA_2048', 'HMAC_256']
  const states = ['Enabled', 'Enabled', 'Enabled', 'Enabled', 'Disabled', 'PendingDeletion']
  const records = []
  for (let i = 0; i < n; i++) {
    const region = ['us-east-1', 'eu-west-1', 'ap-southeast-2'][i % 3]
    const account = String(100000000000 + (i % 7))
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
    const r = {
      account_id: account,
      region,
      key_id: id,
      arn: `arn:aws:kms:${region}:${account}:key/${id}`,
      aliases: [`alias/app-${i}`],
      tags: { environment: i % 2 ? 'prod' : 'dev', owner: `team-${i % 13}` },
      key_manager: i % 17 === 0 ? 'AWS' : 'CUSTOMER',
      key_spec: specs[i % specs.length],
      key_usage: 'ENCRYPT_DECRYPT',
      origin: i % 23 === 0 ? 'EXTERNAL' : 'AWS_KMS',
      custom_key_store_id: null,
      key_state: states[i % states.length],
      creation_date: '2024-03-01T12:00:00Z',
      multi_region: null,
      rotation: i % 4 === 0 ? { enabled: false } : { enabled: true, period_days: i % 9 === 0 ? 730 : 365, next_rotation_date: '2027-03-01T12:00:00Z' },
      errors: i % 101 === 0 ? [{ operation: 'GetKeyRotationStatus', code: 'AccessDeniedException', message: 'denied' }] : [],
    }
    records.push(r)
  }
  return records
}

const policy = {
  max_rotation_period_days: 365,
  exceptions: [{ match: { tag: { key: 'owner', value: 'team-3' } }, owner: 'o', reason: 'r', expires: '2030-01-01' }],
}

// ---- The same rule in plain JavaScript ----
function jsEvaluate(records, policy, now) {
  const max = policy.max_rotation_period_days ?? 365
  const skipDisabled = policy.disabled_keys === 'skip'
  const exceptions = policy.exceptions ?? []
  const nowDate = now.slice(0, 10)
  const matches = (m, r) =>
    m.arn !== undefined ? r.arn === m.arn
      : m.key_id !== undefined ? r.key_id === m.key_id
        : m.alias !== undefined ? (r.aliases ?? []).some((a) => a.replace(/^alias\//, '') === m.alias.replace(/^alias\//, ''))
          : (r.tags ?? {})[m.tag.key] === m.tag.value
  const errorFor = (r, op) => (r.errors ?? []).find((e) => e.operation === op)
  const decide = (r) => {
    const describe = errorFor(r, 'DescribeKey')
    if (describe) return ['error', 'describe_failed', null, describe]
    if (!r.key_manager || !r.key_spec || !r.origin || !r.key_state) return ['error', 'describe_failed', null, { operation: 'DescribeKey', code: 'NotCollected', message: '' }]
    if (r.key_manager === 'AWS') return ['not_applicable', 'aws_managed']
    if (r.key_spec !== 'SYMMETRIC_DEFAULT') return ['not_applicable', 'unsupported_key_spec']
    if (r.origin === 'AWS_CLOUDHSM' || r.origin === 'EXTERNAL_KEY_STORE' || r.custom_key_store_id) return ['not_applicable', 'custom_key_store']
    if (r.origin === 'EXTERNAL') {
      const maxAge = policy.imported_key_max_age_days
      if (maxAge == null) return ['not_applicable', 'imported_key_material']
      const since = r.rotation?.last_rotation?.date ?? r.creation_date
      if (!since) return ['error', 'rotation_status_failed', null, { operation: 'ListKeyRotations', code: 'NotCollected', message: '' }]
      return Date.parse(now) - Date.parse(since) <= maxAge * 86400000 ? ['pass', 'imported_key_rotated_on_demand'] : ['fail', 'imported_key_rotation_overdue']
    }
    switch (r.key_state) {
      case 'PendingDeletion': case 'PendingReplicaDeletion': return ['not_applicable', 'pending_deletion']
      case 'PendingImport': return ['not_applicable', 'key_state_pending_import']
      case 'Unavailable': return ['not_applicable', 'key_state_unavailable']
      case 'Creating': return ['not_applicable', 'key_state_creating']
      case 'Disabled': if (skipDisabled) return ['not_applicable', 'key_disabled']
    }
    const status = errorFor(r, 'GetKeyRotationStatus')
    if (status) return ['error', 'rotation_status_failed', null, status]
    if (!r.rotation) return ['error', 'rotation_status_failed', null, { operation: 'GetKeyRotationStatus', code: 'NotCollected', message: '' }]
    if (!r.rotation.enabled) return ['fail', 'rotation_disabled']
    const reported = r.rotation.period_days != null
    const period = reported ? r.rotation.period_days : 365
    return [period > max ? 'fail' : 'pass', period > max ? 'rotation_period_exceeds_policy' : 'rotation_enabled', reported ? 'reported' : 'assumed_default']
  }
  return records.map((r) => {
    let [status, reason, periodSource = null, error = null] = decide(r)
    let exception = null
    if (status === 'fail') {
      const matching = exceptions.filter((e) => matches(e.match, r))
      const active = matching.find((e) => nowDate <= e.expires)
      if (active) { status = 'exempt'; exception = { ...active, expired: false } } else if (matching.length) exception = { ...matching[0], expired: true }
    }
    const target = status === 'fail' || status === 'exempt'
      ? (r.multi_region?.role === 'REPLICA' ? r.multi_region.primary_arn ?? null : r.arn) : null
    const remediable = status === 'fail' && (reason === 'rotation_disabled' || reason === 'rotation_period_exceeds_policy') && r.key_state !== 'Disabled' && target !== null
    return {
      arn: r.arn, account_id: r.account_id, region: r.region, key_id: r.key_id, status, reason, remediable,
      remediation_target: target, aliases: r.aliases ?? [], tags: r.tags ?? {}, key_manager: r.key_manager, key_spec: r.key_spec,
      key_usage: r.key_usage ?? null, origin: r.origin, custom_key_store_id: r.custom_key_store_id ?? null, key_state: r.key_state,
      creation_date: r.creation_date ?? null, multi_region: r.multi_region ?? null, rotation: r.rotation ?? null,
      period_source: periodSource, exception, error, errors: r.errors ?? [],
    }
  })
}

// The JS rule made into a report like the binding's: findings in report order, the summary.
function jsReport(records, policy, now) {
  const findings = jsEvaluate(records, policy, now)
  const keyed = findings.map((f) => [`${f.account_id}\0${f.region}\0${f.arn}`, f])
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  const ordered = keyed.map((k) => k[1])
  const counts = () => ({ total: 0, pass: 0, fail: 0, not_applicable: 0, exempt: 0, error: 0 })
  const summary = { compliant: true, complete: true, by_status: counts(), by_reason: {}, by_region: {}, by_account: {} }
  for (const f of ordered) {
    summary.by_status.total++
    summary.by_status[f.status]++
    summary.by_reason[f.reason] = (summary.by_reason[f.reason] ?? 0) + 1
    for (const [by, key] of [[summary.by_region, f.region], [summary.by_account, f.account_id]]) {
      const c = (by[key] ??= counts())
      c.total++
      c[f.status]++
    }
  }
  summary.compliant = summary.by_status.fail === 0
  return { schema_version: 1, generated_at: now, policy, scope: { source: 'memory', accounts: [], regions: [] }, summary, findings: ordered, scope_errors: [] }
}

const results = []
function record(label, times) {
  times.sort((a, b) => a - b)
  const median = times[Math.floor(times.length / 2)]
  results.push([label, median])
  console.log(`${label.padEnd(52)} median ${median.toFixed(0).padStart(6)} ms   min ${times[0].toFixed(0).padStart(6)} ms`)
}

function time(label, f) {
  const times = []
  let result
  for (let i = 0; i < ROUNDS; i++) {
    const start = process.hrtime.bigint()
    result = f()
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  record(label, times)
  return result
}

// Async: the wall time, and the longest the event loop went without running a 1 ms timer
// (from the call, whose synchronous part counts, to the timer after the Promise settled).
async function timeAsync(label, f) {
  const times = []
  const blocked = []
  let result
  const tick = () => new Promise((resolve) => setTimeout(resolve, 2))
  for (let i = 0; i < ROUNDS; i++) {
    let last = performance.now()
    let longest = 0
    const timer = setInterval(() => {
      const now = performance.now()
      longest = Math.max(longest, now - last)
      last = now
    }, 1)
    await tick()
    longest = 0
    last = performance.now()
    const start = process.hrtime.bigint()
    result = await f()
    times.push(Number(process.hrtime.bigint() - start) / 1e6)
    await tick()
    clearInterval(timer)
    blocked.push(longest)
  }
  record(label, times)
  record(`  ${label}: longest event-loop block`, blocked)
  return result
}

const verdictsOf = (findings) => new Map(findings.map((f) => [f.arn, `${f.status} ${f.reason}`]))
function check(label, findings, reference) {
  const mine = verdictsOf(findings)
  let differ = findings.length === reference.size ? 0 : Math.abs(findings.length - reference.size)
  for (const [arn, verdict] of reference) if (mine.get(arn) !== verdict) differ++
  if (differ) {
    console.log(`${label}: ${differ} verdicts differ from plain JS`)
    process.exitCode = 1
  }
}

const records = fleet(N)
const text = JSON.stringify(records)
console.log(`evaluate: ${N} records (${(text.length / 1e6).toFixed(0)} MB of JSON), ${ROUNDS} rounds, node ${process.version}`)

console.log('\nobjects in, objects out')
const viaJs = time('plain JS: findings (the rule alone)', () => jsEvaluate(records, policy, NOW))
const reference = verdictsOf(viaJs)
check('plain JS report', time('plain JS: report (rule, report order, summary)', () => jsReport(records, policy, NOW)).findings, reference)
check('evaluate', time('evaluate', () => evaluate(records, policy, NOW)).findings, reference)
check('evaluateAsync', (await timeAsync('evaluateAsync', () => evaluateAsync(records, policy, NOW))).findings, reference)

console.log('\nwhere evaluate spends its time')
const options = time('  JSON.stringify of the records (on the event loop)', () => JSON.stringify({ records, policy, now: NOW }))
void options
const out = time('  the core, text to text (evaluateJson)', () => evaluateJson(text, policy, NOW))
time('  JSON.parse of the report (on the event loop)', () => JSON.parse(out))

console.log('\ntext in, text out')
const jsText = time('plain JS: JSON.parse, the rule, JSON.stringify', () => JSON.stringify(jsEvaluate(JSON.parse(text), policy, NOW)))
void jsText
check('evaluateJson', JSON.parse(out).findings, reference)
time('evaluateJson (string)', () => evaluateJson(text, policy, NOW))
const bytes = Buffer.from(text)
time('evaluateJson (Buffer)', () => evaluateJson(bytes, policy, NOW))
check('evaluateJsonAsync', JSON.parse(await timeAsync('evaluateJsonAsync (Buffer)', () => evaluateJsonAsync(bytes, policy, NOW))).findings, reference)

const median = Object.fromEntries(results)
const ratio = (a, b) => (median[a] / median[b]).toFixed(1)
console.log(`\nevaluate / plain JS findings: ${ratio('evaluate', 'plain JS: findings (the rule alone)')}x; ` +
  `evaluate / plain JS report: ${ratio('evaluate', 'plain JS: report (rule, report order, summary)')}x; ` +
  `evaluateJson / plain JS text: ${ratio('evaluateJson (string)', 'plain JS: JSON.parse, the rule, JSON.stringify')}x`)
