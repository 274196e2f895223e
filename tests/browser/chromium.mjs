// Headless Chromium for the tests, and the CLI that renders the pages they open.

import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium'

// Chromium that fetches nothing on its own (updates, sync, field trials) and needs no GPU.
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A Chromium context with a fresh profile, removed when closed. */
export async function openChromium (viewport) {
  const profile = mkdtempSync(join(tmpdir(), 'kms-rotation-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    viewport,
  })
  return {
    context,
    async close () {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** Renders `inventory` with the CLI in `format`, into `file`. */
export function scan (inventory, format, file) {
  const cli = process.env.KMS_ROTATION_CLI
  if (!cli || !existsSync(cli)) throw new Error(`KMS_ROTATION_CLI must name a built kms-rotation (got ${cli})`)
  const examples = join(root, 'examples')
  const args = [
    'scan', '--inventory', inventory,
    '--policy', join(examples, 'policy.yaml'), '--exceptions', join(examples, 'exceptions.yaml'),
    '--now', '2026-11-22T12:00:00Z', '--format', format, '--output', file, '--quiet',
  ]
  try {
    execFileSync(cli, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } })
  } catch (e) {
    // Exit 1 is the verdict (a key fails), not an error.
    if (e.status !== 1) throw e
  }
}

