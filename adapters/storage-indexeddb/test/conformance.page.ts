// Runs in chromium (bundled by test/conformance.test.ts): the storage conformance suite and the
// behaviour that is IndexedDB's own, against real IndexedDB.
import { Repo, type StorageAdapter, TandemError } from "@tandem/repo"
import { storageConformance } from "@tandem/repo/testing"
import { describe, expect, it } from "vitest"
import { runCollected } from "../../../scripts/browser/in-page-vitest.js"
import { IndexedDbStorage } from "../src/index.js"

let databases = 0
const freshName = () => `conformance-${++databases}`

const databaseOf = new WeakMap<StorageAdapter, string>()
const openNamed = async (database: string) => {
  const storage = await IndexedDbStorage.open({ database })
  databaseOf.set(storage, database)
  return storage
}

storageConformance(
  "indexeddb",
  async () => {
    const database = freshName()
    await IndexedDbStorage.deleteDatabase(database)
    return openNamed(database)
  },
  { reopen: async (previous) => openNamed(databaseOf.get(previous) ?? "unknown") },
)

const bytes = (...values: number[]) => new Uint8Array(values)

describe("indexeddb", () => {
  it("keeps documents in the database it was given, apart from other databases", async () => {
    const a = await IndexedDbStorage.open({ database: freshName() })
    const b = await IndexedDbStorage.open({ database: freshName() })
    await a.append("doc", bytes(1))
    expect(await b.load("doc")).toBeUndefined()
    expect(await a.list()).toEqual(["doc"])
    await Promise.all([a.close(), b.close()])
  })

  it("stores exactly the bytes of a view into a larger buffer", async () => {
    const storage = await IndexedDbStorage.open({ database: freshName() })
    const buffer = bytes(0, 1, 2, 3, 4, 5)
    await storage.append("doc", buffer.subarray(2, 4))
    const stored = await storage.load("doc")
    expect(stored?.updates[0]).toEqual(bytes(2, 3))
    expect(stored?.updates[0]?.buffer.byteLength).toBe(2)
    await storage.close()
  })

  it("two tabs on one database: a compaction never drops the other tab's unseen edits", async () => {
    const database = freshName()
    const tabA = await IndexedDbStorage.open({ database })
    const tabB = await IndexedDbStorage.open({ database })
    await tabA.load("doc")
    await tabB.load("doc")
    await tabA.append("doc", bytes(1))
    await tabB.append("doc", bytes(2)) // tab A never saw this one
    await tabA.compact("doc", bytes(9))
    await tabB.compact("doc", bytes(8)) // nor does tab B drop tab A's snapshot
    expect(await tabA.load("doc")).toEqual({ snapshot: bytes(8), updates: [bytes(9)] })
    await Promise.all([tabA.close(), tabB.close()])
  })

  it("two tabs with repos on one database both read back everything either wrote", async () => {
    const database = freshName()
    const alice = new Repo({ storage: await IndexedDbStorage.open({ database }), saveDelay: 0 })
    const bob = new Repo({ storage: await IndexedDbStorage.open({ database }), saveDelay: 0 })
    const a = alice.get("notes")
    const b = bob.get("notes")
    await Promise.all([a.whenReady(), b.whenReady()])
    for (let i = 0; i < 30; i++) {
      a.change((doc) => doc.getText("t").insert(0, "a"))
      b.change((doc) => doc.getText("t").insert(0, "b"))
    }
    await Promise.all([alice.shutdown(), bob.shutdown()])
    const reader = new Repo({ storage: await IndexedDbStorage.open({ database }) })
    const read = reader.get("notes")
    await read.whenReady()
    const text = read.doc.getText("t").toString()
    expect([text.split("a").length - 1, text.split("b").length - 1]).toEqual([30, 30])
    await reader.shutdown()
  })

  it("refuses work once closed, with STORAGE_FAILED, and closing twice is fine", async () => {
    const storage = await IndexedDbStorage.open({ database: freshName() })
    await storage.close()
    await storage.close()
    const error = await storage.append("doc", bytes(1)).catch((thrown: unknown) => thrown)
    expect(error).toBeInstanceOf(TandemError)
    expect((error as TandemError).code).toBe("STORAGE_FAILED")
    expect((error as TandemError).message).toMatch(/closed/)
  })

  it("lets another tab delete the database instead of blocking it, and then refuses work", async () => {
    const database = freshName()
    const storage = await IndexedDbStorage.open({ database })
    await storage.append("doc", bytes(1))
    await IndexedDbStorage.deleteDatabase(database)
    const error = await storage.load("doc").catch((thrown: unknown) => thrown)
    expect((error as TandemError).code).toBe("STORAGE_FAILED")
    const again = await IndexedDbStorage.open({ database })
    expect(await again.list()).toEqual([])
    await again.close()
  })
})

runCollected().then((results) => {
  ;(window as { testResults?: unknown }).testResults = results
})
