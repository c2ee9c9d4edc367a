import { fileURLToPath } from "node:url"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, expect, it } from "vitest"
import { launchChromium } from "../../../scripts/browser/chromium.js"
import { runExampleInBrowser } from "../../../scripts/browser/test-page.js"
import { runnableExamples } from "../../../scripts/readme-examples.js"

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(() => browser?.close())

it("the README's example runs as written, in chromium", async () => {
  const [example] = await runnableExamples(fileURLToPath(new URL("../README.md", import.meta.url)))
  const dir = fileURLToPath(new URL("..", import.meta.url))
  expect(await runExampleInBrowser(browser, dir, example?.code ?? "")).toEqual([
    "ready",
    "Hello from IndexedDB",
  ])
})
