import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { Repo, type RoomMember } from "@tandem/repo"
import { createServer } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import type { Browser, Page } from "playwright-core"
import { afterAll, afterEach, beforeAll, expect, it } from "vitest"
import { WebSocket } from "ws"
import { launchChromium } from "../../../scripts/browser/chromium.js"
import { buildTestPage, type TestPage } from "../../../scripts/browser/test-page.js"

type Presence = { name: string; typing?: boolean }
type Relay = Awaited<ReturnType<typeof createServer>>
interface Harness {
  show(which: string, on: boolean): void
  disconnect(): Promise<void>
  joined(roomId: string): boolean
  peerId: string
}

let relay: Relay
let dataDir: string
let testPage: TestPage
let browser: Browser
const cleanups: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "tandem-react-"))
  ;[relay, testPage, browser] = await Promise.all([
    FsStorage.open({ dir: dataDir }).then((storage) => createServer({ port: 0, host: "127.0.0.1", storage })),
    buildTestPage(fileURLToPath(new URL("./hooks.page.tsx", import.meta.url))),
    launchChromium(),
  ])
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

afterAll(async () => {
  await browser?.close()
  await testPage?.close()
  await relay?.close()
  await rm(dataDir, { recursive: true, force: true })
})

async function openPage(name: string, room: string, extra = ""): Promise<Page> {
  const page = await browser.newPage()
  cleanups.push(() => page.close())
  await page.goto(`${testPage.url}/?relay=${encodeURIComponent(relay.url)}&name=${name}&room=${room}${extra}`)
  // Mounted once connected, so that anything strict mode's doubled effects did would be seen.
  await expect.poll(() => text(page, "[data-testid=connection]").textContent()).toBe("open")
  await page.evaluate(() => (window as unknown as { harness: Harness }).harness.show("first", true))
  return page
}

/** A Node client in the same room, recording every member event it sees. */
async function observer(roomId: string) {
  const repo = new Repo({ network: [new WebSocketClientAdapter({ url: relay.url, WebSocket })] })
  cleanups.push(() => repo.shutdown())
  const room = repo.joinRoom<Presence>(roomId, { presence: { name: "observer" } })
  await room.whenSynced()
  const events: string[] = []
  const name = (member: RoomMember<Presence>) => member.presence?.name ?? member.peerId
  room.on("member-joined", (member) => events.push(`joined ${name(member)}`))
  room.on("member-left", (member) => events.push(`left ${name(member)}`))
  const nextUpdate = () =>
    new Promise<Presence>((resolve) => {
      const off = room.on("member-updated", ({ current }) => {
        off()
        resolve(current)
      })
    })
  return { repo, room, events, nextUpdate }
}

const text = (page: Page, selector: string) => page.locator(selector).first()

it("under strict mode a mounted room is joined once: the others see one join and no leave", async () => {
  const watcher = await observer("strict")
  const page = await openPage("ada", "strict")
  await expect.poll(() => text(page, "[data-testid=first] .members").textContent()).toContain("observer")
  // A round trip on the same connection: a leave from the doubled effects would have come first.
  const updated = watcher.nextUpdate()
  await page.click("[data-testid=first] .type")
  expect(await updated).toEqual({ name: "ada", typing: true })
  expect(watcher.events).toEqual(["joined ada"])
  expect(relay.repo.getRoom("strict")?.getMembers()).toHaveLength(2)
})

it("renders presence changes on both sides, and members grouped by user", async () => {
  const watcher = await observer("presence")
  const page = await openPage("bea", "presence")
  await expect.poll(() => text(page, "[data-testid=first] .members").textContent()).toContain("observer")
  await expect.poll(() => text(page, "[data-testid=first] .users").textContent()).toBe("2 users")
  watcher.room.updatePresence({ typing: true })
  await expect
    .poll(() => text(page, "[data-testid=first] .members").textContent())
    .toContain("observer (typing)")
  const updated = watcher.nextUpdate()
  await page.click("[data-testid=first] .type")
  expect(await updated).toEqual({ name: "bea", typing: true })
  expect(await text(page, "[data-testid=first] .me").textContent()).toBe("typing")
})

it("useBroadcast sends to the room and hands what arrives to the latest handler", async () => {
  const watcher = await observer("broadcast")
  const page = await openPage("cy", "broadcast")
  await expect.poll(() => text(page, "[data-testid=first] .members").textContent()).toContain("observer")
  const heard = new Promise((resolve) =>
    watcher.room.on("broadcast", { event: "shout" }, ({ payload }) => resolve(payload)),
  )
  await page.click("[data-testid=first] .shout")
  expect(await heard).toBe("from cy")
  watcher.room.broadcast("shout", "one")
  watcher.room.broadcast("shout", "two")
  await expect.poll(() => text(page, "[data-testid=first] .heard").textContent()).toBe("one,two")
})

it("unmounting the last component in a room leaves it: the others see the member leave once", async () => {
  const watcher = await observer("unmount")
  const page = await openPage("dan", "unmount")
  await expect.poll(() => watcher.events).toEqual(["joined dan"])
  await page.evaluate(() => (window as unknown as { harness: Harness }).harness.show("second", true))
  await page.evaluate(() => (window as unknown as { harness: Harness }).harness.show("first", false))
  // The second component still uses the room: a presence round trip proves nobody left.
  const updated = watcher.nextUpdate()
  await page.click("[data-testid=second] .type")
  await updated
  expect(watcher.events).toEqual(["joined dan"])

  const left = new Promise((resolve) => watcher.room.on("member-left", resolve))
  await page.evaluate(() => (window as unknown as { harness: Harness }).harness.show("second", false))
  await left
  expect(watcher.events).toEqual(["joined dan", "left dan"])
  expect(
    await page.evaluate(() => (window as unknown as { harness: Harness }).harness.joined("unmount")),
  ).toBe(false)
})

it("useDoc re-renders on remote changes, and reports the document ready and its changes saved", async () => {
  const watcher = await observer("doc")
  const page = await openPage("eve", "doc")
  const notes = watcher.repo.get("notes")
  notes.change((doc) => doc.getText("body").insert(0, "from node;"))
  await expect.poll(() => text(page, "[data-testid=doc] .text").textContent()).toContain("from node;")
  expect(await text(page, "[data-testid=doc] .status").textContent()).toBe("ready")
  await page.click("[data-testid=doc] .write")
  expect(await text(page, "[data-testid=doc] .text").textContent()).toMatch(/^eve/)
  // The relay keeps documents on disk: it acknowledges the write, and the page shows it saved.
  await expect.poll(() => text(page, "[data-testid=doc] .saved").textContent()).toBe("saved")
  await expect.poll(() => notes.doc.getText("body").toString()).toMatch(/^eve/)
})

it("useConnectionState follows the connection", async () => {
  const page = await openPage("fay", "connection")
  await expect.poll(() => text(page, "[data-testid=connection]").textContent()).toBe("open")
  await page.evaluate(() => (window as unknown as { harness: Harness }).harness.disconnect())
  await expect.poll(() => text(page, "[data-testid=connection]").textContent()).toBe("closed")
})

it("useConnectionState without a connection source follows the repo's peers", async () => {
  const page = await openPage("gus", "peers", "&connection=none")
  expect(await text(page, "[data-testid=connection]").textContent()).toBe("open")
  await page.evaluate(() => (window as unknown as { harness: Harness }).harness.disconnect())
  await expect.poll(() => text(page, "[data-testid=connection]").textContent()).toBe("closed")
})
