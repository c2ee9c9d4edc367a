import type { Server as HttpServer } from "node:http"
import * as Y from "yjs"
import type { StartServer } from "./server.js"
import { yjsDocument } from "./yjs-content.js"

interface HocuspocusServer {
  listen(): Promise<unknown>
  httpServer: HttpServer
  hocuspocus: { openDirectConnection(name: string): Promise<unknown> }
}

type HookData = { documentName: string; document: Y.Doc }

// Imported by a name tsc does not follow: the workspace type-checks with the `source` export
// condition, under which Hocuspocus's packages point at their TypeScript sources, which do not
// compile with this workspace's settings. The little used here is typed above.
const serverModule = "@hocuspocus/server"
const { Server } = (await import(serverModule)) as {
  Server: new (configuration: Record<string, unknown>) => HocuspocusServer
}

/**
 * Hocuspocus with an in-memory store: onLoadDocument reads it, onStoreDocument (debounced by
 * Hocuspocus, 2 s by default) writes the whole state back, as its database extension does.
 */
export const start: StartServer = async () => {
  const store = new Map<string, Uint8Array>()
  const server = new Server({
    port: 0,
    address: "127.0.0.1",
    quiet: true,
    stopOnSignals: false,
    async onLoadDocument({ documentName, document }: HookData) {
      const stored = store.get(documentName)
      if (stored) Y.applyUpdate(document, stored)
    },
    async onStoreDocument({ documentName, document }: HookData) {
      store.set(documentName, Y.encodeStateAsUpdate(document))
    },
  })
  await server.listen()
  const address = server.httpServer.address()
  if (address === null || typeof address === "string") throw new Error("Hocuspocus is not listening")
  // Hot documents stay loaded while a direct connection holds them.
  const held: unknown[] = []
  return {
    port: address.port,
    async prepare(docs) {
      const ids: Record<string, string> = {}
      for (const { name, chars, hot } of docs) {
        store.set(name, yjsDocument(name, chars))
        if (hot) held.push(await server.hocuspocus.openDirectConnection(name))
        ids[name] = name
      }
      return ids
    },
  }
}
