import { fileURLToPath } from "node:url"
import { expect, it } from "vitest"
import { launchChromium } from "../../../scripts/browser/chromium.js"
import { buildTestPage, runPageTests } from "../../../scripts/browser/test-page.js"

// The suite runs inside chromium against real IndexedDB; each of its tests is reported here.
const page = await buildTestPage(fileURLToPath(new URL("./conformance.page.ts", import.meta.url)))
const browser = await launchChromium()
const results = await runPageTests(browser, page.url).finally(async () => {
  await browser.close()
  await page.close()
})

it("ran the suite in the browser", () => {
  expect(results.length).toBeGreaterThan(10)
})

for (const result of results) {
  it(`in chromium: ${result.name}`, () => {
    if (result.error) throw new Error(result.error)
  })
}
