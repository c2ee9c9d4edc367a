import { FsStorage } from "@tandem/storage-fs"
import { closedLoop } from "./closed-loop.js"
import { withTempDir } from "./temp-dir.js"

/** Who appends: how many writers, each on a document of its own or all on one. */
export interface AppendShape {
  name: string
  writers: number
  sharedDoc: boolean
}

export const appendShapes: readonly AppendShape[] = [
  { name: "1 writer", writers: 1, sharedDoc: false },
  { name: "100 writers, 100 documents", writers: 100, sharedDoc: false },
  { name: "100 writers, 1 document", writers: 100, sharedDoc: true },
]

/** One round: appends acknowledged, over how long, and the fsyncs they took. */
export interface AppendRound {
  appends: number
  elapsedMs: number
  fsyncs: number
}

/**
 * `FsStorage.append` straight, no repo: each writer appends a small Loro update and waits for
 * it to be durable before its next one, for `ms`. A fresh directory per round.
 */
export async function rawAppendRound(
  shape: AppendShape,
  payloads: readonly Uint8Array[],
  ms: number,
): Promise<AppendRound> {
  return withTempDir(async (dir) => {
    const storage = await FsStorage.open({ dir })
    try {
      const next = Array.from({ length: shape.writers }, (_, w) => w)
      const result = await closedLoop(shape.writers, ms, async (writer) => {
        const i = next[writer] ?? 0
        next[writer] = i + shape.writers
        await storage.append(
          shape.sharedDoc ? "doc" : `doc-${writer}`,
          payloads[i % payloads.length] as Uint8Array,
        )
      })
      const { appends, fsyncs } = storage.stats
      if (appends !== result.completed)
        throw new Error(`${appends} appends counted, ${result.completed} made`)
      return { appends, elapsedMs: result.elapsedMs, fsyncs }
    } finally {
      await storage.close()
    }
  })
}
