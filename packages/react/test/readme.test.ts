import { readFile } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, expect, it } from "vitest"
import { launchChromium } from "../../../scripts/browser/chromium.js"
import { runExampleInBrowser } from "../../../scripts/browser/test-page.js"

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(() => browser?.close())

it("the README's example runs as written, in chromium", async () => {
  const readme = await readFile(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8")
  const code = readme.match(/```tsx\n([\s\S]*?)```/)?.[1] ?? ""
  const dir = fileURLToPath(new URL("..", import.meta.url))
  expect(await runExampleInBrowser(browser, dir, code, "tsx")).toEqual(["ready: Hello (Ada and Grace)"])
})
