import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { Repo } from "@tandem/repo"
import { createServer } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import { LoroDoc } from "loro-crdt"
import { WebSocket } from "ws"
import { TEXT } from "./typing.js"

/** Snapshots written at once while filling the directory: set-up, not measured. */
const FILL_BATCH = 100

export interface StartupRound {
  /** `FsStorage.open` of the data directory (ms). */
  openMs: number
  /** From `open` until `createServer` resolved: listening (ms). */
  listenMs: number
  /** From `open` until the first HTTP request (`/healthz`) was answered (ms). */
  readyMs: number
  /** A new client's first document: connect, handshake, the relay loads it from disk, sync (ms). */
  firstDocMs: number
  /** Another document on the same connection: the relay's load from disk and the sync (ms). */
  nextDocMs: number
}

/** The text each stored document holds, so a client can check what it got. */
export function docText(i: number): string {
  return `document ${i}: a few words of text`
}

/** Fills `dir` with small documents `doc-<i>`, each one snapshot (a repo's first write of a document). */
export async function fillDocuments(dir: string, indices: readonly number[]): Promise<void> {
  const storage = await FsStorage.open({ dir })
  try {
    for (let start = 0; start < indices.length; start += FILL_BATCH) {
      const batch = indices.slice(start, start + FILL_BATCH)
      await Promise.all(batch.map((i) => storage.compact(`doc-${i}`, snapshotOf(docText(i)))))
    }
  } finally {
    await storage.close()
  }
}

function snapshotOf(text: string): Uint8Array {
  const doc = new LoroDoc()
  doc.getText(TEXT).insert(0, text)
  doc.commit()
  const snapshot = doc.export({ mode: "snapshot" })
  doc.free()
  return snapshot
}

/**
 * A relay starting on a data directory, as `tandem serve` does: `FsStorage.open`, then
 * `createServer` on a free port, until it answers `/healthz`; then a client over WebSocket asks
 * for one stored document, and then for another. Everything is closed afterwards.
 */
export async function startupRound(dir: string, docs: readonly [number, number]): Promise<StartupRound> {
  const started = performance.now()
  const storage = await FsStorage.open({ dir })
  const opened = performance.now()
  const relay = await createServer({ port: 0, host: "127.0.0.1", storage })
  const listening = performance.now()
  let client: Repo | undefined
  try {
    const health = await fetch(`http://127.0.0.1:${relay.port}/healthz`)
    if (!health.ok) throw new Error(`/healthz answered ${health.status}`)
    await health.text()
    const ready = performance.now()

    client = new Repo({ network: [new WebSocketClientAdapter({ url: relay.url, WebSocket })] })
    const firstDocMs = await timeDoc(client, docs[0])
    const nextDocMs = await timeDoc(client, docs[1])
    return {
      openMs: opened - started,
      listenMs: listening - started,
      readyMs: ready - started,
      firstDocMs,
      nextDocMs,
    }
  } finally {
    await client?.shutdown()
    // The relay's repo closes the storage.
    await relay.close()
  }
}

async function timeDoc(client: Repo, doc: number): Promise<number> {
  const docId = `doc-${doc}`
  const started = performance.now()
  const handle = client.get(docId)
  const status = await handle.whenReady({ timeout: 10_000 })
  const elapsed = performance.now() - started
  if (status !== "ready" || handle.doc.getText(TEXT).toString() !== docText(doc)) {
    throw new Error(`the client did not get ${docId}: ${status}`)
  }
  return elapsed
}
