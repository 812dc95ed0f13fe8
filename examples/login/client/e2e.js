// Drives the login page in headless Chromium for one scenario, checks what
// the page shows, and saves a screenshot:
//
//   node e2e.js URL success|wrong-password|server-down SCREENSHOT.png
'use strict'
const { chromium } = require('playwright-core')
const assert = require('node:assert/strict')

const [url, scenario, screenshot] = process.argv.slice(2)
const scenarios = {
  'success': { email: 'test@email.com', password: 'creek-demo-password', cls: 'ok', text: /Welcome back/ },
  'wrong-password': { email: 'test@email.com', password: 'not-the-password', cls: 'error', text: /Wrong email or password/ },
  'server-down': { email: 'test@email.com', password: 'creek-demo-password', cls: 'error', text: /did not answer in time/ },
}

async function main() {
  const want = scenarios[scenario]
  assert.ok(want, 'unknown scenario ' + scenario)
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
  })
  try {
    const page = await browser.newPage()
    await page.goto(url)
    await page.fill('#email', want.email)
    await page.fill('#password', want.password)
    await page.click('#signin')
    const message = page.locator('#message')
    await message.filter({ hasText: want.text }).waitFor({ timeout: 30000 })
    assert.equal(await message.getAttribute('class'), want.cls)
    assert.equal(await page.locator('#signin').isEnabled(), true, 'the page stays usable')
    await page.screenshot({ path: screenshot })
    console.log(`${scenario}: "${(await message.textContent()).trim()}"`)
  } finally {
    await browser.close()
  }
}

main().catch(err => { console.error(err); process.exit(1) })
