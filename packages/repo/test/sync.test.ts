import { Bridge, BridgeAdapter, MemoryStorage, Repo, type RepoOptions } from "@tandem/repo"
import { decodeImportBlobMeta } from "loro-crdt"
import { afterEach, describe, expect, it } from "vitest"
import { deferred, InstrumentedStorage, quiet, Recording, text, untilChanged, write } from "./helpers.js"

const repos: Repo[] = []
function repo(options: RepoOptions = {}): Repo {
  const made = new Repo(options)
  repos.push(made)
  return made
}
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.shutdown()))
})

const on = (bridge: Bridge) => [new BridgeAdapter(bridge)]

describe("documents over the bridge", () => {
  it("syncs a document between two repos, both ways", async () => {
    const bridge = new Bridge()
    const a = repo({ network: on(bridge) })
    const b = repo({ network: on(bridge) })
    const ha = a.get("notes")
    write(ha, 0, "hello")
    const hb = b.get("notes")
    expect(await hb.whenReady()).toBe("ready")
    await untilChanged(hb, () => text(hb) === "hello")
    write(hb, 5, " world")
    await untilChanged(ha, () => text(ha) === "hello world")
    expect(text(ha)).toBe("hello world")
  })

  it("converges three repos editing the same document at once", async () => {
    const bridge = new Bridge()
    const peers = [
      repo({ network: on(bridge) }),
      repo({ network: on(bridge) }),
      repo({ network: on(bridge) }),
    ]
    const handles = peers.map((peer) => peer.get("shared"))
    await quiet(bridge)
    for (const [i, handle] of handles.entries()) write(handle, 0, `[${i}]`)
    await quiet(bridge)
    const texts = handles.map(text)
    expect(new Set(texts).size).toBe(1)
    for (const i of [0, 1, 2]) expect(texts[0]).toContain(`[${i}]`)
  })

  it("merges edits made on both sides before they ever met", async () => {
    const bridge = new Bridge()
    const a = repo()
    const offline = a.get("d")
    write(offline, 0, "AAA")
    const b = repo({ network: on(bridge) })
    write(b.get("d"), 0, "BBB")
    const late = repo({ network: on(bridge) })
    // `a` has no network: share its edits through a third repo's bridge by opening it there.
    const viaLate = late.get("d")
    viaLate.doc.import(offline.doc.export({ mode: "snapshot" }))
    await quiet(bridge)
    expect(text(b.get("d"))).toBe(text(viaLate))
    expect(text(viaLate)).toContain("AAA")
    expect(text(viaLate)).toContain("BBB")
  })

  it("relays through a hub between spokes that never meet", async () => {
    const left = new Bridge()
    const right = new Bridge()
    repo({ relay: true, network: [new BridgeAdapter(left), new BridgeAdapter(right)] })
    const a = repo({ network: on(left) })
    const b = repo({ network: on(right) })
    const ha = a.get("doc")
    write(ha, 0, "from a")
    await quiet(left, right)
    const hb = b.get("doc")
    expect(await hb.whenReady()).toBe("ready")
    expect(text(hb)).toBe("from a")
    write(hb, 0, "b says: ")
    await untilChanged(ha, () => text(ha) === "b says: from a")
    expect(a.getPeers().map((peer) => peer.peerId)).not.toContain(b.peerId)
  })

  it("a hub keeps documents for peers without their state, and gives its own application the whole of one", async () => {
    const left = new Bridge()
    const right = new Bridge()
    const storage = new MemoryStorage()
    const hub = repo({
      relay: true,
      storage,
      saveDelay: 0,
      network: [new BridgeAdapter(left), new BridgeAdapter(right)],
    })
    const a = repo({ network: on(left) })
    const b = repo({ network: on(left) })
    const ha = a.get("doc")
    const hb = b.get("doc")
    write(ha, 0, "a")
    write(hb, 0, "b")
    await quiet(left, right)
    // Concurrent edits from two writers, none of them computed by the hub.
    for (let i = 0; i < 20; i++) {
      write(ha, 0, "a")
      write(hb, 0, "b")
    }
    await quiet(left, right)
    expect(text(ha)).toBe(text(hb))
    // A newcomer gets the whole document from the hub, and the hub's store can rebuild it.
    const c = repo({ network: on(right) })
    const hc = c.get("doc")
    expect(await hc.whenReady()).toBe("ready")
    await untilChanged(hc, () => text(hc) === text(ha))
    const restored = repo({ storage })
    const stored = restored.get("doc")
    await stored.whenReady()
    expect(text(stored)).toBe(text(ha))
    // The hub's own application sees the same text, and its edits reach the peers.
    const own = hub.get("doc")
    expect(text(own)).toBe(text(ha))
    write(own, 0, "hub:")
    await untilChanged(hc, () => text(hc).startsWith("hub:"))
    await untilChanged(ha, () => text(ha) === text(hc))
  })

  it("sends a peer with nothing the whole history as one update, never a snapshot", async () => {
    // A snapshot into a document someone watches makes Loro replay the history to build the
    // event: many times slower than the same history as an update (see DocStore).
    const bridge = new Bridge()
    const owner = repo({ network: on(bridge) })
    const written = owner.get("notes")
    for (let i = 0; i < 20; i++) write(written, 0, `${i} `)
    const recording = new Recording(new BridgeAdapter(bridge))
    const reader = repo({ network: [recording] })
    const read = reader.get("notes")
    read.on("change", () => {})
    await untilChanged(read, () => text(read) === text(written))
    const wholes = recording.received.flatMap((m) => (m.type === "sync-response" && m.data ? [m.data] : []))
    expect(wholes.length).toBeGreaterThan(0)
    for (const data of wholes) expect(decodeImportBlobMeta(data, false).mode).toBe("update")
  })

  it("never echoes an update back to the channel it came from", async () => {
    const left = new Bridge()
    const right = new Bridge()
    repo({ relay: true, network: [new BridgeAdapter(left), new BridgeAdapter(right)] })
    const recording = new Recording(new BridgeAdapter(left))
    const a = repo({ network: [recording] })
    const b = repo({ network: on(right) })
    const ha = a.get("doc")
    const hb = b.get("doc")
    await quiet(left, right)
    recording.received.length = 0
    for (let i = 0; i < 10; i++) write(ha, 0, "x")
    await quiet(left, right)
    expect(text(hb)).toBe("x".repeat(10))
    expect(recording.received.filter((m) => m.type === "doc-update")).toEqual([])
    write(hb, 0, "y")
    await quiet(left, right)
    expect(recording.received.filter((m) => m.type === "doc-update")).toHaveLength(1)
  })

  it("syncs a document requested before any channel is established, once one is", async () => {
    const bridge = new Bridge()
    const a = repo({ network: on(bridge) })
    const early = a.get("later")
    expect(await early.whenReady()).toBe("unavailable")
    const b = repo({ network: on(bridge) })
    write(b.get("later"), 0, "arrived")
    await untilChanged(early, () => text(early) === "arrived")
    expect(early.status).toBe("ready")
  })

  it("asks storage before telling a peer a document is unavailable", async () => {
    const bridge = new Bridge()
    const backing = new MemoryStorage()
    const seed = new Repo({ storage: backing, saveDelay: 0 })
    write(seed.get("stored"), 0, "on disk")
    await seed.shutdown()

    const slow = new InstrumentedStorage(backing)
    const gate = deferred()
    slow.gate = gate.promise
    repo({ network: on(bridge), storage: slow })
    const asker = repo({ network: on(bridge) })
    const handle = asker.get("stored")
    await quiet(bridge)
    expect(handle.status).toBe("loading")
    gate.resolve()
    expect(await handle.whenReady()).toBe("ready")
    expect(text(handle)).toBe("on disk")
  })

  it("reports unavailable when no storage and no peer has the document", async () => {
    const bridge = new Bridge()
    repo({ network: on(bridge) })
    const asker = repo({ network: on(bridge) })
    const handle = asker.get("nobody-has-it")
    expect(await handle.whenReady()).toBe("unavailable")
    write(handle, 0, "now it exists")
    expect(handle.status).toBe("ready")
  })

  it("gives up waiting at the timeout, and when aborted", async () => {
    const stuck = new InstrumentedStorage(new MemoryStorage())
    const gate = deferred()
    stuck.gate = gate.promise
    const a = repo({ storage: stuck })
    const handle = a.get("never")
    await expect(handle.whenReady({ timeout: 20 })).rejects.toMatchObject({ code: "TIMEOUT" })
    const controller = new AbortController()
    const waiting = handle.whenReady({ signal: controller.signal })
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ code: "ABORTED" })
    gate.resolve()
  })

  it("shrugs off duplicated and reordered messages", async () => {
    let seed = 7
    const random = () => {
      seed = (seed * 16807) % 2147483647
      return seed / 2147483647
    }
    const bridge = new Bridge({ random })
    const a = repo({ network: on(bridge) })
    const b = repo({ network: on(bridge) })
    const ha = a.get("d")
    const hb = b.get("d")
    await quiet(bridge)
    bridge.setFaults({ duplicate: 0.5, reorder: 0.5 })
    for (let i = 0; i < 50; i++) write(i % 2 ? ha : hb, 0, String(i % 10))
    await quiet(bridge)
    bridge.heal()
    await quiet(bridge)
    expect(text(ha)).toHaveLength(50)
    expect(text(hb)).toBe(text(ha))
  })

  it("deletes a document from memory, storage and its peers", async () => {
    const bridge = new Bridge()
    const storageA = new MemoryStorage()
    const storageB = new MemoryStorage()
    const a = repo({ network: on(bridge), storage: storageA, saveDelay: 0 })
    const b = repo({ network: on(bridge), storage: storageB, saveDelay: 0 })
    write(a.get("doomed"), 0, "bye")
    const hb = b.get("doomed")
    await untilChanged(hb, () => text(hb) === "bye")
    await a.flush()
    await b.flush()
    expect(await storageB.list()).toEqual(["doomed"])

    const deletedOnB = new Promise((resolve) => b.on("doc-deleted", resolve))
    await a.delete("doomed")
    expect(await deletedOnB).toEqual({ docId: "doomed", remote: true })
    await b.flush()
    expect(hb.status).toBe("deleted")
    expect(a.has("doomed")).toBe(false)
    expect(b.has("doomed")).toBe(false)
    expect(await storageA.list()).toEqual([])
    expect(await storageB.list()).toEqual([])
    expect(() => write(hb, 0, "too late")).toThrow(/deleted/)
  })

  it("never lets two repos write under one Loro peer id, even given the same peerId", async () => {
    const bridge = new Bridge()
    const tab1 = repo({ peerId: "same", network: on(bridge) })
    const tab2 = repo({ peerId: "same", network: on(bridge) })
    const one = tab1.get("d")
    const two = tab2.get("d")
    await quiet(bridge)
    write(one, 0, "one")
    write(two, 0, "two")
    expect(one.doc.peerIdStr).not.toBe(two.doc.peerIdStr)
    await quiet(bridge)
    expect(text(one)).toBe(text(two))
    expect(text(one)).toHaveLength(6)
  })

  it("reports local and remote changes with their origin", async () => {
    const bridge = new Bridge()
    const a = repo({ network: on(bridge) })
    const b = repo({ network: on(bridge) })
    const ha = a.get("d")
    const hb = b.get("d")
    await quiet(bridge)
    const seenA: unknown[] = []
    const seenB: unknown[] = []
    ha.on("change", ({ local, origin, from }) => seenA.push({ local, origin, from }))
    hb.on("change", ({ local, origin, from }) => seenB.push({ local, origin, from }))
    ha.change((doc) => doc.getText("t").insert(0, "x"), { origin: "keyboard" })
    await quiet(bridge)
    expect(seenA).toEqual([{ local: true, origin: "keyboard", from: undefined }])
    expect(seenB).toEqual([{ local: false, origin: undefined, from: a.peerId }])
  })
})

describe("saving", () => {
  it("batches changes into one write and compacts when updates outgrow the snapshot", async () => {
    const storage = new InstrumentedStorage(new MemoryStorage())
    const a = repo({ storage, saveDelay: 20 })
    const handle = a.get("d")
    for (let i = 0; i < 100; i++) write(handle, 0, "x")
    await a.flush()
    // A new document's first write is a snapshot.
    expect(storage.calls.filter((call) => call !== "load d")).toEqual(["compact d"])
    write(handle, 0, "y")
    await a.flush()
    expect(storage.calls.at(-1)).toBe("append d")
    for (let round = 0; round < 20; round++) {
      write(handle, 0, "z".repeat(50))
      await a.flush()
    }
    expect(storage.calls.filter((call) => call === "compact d").length).toBeGreaterThan(1)
    const reread = new Repo({ storage })
    const copy = reread.get("d")
    await copy.whenReady()
    expect(text(copy)).toBe(text(handle))
    await reread.shutdown()
  })

  it("opens a stored snapshot into a watched document as its history in one update", async () => {
    // Loro builds a snapshot's event by replaying the history through its diff calculator: many
    // times slower than importing the same history as an update (see DocStore).
    const storage = new MemoryStorage()
    const writer = repo({ storage })
    const written = writer.get("d")
    for (let i = 0; i < 30; i++) write(written, 0, `${i} `)
    await writer.flush()
    expect((await storage.load("d"))?.snapshot).toBeDefined()

    const reader = repo({ storage })
    const handle = reader.get("d")
    const imported: string[] = []
    const importBatch = handle.doc.importBatch.bind(handle.doc)
    handle.doc.importBatch = (chunks) => {
      imported.push(...chunks.map((chunk) => decodeImportBlobMeta(chunk, false).mode))
      return importBatch(chunks)
    }
    const inserted: string[] = []
    handle.on("change", ({ batch }) => {
      for (const event of batch.events) {
        if (event.diff.type === "text") for (const d of event.diff.diff) if (d.insert) inserted.push(d.insert)
      }
    })
    expect(await handle.whenReady()).toBe("ready")
    expect(imported).toEqual(["update"])
    expect(inserted.join("")).toBe(text(written))
    expect(handle.doc.oplogVersion().compare(written.doc.oplogVersion())).toBe(0)
  })

  it("writes pending changes on shutdown", async () => {
    const storage = new MemoryStorage()
    const a = new Repo({ storage, saveDelay: 60_000 })
    write(a.get("d"), 0, "kept")
    await a.shutdown()
    const b = repo({ storage })
    const handle = b.get("d")
    await handle.whenReady()
    expect(text(handle)).toBe("kept")
  })

  it("reports storage that cannot be read, and never writes over it", async () => {
    const storage = new InstrumentedStorage(new MemoryStorage())
    storage.failLoad = "checksum mismatch"
    const a = repo({ storage, saveDelay: 0 })
    const errors: unknown[] = []
    a.on("error", (error) => errors.push(error))
    const handle = a.get("broken")
    await handle.whenReady()
    write(handle, 0, "new")
    await a.flush()
    expect(errors).toEqual([
      expect.objectContaining({
        code: "STORAGE_FAILED",
        docId: "broken",
        message: expect.stringContaining("checksum mismatch"),
      }),
    ])
    expect(storage.calls).toEqual(["load broken"])
  })
})
