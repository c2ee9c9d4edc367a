import { MemoryStorage } from "@tandem/repo"
import { createServer } from "@tandem/server"
import { LoroDoc } from "loro-crdt"
import { paragraphs, TEXT } from "../content.js"
import type { StartServer } from "./server.js"

/**
 * The Tandem relay as `tandem serve --memory` runs it (createServer with MemoryStorage), with the
 * limits raised for trusted bench clients: every connection comes from 127.0.0.1, and the load
 * generators send faster than one browser tab would. With `redis`, one instance of a service, as
 * `tandem serve --memory --redis URL` runs it.
 */
export const start: StartServer = async (options) => {
  const storage = new MemoryStorage()
  const relay = await createServer({
    port: 0,
    host: "127.0.0.1",
    storage,
    limits: {
      messagesPerSecond: 100_000,
      burst: 200_000,
      maxConnectionsPerIp: 100_000,
      maxMembersPerRoom: 100_000,
      maxRoomsPerConnection: 10_000,
    },
    ...(options.redis !== undefined && {
      redis: {
        url: options.redis,
        service: "bench",
        ...(options.instanceId !== undefined && { instanceId: options.instanceId }),
      },
    }),
  })
  await relay.redis?.whenStarted()
  return {
    port: relay.port,
    instances: () => relay.redis?.stats.instances ?? 1,
    async prepare(docs) {
      const ids: Record<string, string> = {}
      for (const { name, chars, hot } of docs) {
        const doc = new LoroDoc()
        // The same author everywhere: instances of one service store the very same history.
        doc.setPeerId(1)
        doc.getMap("meta").set("name", name)
        const text = doc.getText(TEXT)
        for (const paragraph of paragraphs(chars)) {
          text.insert(text.length, paragraph)
          doc.commit()
        }
        doc.commit()
        await storage.compact(name, doc.export({ mode: "snapshot" }))
        doc.free()
        if (hot) {
          const handle = relay.repo.get(name)
          const status = await handle.whenReady({ timeout: 60_000 })
          if (status !== "ready") throw new Error(`the relay could not load ${name}: ${status}`)
        }
        ids[name] = name
      }
      return ids
    },
  }
}
