import { FsStorage } from "@tandem/storage-fs"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, tempDir } from "./helpers.js"

afterAll(removeTempDirs)

/** A distinct small update: the document's index and the update's index. */
const update = (doc: number, index: number) => new Uint8Array([doc, index >> 8, index & 0xff])

describe("group commit", () => {
  it("gives many concurrent appends to one document far fewer fsyncs than appends, and keeps their order", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    const before = storage.stats
    const updates = Array.from({ length: 200 }, (_, i) => update(0, i))
    await Promise.all(updates.map((u) => storage.append("doc", u)))
    const appends = storage.stats.appends - before.appends
    const fsyncs = storage.stats.fsyncs - before.fsyncs
    expect(appends).toBe(200)
    expect(fsyncs).toBeLessThan(appends / 10)
    await storage.close()

    const reopened = await FsStorage.open({ dir })
    expect((await reopened.load("doc"))?.updates).toEqual(updates)
    await reopened.close()
  })

  it("shares fsyncs among concurrent appends to many documents", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    const before = storage.stats
    const docs = 20
    const perDoc = 20
    const appends: Promise<void>[] = []
    for (let i = 0; i < perDoc; i++) {
      for (let doc = 0; doc < docs; doc++) appends.push(storage.append(`doc-${doc}`, update(doc, i)))
    }
    await Promise.all(appends)
    const fsyncs = storage.stats.fsyncs - before.fsyncs
    expect(storage.stats.appends - before.appends).toBe(docs * perDoc)
    expect(fsyncs).toBeLessThan((docs * perDoc) / 5)
    await storage.close()

    const reopened = await FsStorage.open({ dir })
    for (let doc = 0; doc < docs; doc++) {
      const expected = Array.from({ length: perDoc }, (_, i) => update(doc, i))
      expect((await reopened.load(`doc-${doc}`))?.updates, `doc-${doc}`).toEqual(expected)
    }
    await reopened.close()
  })

  it("gives appends awaited one after another an fsync each: nothing is acknowledged before it is durable", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir, groupCommitMs: 0 })
    await storage.append("doc", update(0, 0))
    const before = storage.stats.fsyncs
    for (let i = 1; i <= 10; i++) await storage.append("doc", update(0, i))
    expect(storage.stats.fsyncs - before).toBe(10)
    await storage.close()
  })

  it("writes appends still waiting for their window when the storage closes", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir, groupCommitMs: 60_000 })
    let acknowledged = false
    const appended = storage.append("doc", update(0, 1)).then(() => {
      acknowledged = true
    })
    await storage.close()
    expect(acknowledged).toBe(true)
    await appended

    const reopened = await FsStorage.open({ dir })
    expect((await reopened.load("doc"))?.updates).toEqual([update(0, 1)])
    await reopened.close()
  })

  it("refuses a window that is not a number of milliseconds", async () => {
    const dir = await tempDir()
    await expect(FsStorage.open({ dir, groupCommitMs: -1 })).rejects.toThrow("groupCommitMs must be")
    await expect(FsStorage.open({ dir, groupCommitMs: Number.NaN })).rejects.toThrow("groupCommitMs must be")
  })
})
