import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { CloseCodes, encodeMessage, FrameDecoder } from "@tandem/protocol"
import { type PeerMessage, Repo } from "@tandem/repo"
import { afterEach, describe, expect, it } from "vitest"
import { WebSocket, WebSocketServer } from "ws"

/** A bare relay that records what each connection sent first and lets the test answer. */
async function fakeRelay(onMessage: (socket: WebSocket, message: PeerMessage, connection: number) => void) {
  const http = createServer()
  const wss = new WebSocketServer({ server: http })
  let count = 0
  wss.on("connection", (socket) => {
    const connection = ++count
    const decoder = new FrameDecoder()
    socket.on("message", (data: Buffer) => {
      const decoded = decoder.push(new Uint8Array(data))
      if (decoded.kind === "message") onMessage(socket, decoded.message, connection)
    })
  })
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  servers.push(http)
  return `ws://127.0.0.1:${(http.address() as AddressInfo).port}`
}
function send(socket: WebSocket, message: PeerMessage): void {
  for (const frame of encodeMessage(message)) socket.send(frame)
}

const servers: Server[] = []
const repos: Repo[] = []
afterEach(async () => {
  await Promise.all(repos.splice(0).map((repo) => repo.shutdown()))
  for (const http of servers.splice(0)) {
    http.closeAllConnections()
    http.close()
  }
})
function repoWith(adapter: WebSocketClientAdapter): Repo {
  const repo = new Repo({ network: [adapter] })
  repos.push(repo)
  return repo
}

describe("credentials", () => {
  it("sends the token first, before the hello, and a fresh one over the open connection before it expires", async () => {
    const seen: string[] = []
    let refreshed: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      refreshed = resolve
    })
    const url = await fakeRelay((socket, message) => {
      seen.push(message.type === "auth" ? `auth ${message.token}` : message.type)
      if (message.type === "auth") send(socket, { type: "auth-ok", userId: "ada", expiresIn: 100 })
      if (seen.filter((entry) => entry.startsWith("auth")).length === 3) refreshed()
    })
    let issued = 0
    const adapter = new WebSocketClientAdapter({ url, WebSocket, getToken: () => `t${++issued}` })
    repoWith(adapter)
    await done
    expect(seen.slice(0, 2)).toEqual(["auth t1", "hello"])
    expect(seen.filter((entry) => entry.startsWith("auth"))).toEqual(["auth t1", "auth t2", "auth t3"])
    expect(adapter.state).toBe("open")
  })

  it("a rejected token stops the client with an error, and getToken is not called again", async () => {
    let calls = 0
    const url = await fakeRelay((socket, message) => {
      if (message.type === "auth") socket.close(CloseCodes.UNAUTHORIZED, "invalid token")
    })
    const adapter = new WebSocketClientAdapter({
      url,
      WebSocket,
      getToken: () => {
        calls++
        return "dead"
      },
      reconnect: { initialDelay: 5, maxDelay: 10 },
    })
    const error = new Promise((resolve) => adapter.on("error", resolve))
    repoWith(adapter)
    expect(await error).toMatchObject({ code: "UNAUTHORIZED", closeCode: 4001, message: "invalid token" })
    expect(adapter.state).toBe("closed")
    expect(calls).toBe(1)
  })

  it("TOKEN_EXPIRED reconnects with a fresh token; a throwing getToken is retried; url may change per attempt", async () => {
    const tokens: string[] = []
    let reconnected: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      reconnected = resolve
    })
    const first = await fakeRelay((socket, message) => {
      if (message.type === "auth") {
        tokens.push(`first:${message.token}`)
        socket.close(CloseCodes.TOKEN_EXPIRED, "the token expired")
      }
    })
    const second = await fakeRelay((_socket, message) => {
      if (message.type === "auth") tokens.push(`second:${message.token}`)
      if (message.type === "hello") reconnected()
    })
    let attempt = 0
    const adapter = new WebSocketClientAdapter({
      url: () => (attempt <= 1 ? first : second),
      WebSocket,
      getToken: () => {
        attempt++
        if (attempt === 2) throw new Error("identity provider down")
        return `t${attempt}`
      },
      reconnect: { initialDelay: 5, maxDelay: 10 },
    })
    repoWith(adapter)
    await done
    expect(tokens).toEqual(["first:t1", "second:t3"])
  })
})
