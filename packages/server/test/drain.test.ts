import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type DocHandle, MemoryStorage } from "@tandem/repo"
import { createServer } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import { LoroDoc } from "loro-crdt"
import { describe, expect, it } from "vitest"
import { connectWith, SECRET, tokenFor } from "./auth-helpers.js"
import { connect, RawClient, until } from "./helpers.js"
import { freePort } from "./ports.js"
import { startRelayProcess } from "./relay-process.js"

/** A relay with JWT auth keeping documents in `dir`. */
function startRelay(port: number, dir: string): Promise<ChildProcess> {
  return startRelayProcess(port, ["--data", dir, "--log-level", "error"], {
    env: { TANDEM_JWT_SECRET: SECRET, TANDEM_DRAIN_TIMEOUT: "5000" },
  })
}

async function textOnDisk(dir: string, docId: string): Promise<string> {
  const storage = await FsStorage.open({ dir })
  try {
    const stored = await storage.load(docId)
    const doc = new LoroDoc()
    const chunks = stored?.snapshot ? [stored.snapshot, ...stored.updates] : (stored?.updates ?? [])
    if (chunks.length > 0) doc.importBatch(chunks)
    return doc.getText("t").toString()
  } finally {
    await storage.close()
  }
}

const text = (handle: DocHandle) => handle.doc.getText("t").toString()

describe("graceful drain", () => {
  it("SIGTERM under writes: clients are told to reconnect elsewhere, the relay exits 0, no acknowledged write is lost", async () => {
    const [dirA, dirB] = await Promise.all([
      mkdtemp(join(tmpdir(), "tandem-drain-a-")),
      mkdtemp(join(tmpdir(), "tandem-drain-b-")),
    ])
    const portA = await freePort()
    const relayA = await startRelay(portA, dirA)
    const relayB = await createServer({
      port: 0,
      host: "127.0.0.1",
      storage: await FsStorage.open({ dir: dirB }),
      auth: { jwt: { secret: SECRET } },
    })
    // A load balancer in miniature: new connections go to B once A drains.
    let target = `ws://127.0.0.1:${portA}`
    const clients = Array.from({ length: 3 }, (_, i) =>
      connectWith(
        () => target,
        () => tokenFor(`writer-${i}`),
        { peerId: `writer-${i}` },
      ),
    )
    let writing = false
    try {
      const handles = clients.map((client, i) => client.repo.get(`doc-${i}`))
      await Promise.all(handles.map((handle) => handle.whenReady()))
      // What each writer knows relay A acknowledged while it was connected to A.
      const ackedOnA = handles.map(() => "")
      const onA = clients.map(() => true)
      clients.forEach((client, i) => {
        client.adapter.on("state", (state) => {
          if (state !== "open") onA[i] = false
        })
      })
      writing = true
      // Bursts of five writes, each burst awaited: the last burst is in flight when the signal comes.
      const writers = handles.map(async (handle, i) => {
        for (let n = 0; writing; ) {
          for (const end = n + 5; n < end; n++) {
            handle.change((doc) => doc.getText("t").insert(doc.getText("t").length, `${n},`))
          }
          const written = text(handle)
          await handle.whenAcknowledged()
          if (onA[i]) ackedOnA[i] = written
        }
      })

      // A raw connection watches the close code.
      const watcher = await RawClient.open(`ws://127.0.0.1:${portA}`)
      watcher.send({ type: "auth", token: await tokenFor("watcher") })
      watcher.hello("watcher")
      await watcher.next((m) => m.type === "hello")
      // Some writes acknowledged before the signal.
      await Promise.all(
        handles.map(async (handle, i) => {
          while ((ackedOnA[i] as string).length < 30)
            await new Promise((resolve) => handle.on("sync-status", resolve))
        }),
      )

      target = relayB.url
      relayA.kill("SIGTERM")
      const [exitCode] = await once(relayA, "exit")
      expect(exitCode).toBe(0)
      expect(await watcher.closed).toMatchObject({ code: 4100 })

      await Promise.all(clients.map((client) => until(client.adapter, "open")))
      writing = false
      await Promise.all(writers)
      await Promise.all(handles.map((handle) => handle.whenAcknowledged()))

      for (const [i, handle] of handles.entries()) {
        const acked = ackedOnA[i] as string
        expect(acked.length).toBeGreaterThan(0)
        const onDiskA = await textOnDisk(dirA, `doc-${i}`)
        // Everything A acknowledged is on A's disk, in order.
        expect(onDiskA.startsWith(acked)).toBe(true)
        // And B has everything the writer wrote, through A or after it.
        expect(relayB.repo.get(`doc-${i}`).doc.getText("t").toString()).toBe(text(handle))
      }
    } finally {
      writing = false
      await Promise.all(clients.map((client) => client.repo.shutdown()))
      await relayB.close()
      if (relayA.exitCode === null) relayA.kill("SIGKILL")
      await Promise.all([dirA, dirB].map((dir) => rm(dir, { recursive: true, force: true })))
    }
  })

  it("a drain stops taking connections at once and tells connected clients SERVER_DRAINING", async () => {
    const server = await createServer({ port: 0, host: "127.0.0.1" })
    const watcher = await RawClient.open(server.url)
    watcher.hello("watcher")
    await watcher.next((m) => m.type === "hello")
    const drained = server.drain()
    expect(server.draining).toBe(true)
    await expect(RawClient.open(server.url)).rejects.toMatchObject({ code: "ECONNREFUSED" })
    expect(await watcher.closed).toMatchObject({ code: 4100 })
    await drained
  })

  it("storage stuck during a drain: the drain gives up at its deadline instead of hanging", async () => {
    // A disk that stopped answering: writes never complete.
    class StuckStorage extends MemoryStorage {
      override append(): Promise<void> {
        return new Promise(() => {})
      }
      override compact(): Promise<void> {
        return new Promise(() => {})
      }
    }
    const server = await createServer({
      port: 0,
      host: "127.0.0.1",
      storage: new StuckStorage(),
      drainTimeout: 200,
    })
    const client = connect(server.url)
    const handle = client.repo.get("d")
    await handle.whenReady()
    handle.change((doc) => doc.getText("t").insert(0, "never written"))
    while (server.repo.get("d").doc.getText("t").length === 0) {
      await new Promise((resolve) => server.repo.get("d").on("change", resolve))
    }
    // The CLI exits 1 when this rejects: the process ends whatever is still stuck.
    await expect(server.drain()).rejects.toThrow("drain took longer than 200 ms")
    await client.repo.shutdown()
  })
})
