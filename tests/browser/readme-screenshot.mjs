// Makes the README's picture of the HTML report, docs/img/html-report.png: the sample fleet in a
// narrow window, the failing keys first. Run by hand after a visible change to the page:
//
//   KMS_ROTATION_CLI=target/<triple>/debug/kms-rotation node tests/browser/readme-screenshot.mjs

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

import { openChromium, root, scan } from './chromium.mjs'

const work = mkdtempSync(join(tmpdir(), 'kms-rotation-readme-'))
const html = join(work, 'report.html')
scan(join(root, 'examples', 'fleet.json'), 'html', html)
const browser = await openChromium({ width: 900, height: 820 })
try {
  const page = await browser.context.newPage()
  await page.goto(pathToFileURL(html).href)
  await page.selectOption('#status-filter', 'fail')
  await page.screenshot({ path: join(root, 'docs', 'img', 'html-report.png') })
} finally {
  await browser.close()
  rmSync(work, { recursive: true, force: true })
}
