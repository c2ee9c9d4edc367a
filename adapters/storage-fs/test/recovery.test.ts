import { readFile, stat, writeFile } from "node:fs/promises"
import { crc32 } from "node:zlib"
import { Repo } from "@tandem/repo"
import { FsStorage } from "@tandem/storage-fs"
import { afterAll, describe, expect, it } from "vitest"
import { bytes, docPaths, flipBit, headerBytes, recordBytes, removeTempDirs, tempDir } from "./helpers.js"

afterAll(removeTempDirs)

const id = "notes"
const written = [bytes(1), bytes(2, 2), new Uint8Array(20).fill(3), new Uint8Array(5).fill(4)]
const later = bytes(7, 7, 7)

/** A directory whose log for `id` holds `written`, one append each, and the log's bytes. */
async function storedLog(): Promise<{ dir: string; log: Uint8Array }> {
  const dir = await tempDir()
  const storage = await FsStorage.open({ dir })
  for (const update of written) await storage.append(id, update)
  await storage.close()
  return { dir, log: await readFile(docPaths(dir, id).log) }
}

/** Where each record of `written` ends in the log. */
function recordEnds(): number[] {
  const ends: number[] = []
  let end = headerBytes(id)
  for (const update of written) {
    end += recordBytes(update)
    ends.push(end)
  }
  return ends
}

/** How many records lie wholly before `offset`: what survives damage that starts there. */
function intactBefore(offset: number): number {
  return recordEnds().filter((end) => end <= offset).length
}

/** How long the log is once damage that starts at `offset` is cut off (0: the log is dropped). */
function intactLength(offset: number): number {
  if (offset < headerBytes(id)) return 0
  return recordEnds()[intactBefore(offset) - 1] ?? headerBytes(id)
}

async function load(dir: string) {
  const storage = await FsStorage.open({ dir })
  try {
    return await storage.load(id)
  } finally {
    await storage.close()
  }
}

/** Opens the damaged store, runs `first`, appends `later`, and returns what a reopened store loads. */
async function appendAfterDamage(dir: string, first: (storage: FsStorage) => Promise<void>) {
  const storage = await FsStorage.open({ dir })
  await first(storage)
  await storage.append(id, later)
  await storage.close()
  return load(dir)
}

describe("a torn or corrupt log", () => {
  it("cut anywhere (a crash mid-append) keeps every record before the cut and drops the torn one", async () => {
    const { dir, log } = await storedLog()
    const path = docPaths(dir, id).log
    expect(log.byteLength).toBe(recordEnds().at(-1))
    for (let cut = 0; cut < log.byteLength; cut++) {
      await writeFile(path, log.subarray(0, cut))
      const kept = written.slice(0, intactBefore(cut))
      const storage = await FsStorage.open({ dir })
      const stored = await storage.load(id)
      expect(stored, `cut at ${cut}`).toEqual(kept.length > 0 ? { updates: kept } : undefined)
      // Cut off for good, so the next append does not land after the torn bytes.
      const size = (await stat(path).catch(() => ({ size: 0 }))).size
      expect(size, `cut at ${cut}`).toBe(intactLength(cut))
      await storage.append(id, later)
      await storage.close()
      expect((await load(dir))?.updates, `cut at ${cut}`).toEqual([...kept, later])
    }
  })

  it("with a bit flipped anywhere keeps every record before the damaged one", async () => {
    const { dir, log } = await storedLog()
    const path = docPaths(dir, id).log
    for (let offset = 0; offset < log.byteLength; offset++) {
      await writeFile(path, flipBit(log, offset))
      const kept = written.slice(0, intactBefore(offset))
      expect((await load(dir))?.updates ?? [], `bit flipped at ${offset}`).toEqual(kept)
      expect((await stat(path).catch(() => ({ size: 0 }))).size, `bit flipped at ${offset}`).toBe(
        intactLength(offset),
      )
      expect((await appendAfterDamage(dir, async () => {}))?.updates, `bit flipped at ${offset}`).toEqual([
        ...kept,
        later,
      ])
    }
  })

  it("is repaired by an append that comes before any load", async () => {
    const { dir, log } = await storedLog()
    const path = docPaths(dir, id).log
    const ends = recordEnds()
    for (const cut of [ends[1] as number, (ends[2] as number) - 3, (ends[3] as number) - 1]) {
      await writeFile(path, log.subarray(0, cut))
      const kept = written.slice(0, intactBefore(cut))
      const stored = await appendAfterDamage(dir, async () => {})
      expect(stored?.updates, `cut at ${cut}`).toEqual([...kept, later])
    }
  })

  it("keeps the snapshot when only the log is damaged", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    await storage.compact(id, bytes(9, 9))
    await storage.append(id, bytes(1))
    await storage.append(id, bytes(2))
    await storage.close()
    const path = docPaths(dir, id).log
    const log = await readFile(path)
    await writeFile(path, log.subarray(0, log.byteLength - 1))
    expect(await load(dir)).toEqual({ snapshot: bytes(9, 9), updates: [bytes(1)] })
  })
})

describe("a corrupt snapshot", () => {
  async function storedSnapshot() {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    await storage.compact(
      id,
      new Uint8Array(50).map((_, i) => i),
    )
    await storage.append(id, bytes(1))
    await storage.close()
    const paths = docPaths(dir, id)
    return { dir, paths, snapshot: await readFile(paths.snapshot), log: await readFile(paths.log) }
  }

  it("with a bit flipped anywhere makes load throw an error naming the document, and is left as it was", async () => {
    const { dir, paths, snapshot, log } = await storedSnapshot()
    for (let offset = 0; offset < snapshot.byteLength; offset++) {
      const damaged = flipBit(snapshot, offset)
      await writeFile(paths.snapshot, damaged)
      await expect(load(dir), `bit flipped at ${offset}`).rejects.toThrow(`snapshot of "notes" is corrupt`)
      expect(await readFile(paths.snapshot)).toEqual(Buffer.from(damaged))
      expect(await readFile(paths.log)).toEqual(log)
    }
  })

  it("cut short anywhere makes load throw an error naming the document", async () => {
    const { dir, paths, snapshot } = await storedSnapshot()
    for (let cut = 0; cut < snapshot.byteLength; cut++) {
      await writeFile(paths.snapshot, snapshot.subarray(0, cut))
      await expect(load(dir), `cut at ${cut}`).rejects.toThrow(`snapshot of "notes" is corrupt`)
    }
  })

  it("says what is wrong with it", async () => {
    const { dir, paths, snapshot } = await storedSnapshot()
    const cases: [Uint8Array, string][] = [
      [flipBit(snapshot, 0), "bad header"],
      [flipBit(snapshot, snapshot.byteLength - 1), "checksum mismatch"],
      [snapshot.subarray(0, snapshot.byteLength - 1), "truncated"],
      [Buffer.concat([snapshot, bytes(0)]), "unexpected bytes after its end"],
    ]
    for (const [damaged, reason] of cases) {
      await writeFile(paths.snapshot, damaged)
      await expect(load(dir)).rejects.toThrow(`snapshot of "notes" is corrupt: ${reason}`)
    }
  })
})

describe("files that are intact but not this version's or not this document's", () => {
  it("a log of an unknown format version is refused and left alone, not cut off as damage", async () => {
    const { dir, log } = await storedLog()
    const path = docPaths(dir, id).log
    const newer = Buffer.from(log)
    newer.writeUInt32BE(2, 4)
    const checked = headerBytes(id) - 4
    newer.writeUInt32BE(crc32(newer.subarray(0, checked)), checked)
    await writeFile(path, newer)
    await expect(load(dir)).rejects.toThrow(`the log of "notes" is in format version 2`)
    expect(await readFile(path)).toEqual(newer)
  })

  it("a file that holds another document's id is refused", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    await storage.append("a", bytes(1))
    await storage.compact("b", bytes(2))
    await storage.close()
    await writeFile(docPaths(dir, "b").snapshot, await readFile(docPaths(dir, "a").log))
    await writeFile(docPaths(dir, "c").log, await readFile(docPaths(dir, "a").log))
    const reopened = await FsStorage.open({ dir })
    await expect(reopened.load("b")).rejects.toThrow(`snapshot of "b" is corrupt: bad header`)
    await expect(reopened.load("c")).rejects.toThrow(`the log file for "c" holds "a"`)
    await reopened.close()
  })
})

describe("a crash during compaction", () => {
  it("between the snapshot's rename and the log's removal loses nothing and applies nothing twice", async () => {
    const dir = await tempDir()
    const storage = await FsStorage.open({ dir })
    const writer = new Repo({ storage, saveDelay: 0 })
    const handle = writer.get("notes")
    // A large first snapshot, so the repo appends the small changes after it instead of compacting.
    handle.change((doc) => doc.getText("t").insert(0, "x".repeat(2000)))
    await writer.flush()
    for (let i = 0; i < 5; i++) {
      handle.change((doc) => doc.getText("t").insert(0, `${i},`))
      await writer.flush()
    }
    const expected = handle.doc.getText("t").toString()
    const { log } = docPaths(dir, "notes")
    const oldLog = await readFile(log)
    await storage.compact("notes", handle.doc.export({ mode: "snapshot" }))
    await writer.shutdown()
    await writeFile(log, oldLog)

    const reopened = await FsStorage.open({ dir })
    const stored = await reopened.load("notes")
    expect(stored?.snapshot).toBeDefined()
    expect(stored?.updates.length).toBeGreaterThan(0)
    const reader = new Repo({ storage: reopened })
    const read = reader.get("notes")
    expect(await read.whenReady()).toBe("ready")
    expect(read.doc.getText("t").toString()).toBe(expected)
    await reader.shutdown()
  })
})
