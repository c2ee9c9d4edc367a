import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { backoffDelay, defaultBackoff, WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { CloseCodes } from "@tandem/protocol"
import { Repo } from "@tandem/repo"
import { afterEach, describe, expect, it } from "vitest"
import { WebSocket, WebSocketServer } from "ws"

describe("backoff", () => {
  it("retries first within 250 ms, doubles its ceiling, caps at 30 s, then slows down", () => {
    const top = () => 0.999999
    expect(backoffDelay(0, defaultBackoff, top)).toBeLessThan(250)
    expect(backoffDelay(1, defaultBackoff, top)).toBeLessThan(500)
    expect(backoffDelay(3, defaultBackoff, top)).toBeLessThan(2000)
    expect(backoffDelay(15, defaultBackoff, top)).toBeLessThanOrEqual(30_000)
    expect(backoffDelay(15, defaultBackoff, top)).toBeGreaterThan(29_000)
    expect(backoffDelay(defaultBackoff.slowAfter, defaultBackoff, () => 0)).toBe(30_000)
    expect(backoffDelay(defaultBackoff.slowAfter, defaultBackoff, top)).toBeGreaterThan(119_000)
  })

  it("draws the whole range below the ceiling (full jitter)", () => {
    expect(backoffDelay(4, defaultBackoff, () => 0)).toBe(0)
    expect(backoffDelay(4, defaultBackoff, () => 0.5)).toBe(2000)
  })
})

/** A bare WebSocket server whose connections a test controls. */
async function fakeRelay(onConnection: (socket: import("ws").WebSocket, count: number) => void) {
  const http = createServer()
  const wss = new WebSocketServer({ server: http })
  let count = 0
  wss.on("connection", (socket) => onConnection(socket, ++count))
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  servers.push(http)
  return { url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`, connections: () => count }
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

describe("WebSocketClientAdapter", () => {
  it("reconnects after a transient close and reports each state", async () => {
    const relay = await fakeRelay((socket, count) => {
      if (count === 1) setImmediate(() => socket.close(CloseCodes.SERVER_DRAINING, "draining"))
    })
    const adapter = new WebSocketClientAdapter({ url: relay.url, WebSocket, reconnect: { initialDelay: 5 } })
    const states: string[] = []
    adapter.on("state", (state) => states.push(state))
    const reopened = new Promise<void>((resolve) => {
      adapter.on("state", (state) => {
        if (state === "open" && relay.connections() === 2) resolve()
      })
    })
    repos.push(new Repo({ network: [adapter] }))
    await reopened
    expect(states).toEqual(["connecting", "open", "reconnecting", "open"])
  })

  it("stops on a permanent close, reports it, and does not try again", async () => {
    const relay = await fakeRelay((socket) =>
      setImmediate(() => socket.close(CloseCodes.UNAUTHORIZED, "bad token")),
    )
    const adapter = new WebSocketClientAdapter({
      url: relay.url,
      WebSocket,
      reconnect: { initialDelay: 1, maxDelay: 1 },
    })
    const reported = new Promise((resolve) => adapter.on("error", resolve))
    repos.push(new Repo({ network: [adapter] }))
    expect(await reported).toEqual({
      code: "UNAUTHORIZED",
      closeCode: CloseCodes.UNAUTHORIZED,
      message: "bad token",
    })
    expect(adapter.state).toBe("closed")
    // Were it retrying, fifty retry periods would have brought it back many times.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(relay.connections()).toBe(1)
  })

  it("retries at once when a browser comes back online", async () => {
    // Node has no window events: stand in for the browser's `online` event.
    const window = new EventTarget()
    const global = globalThis as unknown as Record<string, unknown>
    global.addEventListener = window.addEventListener.bind(window)
    global.removeEventListener = window.removeEventListener.bind(window)
    let accept = false
    const relay = await fakeRelay((socket) => {
      if (!accept) setImmediate(() => socket.close(CloseCodes.SERVER_DRAINING))
    })
    const adapter = new WebSocketClientAdapter({
      url: relay.url,
      WebSocket,
      reconnect: { initialDelay: 60_000, maxDelay: 60_000 },
    })
    const waiting = new Promise<void>((resolve) =>
      adapter.on("state", (s) => s === "reconnecting" && resolve()),
    )
    repos.push(new Repo({ network: [adapter] }))
    await waiting
    accept = true
    const open = new Promise<void>((resolve) => adapter.on("state", (s) => s === "open" && resolve()))
    window.dispatchEvent(new Event("online"))
    await open
    expect(relay.connections()).toBe(2)
    delete global.addEventListener
    delete global.removeEventListener
  })
})
