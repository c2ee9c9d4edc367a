import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import { FsStorage } from "@tandem/storage-fs"
import { LoroDoc } from "loro-crdt"
import { withTempDir } from "./temp-dir.js"
import { TEXT, typingUpdates } from "./typing.js"

const DOC = "big"
/** Appends issued together share one write and one fsync (group commit): set-up, not measured. */
const APPEND_BATCH = 1000

/** One load: reading the files (`FsStorage.load`), then importing them into a fresh LoroDoc. */
export interface LoadRound {
  readMs: number
  importMs: number
}

export interface LoadResult {
  updates: number
  /** Bytes of the log holding every update, and of the snapshot that replaced it. */
  logBytes: number
  snapshotBytes: number
  /** Exporting a snapshot from the loaded document, and `FsStorage.compact` writing it (ms). */
  exportMs: number
  compactMs: number
  beforeCompaction: LoadRound[]
  afterCompaction: LoadRound[]
}

/**
 * A document of `count` one-keystroke Loro updates, each appended on its own, loaded `rounds`
 * times; then compacted into one snapshot and loaded `rounds` times again. Loading imports
 * the way a repo does (`importBatch` of the snapshot and updates), and each load is checked
 * against the original text. The files are in the page cache: this is not a cold read.
 */
export async function loadCompactionRun(count: number, rounds: number): Promise<LoadResult> {
  const { updates, doc: original } = typingUpdates(count)
  const text = original.getText(TEXT).toString()
  original.free()
  return withTempDir(async (dir) => {
    const storage = await FsStorage.open({ dir })
    try {
      for (let start = 0; start < updates.length; start += APPEND_BATCH) {
        await Promise.all(
          updates.slice(start, start + APPEND_BATCH).map((update) => storage.append(DOC, update)),
        )
      }
      const beforeCompaction: LoadRound[] = []
      for (let r = 0; r < rounds; r++) beforeCompaction.push(await loadRound(storage, text))
      const logBytes = await docBytes(dir, ".log")

      // What a repo does when updates outgrow the snapshot: export one from the loaded document.
      const loaded = await storage.load(DOC)
      const doc = new LoroDoc()
      doc.importBatch(loaded?.updates ?? [])
      const exportStarted = performance.now()
      const snapshot = doc.export({ mode: "snapshot" })
      doc.free()
      const compactStarted = performance.now()
      await storage.compact(DOC, snapshot)
      const compactMs = performance.now() - compactStarted
      const exportMs = compactStarted - exportStarted

      const afterCompaction: LoadRound[] = []
      for (let r = 0; r < rounds; r++) afterCompaction.push(await loadRound(storage, text))
      const snapshotBytes = await docBytes(dir, ".snapshot")
      return {
        updates: count,
        logBytes,
        snapshotBytes,
        exportMs,
        compactMs,
        beforeCompaction,
        afterCompaction,
      }
    } finally {
      await storage.close()
    }
  })
}

async function loadRound(storage: FsStorage, text: string): Promise<LoadRound> {
  const started = performance.now()
  const stored = await storage.load(DOC)
  const read = performance.now()
  if (!stored) throw new Error("the document is not in storage")
  const doc = new LoroDoc()
  try {
    doc.importBatch(stored.snapshot ? [stored.snapshot, ...stored.updates] : stored.updates)
    const imported = performance.now()
    if (doc.getText(TEXT).toString() !== text)
      throw new Error("the loaded document differs from the original")
    return { readMs: read - started, importMs: imported - read }
  } finally {
    doc.free()
  }
}

/** The size of the document's file with this suffix (there is one document in the directory). */
async function docBytes(dir: string, suffix: string): Promise<number> {
  const docs = join(dir, "docs")
  const name = (await readdir(docs)).find((file) => file.endsWith(suffix))
  if (!name) throw new Error(`no ${suffix} file`)
  return (await stat(join(docs, name))).size
}
