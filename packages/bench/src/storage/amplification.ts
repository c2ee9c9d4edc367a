import { readdir, stat } from "node:fs/promises"
import { join } from "node:path"
import { Repo } from "@tandem/repo"
import { FsStorage } from "@tandem/storage-fs"
import { CountingStorage, type WriteCounts } from "./counting-storage.js"
import { diskWriteBytes } from "./io-counters.js"
import { withTempDir } from "./temp-dir.js"
import { TEXT, typist } from "./typing.js"

const DOC = "notes"

export interface AmplificationResult {
  keystrokes: number
  /** Keystrokes per storage write: how many fall into one save window. */
  perWrite: number
  /** Loro update bytes of the keystrokes, as the repo sends them to peers. */
  payloadBytes: number
  counts: WriteCounts
  /** Pages the kernel was given to write (`/proc/self/io`), or undefined where not measured. */
  diskBytes: number | undefined
  fsyncs: number
  /** What the document's files measure at the end. */
  finalBytes: number
  elapsedMs: number
}

/**
 * Someone typing `keystrokes` characters into a repo with `FsStorage` and the default policy:
 * each save writes the updates since the last one, and once appended updates outgrow the last
 * snapshot the next save writes a new snapshot instead. The save window (`saveDelay`, 100 ms)
 * closes after every `perWrite` keystrokes: `repo.flush()` writes what is pending at once,
 * compaction included, as the window's timer would, without the wait.
 */
export async function amplificationRun(keystrokes: number, perWrite: number): Promise<AmplificationResult> {
  return withTempDir(async (dir) => {
    const fs = await FsStorage.open({ dir })
    const storage = new CountingStorage(fs)
    const repo = new Repo({ storage })
    try {
      const handle = repo.get(DOC)
      await handle.whenReady({ timeout: 10_000 })
      let payloadBytes = 0
      const unsubscribe = handle.doc.subscribeLocalUpdates((update) => {
        payloadBytes += update.byteLength
      })
      const keystroke = typist(7)
      const diskBefore = diskWriteBytes()
      const fsyncsBefore = fs.stats.fsyncs
      const started = performance.now()
      for (let i = 0; i < keystrokes; i++) {
        handle.change((doc) => keystroke(doc.getText(TEXT)))
        if ((i + 1) % perWrite === 0) await repo.flush()
      }
      await repo.flush()
      const elapsedMs = performance.now() - started
      const diskAfter = diskWriteBytes()
      unsubscribe()
      const finalBytes = await checkFiles(dir, storage.expectedFiles(DOC))
      return {
        keystrokes,
        perWrite,
        payloadBytes,
        counts: { ...storage.counts },
        diskBytes: diskBefore === undefined || diskAfter === undefined ? undefined : diskAfter - diskBefore,
        fsyncs: fs.stats.fsyncs - fsyncsBefore,
        finalBytes,
        elapsedMs,
      }
    } finally {
      await repo.shutdown()
    }
  })
}

/** The files on disk must measure what the counted writes say, or the byte counts are wrong. */
async function checkFiles(dir: string, expected: { log: number; snapshot: number }): Promise<number> {
  const docs = join(dir, "docs")
  let log = 0
  let snapshot = 0
  for (const name of await readdir(docs)) {
    const { size } = await stat(join(docs, name))
    if (name.endsWith(".log")) log += size
    else if (name.endsWith(".snapshot")) snapshot += size
  }
  if (log !== expected.log || snapshot !== expected.snapshot) {
    throw new Error(
      `files measure log ${log} + snapshot ${snapshot} bytes; the counted writes say ${expected.log} + ${expected.snapshot}`,
    )
  }
  return log + snapshot
}
