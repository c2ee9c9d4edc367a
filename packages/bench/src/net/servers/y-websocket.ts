import { createServer } from "node:http"
import { getYDoc, setPersistence, setupWSConnection, type WSSharedDoc } from "@y/websocket-server/utils"
import { WebSocketServer } from "ws"
import * as Y from "yjs"
import type { StartServer } from "./server.js"
import { yjsDocument } from "./yjs-content.js"

/**
 * y-websocket's server (@y/websocket-server's setupWSConnection, as its own server.js wires it)
 * with an in-memory store in place of y-leveldb: a document is read from it when first opened,
 * every update is appended to it (merged every 500 updates, as y-leveldb compacts).
 */
export const start: StartServer = async () => {
  const store = new Map<string, Uint8Array[]>()
  setPersistence({
    provider: store,
    bindState: (name: string, doc: WSSharedDoc) => {
      const stored = store.get(name) ?? []
      store.set(name, stored)
      for (const update of stored) Y.applyUpdate(doc, update)
      doc.on("update", (update: Uint8Array) => {
        stored.push(update)
        if (stored.length >= 500) stored.splice(0, stored.length, Y.mergeUpdates(stored))
      })
    },
    writeState: async () => {},
  })
  const http = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain" }).end("okay")
  })
  const wss = new WebSocketServer({ noServer: true })
  wss.on("connection", setupWSConnection)
  http.on("upgrade", (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request))
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const address = http.address()
  if (address === null || typeof address === "string") throw new Error("the server is not listening")
  return {
    port: address.port,
    async prepare(docs) {
      const ids: Record<string, string> = {}
      for (const { name, chars, hot } of docs) {
        store.set(name, [yjsDocument(name, chars)])
        if (hot) getYDoc(name)
        ids[name] = name
      }
      return ids
    },
  }
}
