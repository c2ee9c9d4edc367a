import { createServer } from "node:http"
import { type AutomergeUrl, Repo, splice } from "@automerge/automerge-repo"
import { WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { WebSocketServer } from "ws"
import { paragraphs, TEXT } from "../content.js"
import { MemoryStorageAdapter } from "./automerge-storage.js"
import type { StartServer } from "./server.js"

/** The shape of every Automerge document in the bench. */
export interface BenchDoc {
  meta: { name: string }
  [TEXT]: string
}

/**
 * automerge-repo's sync server, configured as automerge-repo-sync-server does it (a repo with
 * the WebSocket server adapter that shares documents only with peers that ask for them), over an
 * in-memory storage adapter.
 */
export const start: StartServer = async () => {
  const storage = new MemoryStorageAdapter()
  const http = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/plain" }).end("okay")
  })
  const wss = new WebSocketServer({ noServer: true })
  http.on("upgrade", (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws, request))
  })
  const repo = new Repo({
    network: [new WebSocketServerAdapter(wss as never)],
    storage,
    peerId: "bench-sync-server" as never,
    sharePolicy: async () => false,
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const address = http.address()
  if (address === null || typeof address === "string") throw new Error("the server is not listening")
  return {
    port: address.port,
    async prepare(docs) {
      const ids: Record<string, string> = {}
      // Documents are written by a second repo on the same storage, so that only the hot ones are
      // in the serving repo's memory; it reads the others from storage when a client asks.
      const writer = new Repo({ storage, network: [] })
      const hot: AutomergeUrl[] = []
      for (const { name, chars, hot: isHot } of docs) {
        const handle = writer.create<BenchDoc>({ meta: { name }, [TEXT]: "" })
        // The length is tracked here: reading doc.text would build the whole string each time.
        let at = 0
        for (const paragraph of paragraphs(chars)) {
          handle.change((doc) => splice(doc, [TEXT], at, 0, paragraph))
          at += paragraph.length
        }
        ids[name] = handle.url
        if (isHot) hot.push(handle.url)
      }
      await writer.flush()
      await writer.shutdown()
      for (const url of hot) await repo.find(url)
      return ids
    },
  }
}
