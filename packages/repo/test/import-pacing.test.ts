import { type Channel, type NetworkAdapter, type NetworkEvents, type PeerMessage, Repo } from "@tandem/repo"
import { LoroDoc } from "loro-crdt"
import { afterEach, describe, expect, it } from "vitest"
import { ImportPacer } from "../src/runtime/import-pacer.js"

describe("ImportPacer", () => {
  let clock = 0
  const pacer = () => new ImportPacer(() => clock)

  it("never holds back a document whose imports are cheap", () => {
    const pacing = pacer()
    pacing.took("d", 0.3)
    expect(pacing.wait("d")).toBe(0)
    pacing.took("d", 9)
    expect(pacing.wait("d")).toBe(0)
  })

  it("rests a document four times as long as its slow import took, at most half a second", () => {
    const pacing = pacer()
    clock = 1000
    pacing.took("d", 20)
    expect(pacing.wait("d")).toBe(80)
    expect(pacing.wait("other")).toBe(0)
    clock = 1070
    expect(pacing.wait("d")).toBe(10)
    clock = 1080
    expect(pacing.wait("d")).toBe(0)
    pacing.took("d", 2_000)
    expect(pacing.wait("d")).toBe(500)
    pacing.forget("d")
    expect(pacing.wait("d")).toBe(0)
  })

  it("ends the rest when the next import is cheap again", () => {
    const pacing = pacer()
    clock = 0
    pacing.took("d", 20)
    pacing.took("d", 0.1)
    expect(pacing.wait("d")).toBe(0)
  })
})

/**
 * Updates from two writers who never hear each other: each new edit is concurrent with the other
 * writer's whole history, so no version is one that every later change descends from, and each
 * import into a document with state replays the history (loro-crdt 1.17: ~10 ms at 400 edits).
 */
function apartUpdates(edits: number): Uint8Array[] {
  const writers = [new LoroDoc(), new LoroDoc()]
  return Array.from({ length: edits }, (_, n) => {
    const doc = writers[n % 2] as LoroDoc
    const before = doc.oplogVersion()
    doc.getText("t").insert(0, `[${n}]`)
    doc.commit()
    return doc.export({ mode: "update", from: before })
  })
}

/** A relay peer the test speaks for: it greets the repo and then sends what the test gives it. */
class Feeder implements NetworkAdapter {
  readonly kind = "feeder"
  #events: NetworkEvents | null = null
  readonly #channel: Channel = { send: () => {}, close: () => {} }

  async start(events: NetworkEvents): Promise<void> {
    this.#events = events
    events.opened(this.#channel)
    this.send({ type: "hello", protocol: 1, peerId: "feeder", session: "s", identity: {}, relay: true })
  }

  send(message: PeerMessage): void {
    this.#events?.received(this.#channel, message)
  }

  async stop(): Promise<void> {
    this.#events = null
  }
}

const repos: Repo[] = []
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.shutdown()))
})

describe("imports under concurrent history", () => {
  it("imports what arrives while a slow import rests in a batch, and loses none of it", async () => {
    const updates = apartUpdates(450)
    const whole = new LoroDoc()
    whole.importBatch(updates)
    const history = new LoroDoc()
    history.importBatch(updates.slice(0, 400))

    const feeder = new Feeder()
    const observer = new Repo({ network: [feeder] })
    repos.push(observer)
    const handle = observer.get("doc")
    let remoteChanges = 0
    handle.on("change", ({ local }) => {
      if (!local) remoteChanges++
    })
    feeder.send({ type: "doc-update", docId: "doc", data: history.export({ mode: "update" }) })
    // The other 50 arrive one per task: without pacing, 50 imports, each replaying the history.
    for (const data of updates.slice(400)) {
      await new Promise((resolve) => setImmediate(resolve))
      feeder.send({ type: "doc-update", docId: "doc", data })
    }
    const expected = whole.getText("t").toString()
    while (handle.doc.getText("t").toString() !== expected) {
      await new Promise<void>((resolve) => {
        const stop = handle.on("change", () => {
          stop()
          resolve()
        })
      })
    }
    expect(remoteChanges).toBeLessThan(1 + 50)
    expect(handle.doc.oplogVersion().toJSON()).toEqual(whole.oplogVersion().toJSON())
  })

  it("imports what rests at once when the repo is flushed", async () => {
    const updates = apartUpdates(402)
    const history = new LoroDoc()
    history.importBatch(updates.slice(0, 400))
    const feeder = new Feeder()
    const observer = new Repo({ network: [feeder] })
    repos.push(observer)
    const handle = observer.get("doc")
    // An application watching the document: Loro then works out what each import changed, and
    // importing the history takes ~150 ms here (pacing starts at 10 ms).
    handle.on("change", () => {})
    feeder.send({ type: "doc-update", docId: "doc", data: history.export({ mode: "update" }) })
    await new Promise((resolve) => setImmediate(resolve))
    feeder.send({ type: "doc-update", docId: "doc", data: updates[400] as Uint8Array })
    await new Promise((resolve) => setImmediate(resolve))
    feeder.send({ type: "doc-update", docId: "doc", data: updates[401] as Uint8Array })
    const text = () => handle.doc.getText("t").toString()
    expect(text()).not.toContain("[401]")
    await observer.flush()
    expect(text()).toContain("[400]")
    expect(text()).toContain("[401]")
  })
})
