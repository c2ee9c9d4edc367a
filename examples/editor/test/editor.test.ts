import { fileURLToPath } from "node:url"
import type { Page } from "playwright-core"
import { expect, it } from "vitest"
import { testExample } from "../../../scripts/browser/example-app.js"

const example = testExample(fileURLToPath(new URL("..", import.meta.url)))

/** A tab in a browser profile of its own (its own IndexedDB), as on another device. */
async function openEditor(name: string, doc: string): Promise<Page> {
  const context = await example.newContext({ width: 900, height: 560 })
  const page = await context.newPage()
  await page.goto(
    `${example.app.url}/?relay=${encodeURIComponent(example.relay.url)}&doc=${doc}&name=${name}`,
  )
  await page.locator("textarea").waitFor()
  return page
}

const value = (page: Page) => page.locator("textarea").inputValue()
const saved = (page: Page) => page.locator(".saved").getAttribute("data-state")
const connection = (page: Page) => page.locator(".connection").getAttribute("data-state")
const members = (page: Page) => page.locator(".members li").allTextContents()

async function typeAtEnd(page: Page, text: string): Promise<void> {
  const area = page.locator("textarea")
  await area.focus()
  await page.keyboard.press("Control+End")
  await page.keyboard.type(text)
}

async function select(page: Page, from: number, to: number): Promise<void> {
  await page.locator("textarea").evaluate(
    (area: HTMLTextAreaElement, [start, end]) => {
      area.focus()
      area.setSelectionRange(start, end)
    },
    [from, to],
  )
}

it("two pages edit the same document and see each other's text, cursors and selections", async () => {
  const ada = await openEditor("Ada", "together")
  const grace = await openEditor("Grace", "together")
  await typeAtEnd(ada, "Hello from Ada. ")
  await expect.poll(() => value(grace)).toBe("Hello from Ada. ")
  await typeAtEnd(grace, "And Grace.")
  await expect.poll(() => value(ada)).toBe("Hello from Ada. And Grace.")
  await expect.poll(() => members(ada)).toEqual(["Ada (you)", "Grace"])

  await select(ada, 11, 14) // "Ada"
  const adaOnGrace = grace.locator('.overlay[data-remote="Ada"]')
  await expect.poll(() => adaOnGrace.locator(".remote-selection").textContent()).toBe("Ada")
  await select(grace, 20, 25) // "Grace"
  const graceOnAda = ada.locator('.overlay[data-remote="Grace"]')
  await expect.poll(() => graceOnAda.locator(".remote-selection").textContent()).toBe("Grace")

  // Each member's caret is drawn in the colour of their swatch in the member list.
  const swatch = await grace
    .locator(".members li", { hasText: "Ada" })
    .locator(".swatch")
    .evaluate((el) => getComputedStyle(el).backgroundColor)
  const caret = await adaOnGrace.locator(".caret").evaluate((el) => getComputedStyle(el).borderLeftColor)
  expect(caret).toBe(swatch)

  // A remote edit before a selection moves it with the text it covers.
  await ada.locator("textarea").evaluate((area: HTMLTextAreaElement) => area.setSelectionRange(0, 0))
  await ada.keyboard.type(">> ")
  await expect.poll(() => value(grace)).toBe(">> Hello from Ada. And Grace.")
  await expect.poll(() => graceOnAda.locator(".remote-selection").textContent()).toBe("Grace")
  expect(
    await grace
      .locator("textarea")
      .evaluate((area: HTMLTextAreaElement) => area.value.slice(area.selectionStart, area.selectionEnd)),
  ).toBe("Grace")

  await expect.poll(() => saved(ada)).toBe("saved")
  await example.screenshot(ada, "editor")
})

it("a page offline (relay stopped) edits and reloads; when the relay returns both converge with nothing lost", async () => {
  const ada = await openEditor("Ada", "offline")
  const grace = await openEditor("Grace", "offline")
  await typeAtEnd(ada, "Shared line.")
  await expect.poll(() => value(grace)).toBe("Shared line.")
  await expect.poll(() => saved(ada)).toBe("saved")

  await example.relay.stop()
  await expect.poll(() => connection(ada)).not.toBe("open")
  await expect.poll(() => connection(grace)).not.toBe("open")
  await typeAtEnd(ada, " Ada offline.")
  await typeAtEnd(grace, " Grace offline.")
  // In IndexedDB, not on the relay: the indicator says so.
  await expect.poll(() => saved(ada)).toBe("local")

  await ada.reload()
  await ada.locator("textarea").waitFor()
  expect(await value(ada)).toBe("Shared line. Ada offline.")
  expect(await connection(ada)).not.toBe("open")

  await example.relay.restart()
  await expect.poll(() => connection(ada), { timeout: 15_000 }).toBe("open")
  await expect.poll(() => connection(grace), { timeout: 15_000 }).toBe("open")
  await expect.poll(() => value(ada)).toMatch(/Ada offline\./)
  await expect.poll(() => value(ada)).toMatch(/Grace offline\./)
  await expect.poll(async () => (await value(grace)) === (await value(ada))).toBe(true)
  expect(await value(ada)).toMatch(/^Shared line\./)
  await expect.poll(() => saved(grace)).toBe("saved")
})

it("a page that reloads is never seen to leave and join; a page that closes is seen to leave", async () => {
  const ada = await openEditor("Ada", "presence")
  const grace = await openEditor("Grace", "presence")
  await expect.poll(() => members(grace)).toEqual(["Grace (you)", "Ada"])
  await grace.evaluate(() => {
    const events: string[] = []
    Object.assign(window, { memberEvents: events })
    const room = window.tandem.repo.getRoom<{ name: string }>("doc:presence")
    room?.on("member-joined", (member) => events.push(`joined ${member.presence?.name}`))
    room?.on("member-left", (member) => events.push(`left ${member.presence?.name}`))
  })
  const events = () => grace.evaluate(() => (window as unknown as { memberEvents: string[] }).memberEvents)

  await ada.reload()
  await ada.locator("textarea").waitFor()
  await expect.poll(() => connection(ada)).toBe("open")
  // A presence round trip after the reload: Grace sees Ada's new selection, and no leave or join.
  await typeAtEnd(ada, "back")
  await select(ada, 0, 4)
  await expect
    .poll(() => grace.locator('.overlay[data-remote="Ada"] .remote-selection').textContent())
    .toBe("back")
  expect(await events()).toEqual([])
  expect(await members(grace)).toEqual(["Grace (you)", "Ada"])

  await ada.context().close()
  await expect.poll(() => members(grace), { timeout: 15_000 }).toEqual(["Grace (you)"])
  expect(await events()).toEqual(["left Ada"])
}, 60_000)
