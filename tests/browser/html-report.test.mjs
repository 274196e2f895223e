// The HTML report as people see it: rendered by the CLI from the sample fleet (every status),
// opened from a file in headless Chromium. Checks the counts and rows against the JSON report
// of the same scan, that sorting and filtering work, that nothing is fetched and no script but
// the page's own runs, and saves a screenshot.
//
// Needs KMS_ROTATION_CLI (a built `kms-rotation`); Chromium at CHROMIUM (default
// /usr/bin/chromium). Without Chromium the test is skipped, except under CI=true, where it fails.
// Screenshots go to BROWSER_TEST_OUT (default target/browser-test).

import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pathToFileURL } from 'node:url'

import { chromiumPath, openChromium, root, scan } from './chromium.mjs'

const outDir = process.env.BROWSER_TEST_OUT ?? join(root, 'target', 'browser-test')
const inCi = process.env.CI === 'true'

const hostileAlias = 'alias/<script>window.__injected = 1</script><img src=x onerror="window.__injected = 2">'

/** The sample fleet with a hostile alias on its first key; the file and that key's ARN. */
function fleetWithHostileAlias (dir) {
  const fleet = JSON.parse(readFileSync(join(root, 'examples', 'fleet.json'), 'utf8'))
  fleet.keys[0].aliases = [hostileAlias]
  const path = join(dir, 'fleet.json')
  writeFileSync(path, JSON.stringify(fleet))
  return [path, fleet.keys[0].arn]
}

const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('base64')

test('the HTML report shows the counts and rows, sorts, filters and fetches nothing', async (t) => {
  if (!existsSync(chromiumPath)) {
    const why = `Chromium not found at ${chromiumPath} (apt-get install chromium)`
    if (inCi) assert.fail(why)
    t.skip(why)
    return
  }
  mkdirSync(outDir, { recursive: true })
  const work = mkdtempSync(join(tmpdir(), 'kms-rotation-browser-'))
  t.after(() => rmSync(work, { recursive: true, force: true }))
  const [inventory, hostileArn] = fleetWithHostileAlias(work)
  const htmlFile = join(work, 'report.html')
  const jsonFile = join(work, 'report.json')
  scan(inventory, 'html', htmlFile)
  scan(inventory, 'json', jsonFile)
  const report = JSON.parse(readFileSync(jsonFile, 'utf8'))
  const html = readFileSync(htmlFile, 'utf8')

  // The policy allows the page's own style and script by hash, and nothing else.
  const csp = html.match(/http-equiv="Content-Security-Policy" content="([^"]*)"/)[1]
  assert.match(csp, /default-src 'none'/)
  const style = html.match(/<style>([\s\S]*?)<\/style>/)[1]
  const script = html.match(/<script>([\s\S]*?)<\/script>/)[1]
  assert.ok(csp.includes(`style-src 'sha256-${sha256(style)}'`), `STYLE_SHA256 in report/html.rs should be ${sha256(style)}`)
  assert.ok(csp.includes(`script-src 'sha256-${sha256(script)}'`), `SCRIPT_SHA256 in report/html.rs should be ${sha256(script)}`)
  assert.equal(html.match(/<script/g).length, 1, 'one script element: the page\'s own')

  const browser = await openChromium({ width: 1280, height: 900 })
  t.after(() => browser.close())
  const page = await browser.context.newPage()
  const requests = []
  const problems = []
  page.on('request', (request) => requests.push(request.url()))
  page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()) })
  page.on('pageerror', (error) => problems.push(error.message))
  const url = pathToFileURL(htmlFile).href
  await page.goto(url)

  await t.test('the verdict and the counts are the report\'s', async () => {
    assert.equal(await page.textContent('#verdict'), report.summary.compliant ? 'compliant' : 'NOT compliant')
    for (const status of ['pass', 'fail', 'not_applicable', 'exempt', 'error', 'total']) {
      const shown = await page.textContent(`.counts [data-status="${status}"] .n`)
      assert.equal(Number(shown), report.summary.by_status[status], status)
    }
    for (const status of ['pass', 'fail', 'not_applicable', 'exempt', 'error']) {
      assert.ok(report.summary.by_status[status] > 0, `the fleet has a ${status} key`)
    }
  })

  const rows = () => page.$$eval('#findings tbody tr', (trs) => trs.map((tr) => ({
    key: tr.cells[2].querySelector('code').textContent,
    arn: tr.cells[2].querySelector('.arn').textContent,
    aliases: tr.cells[3].textContent,
    status: tr.dataset.status,
    visible: !tr.hidden,
  })))

  await t.test('a row per finding, in the report\'s order, with the fix for failing keys', async () => {
    assert.deepEqual((await rows()).map((r) => [r.key, r.status]), report.findings.map((f) => [f.key_id, f.status]))
    const fixes = await page.$$eval('#findings tbody tr[data-status="fail"] td.fix', (tds) => tds.map((td) => td.textContent))
    assert.equal(fixes.length, report.summary.by_status.fail)
    assert.ok(fixes.some((fix) => fix.startsWith('aws kms enable-key-rotation --key-id arn:aws:kms:')), fixes.join('\n'))
  })

  await t.test('a hostile alias is shown as text, and runs nothing', async () => {
    const row = (await rows()).find((r) => r.arn === hostileArn)
    assert.equal(row.aliases, hostileAlias)
    assert.equal(await page.evaluate(() => window.__injected), undefined)
  })

  await t.test('clicking a header sorts by that column, and again reverses', async () => {
    const before = await rows()
    await page.click('th:nth-child(5) button')
    const ascending = (await rows()).map((r) => r.status)
    assert.deepEqual(ascending, [...ascending].sort())
    assert.notDeepEqual(ascending, before.map((r) => r.status), 'the rows moved')
    assert.equal(await page.getAttribute('th:nth-child(5)', 'aria-sort'), 'ascending')
    await page.click('th:nth-child(5) button')
    const descending = (await rows()).map((r) => r.status)
    assert.deepEqual(descending, [...ascending].reverse())
    assert.equal(await page.getAttribute('th:nth-child(5)', 'aria-sort'), 'descending')
  })

  await t.test('the status filter and the text filter hide rows', async () => {
    await page.selectOption('#status-filter', 'fail')
    let visible = (await rows()).filter((r) => r.visible)
    assert.equal(visible.length, report.summary.by_status.fail)
    assert.ok(visible.every((r) => r.status === 'fail'))
    assert.equal(await page.textContent('#shown'), `${visible.length} of ${report.findings.length} findings shown`)
    await page.selectOption('#status-filter', '')
    const one = report.findings[3]
    await page.fill('#filter', one.arn)
    visible = (await rows()).filter((r) => r.visible)
    assert.deepEqual(visible.map((r) => r.arn), [one.arn])
    await page.fill('#filter', '')
    assert.equal((await rows()).filter((r) => r.visible).length, report.findings.length)
  })

  await t.test('the only request is the file itself, and nothing was blocked or failed', async () => {
    await page.screenshot({ path: join(outDir, 'html-report.png'), fullPage: true })
    await page.screenshot({ path: join(outDir, 'html-report-top.png') })
    assert.deepEqual(requests, [url])
    assert.deepEqual(problems, [])
  })
})
