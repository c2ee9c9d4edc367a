import { fileURLToPath } from "node:url"
import type { BrowserContext, Page } from "playwright-core"
import { expect, it } from "vitest"
import { testExample } from "../../../scripts/browser/example-app.js"

const example = testExample(fileURLToPath(new URL("..", import.meta.url)))

/** One person's browser: its tabs share localStorage and IndexedDB. */
async function person(): Promise<BrowserContext> {
  const context = await example.newContext({ width: 960, height: 540 })
  return context
}

async function openChat(context: BrowserContext, user: string, channel = "general"): Promise<Page> {
  const page = await context.newPage()
  page.on("pageerror", (error) => console.error(`${user}'s page:`, error))
  const name = user[0]?.toUpperCase() + user.slice(1)
  await page.goto(
    `${example.app.url}/?relay=${encodeURIComponent(example.relay.url)}&user=${user}&name=${name}&channel=${channel}`,
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
  await example.screenshot(ada, "chat")

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
