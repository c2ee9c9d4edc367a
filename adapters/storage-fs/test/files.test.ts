import { mkdir, readdir, writeFile } from "node:fs/promises"
import { basename, join } from "node:path"
import { FsStorage } from "@tandem/storage-fs"
import { afterAll, describe, expect, it } from "vitest"
import { bytes, docPaths, removeTempDirs, tempDir } from "./helpers.js"

afterAll(removeTempDirs)

const hostileIds = [
  "a",
  "ab",
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

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true })
  return entries.map((entry) => entry.split("\\").join("/")).sort()
}

describe("files on disk", () => {
  it("keeps every id, however hostile, in files named by its hash inside the directory, across a restart", async () => {
    const parent = await tempDir()
    const dir = join(parent, "store")
    const storage = await FsStorage.open({ dir })
    for (const [index, id] of hostileIds.entries()) await storage.append(id, bytes(index))
    await storage.compact("a/b", bytes(99))
    await storage.close()

    expect(await readdir(parent)).toEqual(["store"])
    for (const file of await filesUnder(dir)) {
      expect(file).toMatch(/^(LOCK|docs|docs\/[0-9a-f]{64}\.(log|snapshot))$/)
    }

    const reopened = await FsStorage.open({ dir })
    expect((await reopened.list()).sort()).toEqual([...hostileIds].sort())
    for (const [index, id] of hostileIds.entries()) {
      const expected = id === "a/b" ? { snapshot: bytes(99), updates: [] } : { updates: [bytes(index)] }
      expect(await reopened.load(id), JSON.stringify(id)).toEqual(expected)
    }
    await reopened.close()
  })

  it("refuses an id with a lone surrogate, which has no UTF-8 form to be stored under", async () => {
    const storage = await FsStorage.open({ dir: await tempDir() })
    await expect(storage.append("\ud800", bytes(1))).rejects.toThrow("is not valid Unicode")
    await storage.close()
  })

  it("purges every file of a removed document, a leftover half-written snapshot included", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    await storage.compact("doc", bytes(1))
    await storage.append("doc", bytes(2))
    await storage.append("kept", bytes(3))
    await writeFile(docPaths(dir, "doc").snapshotTemp, bytes(4))
    await storage.remove("doc")
    expect((await readdir(join(dir, "docs"))).sort()).toEqual([basename(docPaths(dir, "kept").log)])
    expect(await storage.list()).toEqual(["kept"])
    await storage.close()
  })

  it("drops the log when compacting: the snapshot covers it", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    await storage.append("doc", bytes(1))
    await storage.compact("doc", bytes(1, 2))
    expect(await readdir(join(dir, "docs"))).toEqual([basename(docPaths(dir, "doc").snapshot)])
    await storage.close()
  })

  it("lists a document whose only files are damaged no more, and ignores files it did not write", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    await storage.append("doc", bytes(1))
    await storage.close()
    await writeFile(docPaths(dir, "doc").log, bytes(1, 2, 3))
    await writeFile(join(dir, "docs", "notes.txt"), "not a document")
    await mkdir(join(dir, "docs", "sub"))
    const reopened = await FsStorage.open({ dir })
    expect(await reopened.list()).toEqual([])
    expect(await reopened.load("doc")).toBeUndefined()
    await reopened.close()
  })
})

describe("buffers", () => {
  it("stores what the caller passed at the call, though it reuses its buffer before the write's turn", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir, groupCommitMs: 60_000 })
    const update = bytes(1, 2)
    const snapshot = bytes(3, 4)
    const appended = storage.append("a", update)
    void storage.append("b", bytes(0)) // waits for its window: the compaction below waits behind it
    const compacted = storage.compact("b", snapshot)
    update[0] = 9
    snapshot[0] = 9
    await compacted
    await storage.close()
    await appended

    const reopened = await FsStorage.open({ dir })
    expect(await reopened.load("a")).toEqual({ updates: [bytes(1, 2)] })
    expect(await reopened.load("b")).toEqual({ snapshot: bytes(3, 4), updates: [] })
    await reopened.close()
  })
})
