import { mkdir } from "node:fs/promises"
import { fileURLToPath } from "node:url"
import type { Browser, BrowserContext, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, expect, it } from "vitest"
import { launchChromium } from "../../../scripts/browser/chromium.js"
import { serveBuiltExample, startTestRelay, type TestRelay } from "../../../scripts/browser/example-app.js"
import type { StaticServer } from "../../../scripts/browser/static-server.js"

const artifacts = fileURLToPath(new URL("../../../test-artifacts/", import.meta.url))
let app: StaticServer
let relay: TestRelay
let browser: Browser
const cleanups: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  ;[app, relay, browser] = await Promise.all([
    serveBuiltExample(fileURLToPath(new URL("..", import.meta.url))),
    startTestRelay(),
    launchChromium(),
  ])
}, 60_000)

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([app?.close(), relay?.dispose()])
})

/** One person's browser: its tabs share localStorage and IndexedDB. */
async function person(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 960, height: 540 } })
  cleanups.push(() => context.close())
  return context
}

async function openChat(context: BrowserContext, user: string, channel = "general"): Promise<Page> {
  const page = await context.newPage()
  page.on("pageerror", (error) => console.error(`${user}'s page:`, error))
  const name = user[0]?.toUpperCase() + user.slice(1)
  await page.goto(
    `${app.url}/?relay=${encodeURIComponent(relay.url)}&user=${user}&name=${name}&channel=${channel}`,
  )
  await page.locator(".composer input").waitFor()
  return page
}

const users = (page: Page) => page.locator(".users li").allTextContents()
const typing = (page: Page) => page.locator(".typing").textContent()
const texts = (page: Page) => page.locator(".messages .text").allTextContents()
const unread = (page: Page, channel: string) =>
  page
    .locator(`[data-channel=${channel}] .unread`)
    .count()
    .then(async (count) =>
      count === 0 ? 0 : Number(await page.locator(`[data-channel=${channel}] .unread`).textContent()),
    )

it("members grouped by user across tabs, typing through broadcast, messages in a document, unread markers", async () => {
  const adaBrowser = await person()
  const ada = await openChat(adaBrowser, "ada")
  const adaAgain = await openChat(adaBrowser, "ada")
  const grace = await openChat(await person(), "grace")
  await expect.poll(() => users(grace)).toEqual(["Grace (you)", "Ada · 2 tabs"])
  await expect.poll(() => users(ada)).toEqual(["Ada (you) · 2 tabs", "Grace"])

  await grace.locator(".composer input").fill("")
  await grace.locator(".composer input").pressSequentially("hello every")
  await expect.poll(() => typing(ada)).toBe("Grace is typing…")
  await grace.keyboard.type("one")
  await grace.keyboard.press("Enter")
  await expect.poll(() => texts(ada)).toEqual(["hello everyone"])
  await expect.poll(() => texts(adaAgain)).toEqual(["hello everyone"])
  await expect.poll(() => typing(ada)).toBe("")

  // Grace writes in #random, where Ada is not looking: both of Ada's tabs mark it unread.
  await grace.locator("[data-channel=random]").click()
  await grace.locator(".composer input").fill("psst, over here")
  await grace.keyboard.press("Enter")
  await expect.poll(() => unread(ada, "random")).toBe(1)
  await expect.poll(() => unread(adaAgain, "random")).toBe(1)
  expect(await unread(grace, "general")).toBe(0) // her own messages are never unread

  await grace.locator("[data-channel=general]").click()
  await grace.locator(".composer input").pressSequentially("are you")
  await expect.poll(() => typing(ada)).toBe("Grace is typing…")
  await mkdir(artifacts, { recursive: true })
  await ada.screenshot({ path: `${artifacts}chat.png` })

  // Reading #random in one tab clears the marker in the other tab of the same user.
  await ada.locator("[data-channel=random]").click()
  await expect.poll(() => texts(ada)).toEqual(["psst, over here"])
  expect(await ada.locator(".new-line").count()).toBe(1)
  await expect.poll(() => unread(adaAgain, "random")).toBe(0)
})

it("a user stays listed while one of their tabs is open, and leaves with the last", async () => {
  const adaBrowser = await person()
  await openChat(adaBrowser, "ada", "help")
  const adaAgain = await openChat(adaBrowser, "ada", "help")
  const grace = await openChat(await person(), "grace", "help")
  await expect.poll(() => users(grace)).toEqual(["Grace (you)", "Ada · 2 tabs"])
  await adaAgain.close()
  await expect.poll(() => users(grace), { timeout: 15_000 }).toEqual(["Grace (you)", "Ada"])
  await adaBrowser.close()
  await expect.poll(() => users(grace), { timeout: 15_000 }).toEqual(["Grace (you)"])
})
