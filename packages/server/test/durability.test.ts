import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createServer } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import { LoroDoc } from "loro-crdt"
import { describe, expect, it } from "vitest"
import { type Client, connect } from "./helpers.js"
import { freePort } from "./ports.js"
import { startRelayProcess } from "./relay-process.js"

function startRelay(port: number, dir: string): Promise<ChildProcess> {
  return startRelayProcess(port, ["--data", dir, "--log-level", "error"])
}

/** Every document on disk, read the way a restarted relay reads it: a corrupt file throws. */
async function readAll(dir: string): Promise<Map<string, string>> {
  const storage = await FsStorage.open({ dir })
  try {
    const texts = new Map<string, string>()
    for (const docId of await storage.list()) {
      const stored = await storage.load(docId)
      const doc = new LoroDoc()
      const chunks = stored?.snapshot ? [stored.snapshot, ...stored.updates] : (stored?.updates ?? [])
      if (chunks.length > 0) doc.importBatch(chunks)
      texts.set(docId, doc.getText("t").toString())
    }
    return texts
  } finally {
    await storage.close()
  }
}

describe("durability", () => {
  it("relay killed with SIGKILL at random moments under writes, twenty times: every acknowledged update survives, no file is corrupt", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tandem-crash-"))
    const port = await freePort()
    const clients: Client[] = Array.from({ length: 3 }, (_, i) =>
      connect(`ws://127.0.0.1:${port}`, { peerId: `writer-${i}` }),
    )
    const handles = clients.map((client, i) => client.repo.get(`doc-${i}`))
    const acked = handles.map(() => new Set<string>())
    let relay = await startRelay(port, dir)
    let writing = true
    // Each writer adds tokens one after another; the tokens written before an acknowledgement
    // arrived are the ones that must survive any crash from then on.
    const writers = handles.map(async (handle, i) => {
      let n = 0
      while (writing) {
        const batch: string[] = []
        for (let k = 0; k < 5; k++) {
          const token = `${i}.${n++};`
          batch.push(token)
          handle.change((doc) => doc.getText("t").insert(doc.getText("t").length, token))
        }
        try {
          await handle.whenAcknowledged({ timeout: 200 })
          for (const token of batch) acked[i]?.add(token)
        } catch {
          // Not acknowledged in time (the relay is down): those tokens promise nothing yet.
        }
      }
    })
    try {
      for (let round = 0; round < 20; round++) {
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200))
        relay.kill("SIGKILL")
        await once(relay, "exit")
        const onDisk = await readAll(dir)
        for (const [i, tokens] of acked.entries()) {
          const text = onDisk.get(`doc-${i}`) ?? ""
          for (const token of tokens) expect(text, `round ${round}: ${token} of doc-${i}`).toContain(token)
        }
        relay = await startRelay(port, dir)
      }
      expect(acked.every((tokens) => tokens.size > 0)).toBe(true)
    } finally {
      writing = false
      await Promise.all(writers)
      await Promise.all(clients.map((client) => client.repo.shutdown()))
      relay.kill("SIGKILL")
      await once(relay, "exit")
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)

  it("a client that touches 10,000 documents one after another leaves the relay's memory flat", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tandem-evict-"))
    const storage = await FsStorage.open({ dir })
    // This client is a bulk importer: it is allowed a higher message rate than the default.
    const relay = await createServer({
      port: 0,
      host: "127.0.0.1",
      storage,
      evictAfter: 50,
      limits: { messagesPerSecond: 100_000, burst: 100_000 },
    })
    const client = connect(relay.url)
    let held = 0
    let evicted = 0
    relay.repo.on("doc-evicted", () => evicted++)
    try {
      for (let batch = 0; batch < 100; batch++) {
        const handles = Array.from({ length: 100 }, (_, i) => client.repo.get(`doc-${batch * 100 + i}`))
        for (const handle of handles) handle.change((doc) => doc.getText("t").insert(0, handle.docId))
        await Promise.all(handles.map((handle) => handle.whenAcknowledged()))
        for (const handle of handles) handle.close()
        held = Math.max(held, relay.repo.getDocIds().length)
      }
      // Memory follows what is in use: at most a few batches' worth, never all 10,000.
      expect(held).toBeLessThan(1000)
      expect(evicted).toBeGreaterThan(9000)
      expect((await storage.list()).length).toBe(10_000)
      const again = client.repo.get("doc-1234")
      await new Promise<void>((resolve) => {
        const check = () => again.doc.getText("t").toString() === "doc-1234" && resolve()
        again.on("change", check)
        check()
      })
    } finally {
      await client.repo.shutdown()
      await relay.close()
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
