import { afterEach, describe, expect, it } from "vitest"
import type { StorageAdapter } from "../adapters/storage.js"
import { Repo } from "../repo.js"

export interface StorageConformanceOptions {
  /**
   * Opens the same backing store again after the first was closed, as a restarted process would.
   * Without it, the same adapter object is reused (right for stores that live in memory).
   */
  reopen?: (previous: StorageAdapter) => Promise<StorageAdapter>
}

const bytes = (...values: number[]) => new Uint8Array(values)

/**
 * The behaviour every storage adapter must have. Call it from a test file of the adapter:
 * `storageConformance("fs", () => FsStorage.open({ dir: tmp() }))`. `open` gives a fresh, empty
 * store each time.
 */
export function storageConformance(
  name: string,
  open: () => Promise<StorageAdapter> | StorageAdapter,
  options: StorageConformanceOptions = {},
): void {
  describe(`storage conformance: ${name}`, () => {
    const opened: StorageAdapter[] = []
    const fresh = async () => {
      const storage = await open()
      opened.push(storage)
      return storage
    }
    afterEach(async () => {
      for (const storage of opened.splice(0)) await storage.close?.()
    })

    it("loads nothing for an unknown document", async () => {
      const storage = await fresh()
      expect(await storage.load("missing")).toBeUndefined()
      expect(await storage.list()).toEqual([])
    })

    it("returns appended updates in order, byte for byte", async () => {
      const storage = await fresh()
      const all = bytes(...Array.from({ length: 256 }, (_, i) => i))
      await storage.append("doc", bytes(1, 2, 3))
      await storage.append("doc", all)
      await storage.append("doc", bytes(0))
      const stored = await storage.load("doc")
      expect(stored?.snapshot).toBeUndefined()
      expect(stored?.updates).toEqual([bytes(1, 2, 3), all, bytes(0)])
    })

    it("replaces everything appended before a compaction with the snapshot", async () => {
      const storage = await fresh()
      await storage.append("doc", bytes(1))
      await storage.append("doc", bytes(2))
      await storage.compact("doc", bytes(9, 9))
      await storage.append("doc", bytes(3))
      expect(await storage.load("doc")).toEqual({ snapshot: bytes(9, 9), updates: [bytes(3)] })
      await storage.compact("doc", bytes(8))
      expect(await storage.load("doc")).toEqual({ snapshot: bytes(8), updates: [] })
    })

    it("does not let a caller's later change to its buffer alter what was stored", async () => {
      const storage = await fresh()
      const update = bytes(1, 2, 3)
      await storage.append("doc", update)
      update[0] = 42
      expect((await storage.load("doc"))?.updates).toEqual([bytes(1, 2, 3)])
    })

    it("removes every trace of a document, and removing an unknown one is fine", async () => {
      const storage = await fresh()
      await storage.compact("doc", bytes(1))
      await storage.append("doc", bytes(2))
      await storage.append("other", bytes(3))
      await storage.remove("doc")
      await storage.remove("never-stored")
      expect(await storage.load("doc")).toBeUndefined()
      expect(await storage.list()).toEqual(["other"])
    })

    it("keeps documents with look-alike or hostile ids apart", async () => {
      const storage = await fresh()
      const ids = [
        "a",
        "ab",
        "A",
        "a/b",
        "a\\b",
        "../escape",
        "..",
        ".",
        "",
        "ü-文档-🦊",
        "x".repeat(1000),
        "nul\u0000byte",
        "CON",
      ]
      for (const [index, id] of ids.entries()) await storage.append(id, bytes(index))
      for (const [index, id] of ids.entries()) {
        expect((await storage.load(id))?.updates, id).toEqual([bytes(index)])
      }
      expect((await storage.list()).sort()).toEqual([...ids].sort())
    })

    it("handles many documents written at once", async () => {
      const storage = await fresh()
      const ids = Array.from({ length: 50 }, (_, i) => `doc-${i}`)
      await Promise.all(ids.map((id, i) => storage.append(id, bytes(i))))
      for (const [i, id] of ids.entries()) {
        expect((await storage.load(id))?.updates).toEqual([bytes(i)])
      }
    })

    it("persists what a repo writes, and a repo reads it back", async () => {
      const storage = await fresh()
      const writer = new Repo({ storage, saveDelay: 0 })
      const handle = writer.get("notes")
      for (let i = 0; i < 20; i++) handle.change((doc) => doc.getText("t").insert(0, `${i},`))
      await writer.flush()
      const expected = handle.doc.getText("t").toString()
      await writer.shutdown()

      const again = options.reopen ? await options.reopen(storage) : storage
      opened.push(again)
      const reader = new Repo({ storage: again })
      const read = reader.get("notes")
      expect(await read.whenReady()).toBe("ready")
      expect(read.doc.getText("t").toString()).toBe(expected)
      await reader.shutdown()
    })
  })
}
