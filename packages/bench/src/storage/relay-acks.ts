import { Bridge, BridgeAdapter, Repo } from "@tandem/repo"
import { FsStorage } from "@tandem/storage-fs"
import { closedLoop } from "./closed-loop.js"
import { CountingStorage } from "./counting-storage.js"
import type { AppendShape } from "./raw-appends.js"
import { withTempDir } from "./temp-dir.js"
import { TEXT, typist } from "./typing.js"

/** One round through a relay: client edits acknowledged, and what the relay's storage did. */
export interface RelayRound {
  acknowledged: number
  elapsedMs: number
  /** Storage writes: appends, and compactions (snapshots) when updates outgrew the snapshot. */
  writes: number
  fsyncs: number
}

const ACK_TIMEOUT_MS = 30_000

/**
 * Ten clients on one document, not a hundred: every client imports every other's keystrokes,
 * all in this process, and Loro's import of an update concurrent with many others costs
 * milliseconds (a hundred concurrent editors: about 4 ms each, so one round of edits would take
 * some 40 s of CPU here). The relay's storage is not what limits that case.
 */
export const relayShapes: readonly AppendShape[] = [
  { name: "1 client", writers: 1, sharedDoc: false },
  { name: "100 clients, 100 documents", writers: 100, sharedDoc: false },
  { name: "10 clients, 1 document", writers: 10, sharedDoc: true },
]

/**
 * A relay as `@tandem/server` builds one (`relay: true`, `FsStorage`, `saveDelay: 0`) with one
 * in-memory bridge per client. Each client types into its document (or all into one) and waits
 * for the relay to acknowledge each keystroke (`whenAcknowledged`: the relay fsynced it) before
 * the next, for `ms`. A fresh directory and fresh repos per round.
 */
export async function relayRound(shape: AppendShape, ms: number): Promise<RelayRound> {
  return withTempDir(async (dir) => {
    const fs = await FsStorage.open({ dir })
    const storage = new CountingStorage(fs)
    const bridges = Array.from({ length: shape.writers }, () => new Bridge())
    const relay = new Repo({
      relay: true,
      storage,
      saveDelay: 0,
      network: bridges.map((bridge) => new BridgeAdapter(bridge)),
    })
    const clients = bridges.map((bridge) => new Repo({ network: [new BridgeAdapter(bridge)] }))
    try {
      const handles = clients.map((client, i) => client.get(shape.sharedDoc ? "doc" : `doc-${i}`))
      const keystrokes = handles.map((_, i) => typist(i + 1))
      const edit = async (writer: number) => {
        const handle = handles[writer]
        const keystroke = keystrokes[writer]
        if (!handle || !keystroke) throw new Error(`no client ${writer}`)
        handle.change((doc) => keystroke(doc.getText(TEXT)))
        await handle.whenAcknowledged({ timeout: ACK_TIMEOUT_MS })
      }
      // Every document exists on the relay and every channel syncs it before the clock starts.
      await Promise.all(handles.map((_, writer) => edit(writer)))
      const writes = () => storage.counts.appends + storage.counts.compactions
      const [writesBefore, fsyncsBefore] = [writes(), fs.stats.fsyncs]
      const result = await closedLoop(shape.writers, ms, edit)
      return {
        acknowledged: result.completed,
        elapsedMs: result.elapsedMs,
        writes: writes() - writesBefore,
        fsyncs: fs.stats.fsyncs - fsyncsBefore,
      }
    } finally {
      // The relay's shutdown closes its storage.
      await Promise.all([relay, ...clients].map((repo) => repo.shutdown()))
    }
  })
}
