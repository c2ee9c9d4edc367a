import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { WebSocketServerAdapter } from "@tandem/adapter-websocket/server"
import { networkConformance } from "@tandem/repo/testing"
import { WebSocket } from "ws"

networkConformance("websocket", async () => {
  const http = createServer()
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const { port } = http.address() as AddressInfo
  return {
    a: new WebSocketClientAdapter({
      url: `ws://127.0.0.1:${port}`,
      WebSocket,
      reconnect: { maxAttempts: 0 },
    }),
    b: new WebSocketServerAdapter({ server: http }),
    teardown: async () => {
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
})
