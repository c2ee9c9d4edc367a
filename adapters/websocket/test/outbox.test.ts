import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { FrameDecoder } from "@tandem/protocol"
import type { Channel, PeerMessage } from "@tandem/repo"
import { afterEach, expect, it } from "vitest"
import { WebSocket } from "ws"
import { WebSocketServerAdapter } from "../src/server/adapter.js"
import { binaryFrameHeader } from "../src/server/outbox.js"

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

it("writes the WebSocket header for each length class", () => {
  expect([...binaryFrameHeader(125)]).toEqual([0x82, 125])
  expect([...binaryFrameHeader(126)]).toEqual([0x82, 126, 0, 126])
  expect([...binaryFrameHeader(65_535)]).toEqual([0x82, 126, 0xff, 0xff])
  expect([...binaryFrameHeader(65_536)]).toEqual([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
})

it("sends one message object to many connections, small and fragmented, each receiving it whole and in order", async () => {
  const http = createServer()
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve))
  const { port } = http.address() as AddressInfo
  const channels: Channel[] = []
  let opened: () => void = () => {}
  const allOpen = new Promise<void>((resolve) => {
    opened = resolve
  })
  const receivers = 5
  const adapter = new WebSocketServerAdapter({ server: http, frames: { maxFrameBytes: 64 * 1024 } })
  await adapter.start({
    opened: (channel) => {
      channels.push(channel)
      if (channels.length === receivers) opened()
    },
    received: () => {},
    closed: () => {},
  })
  const snapshot = new Uint8Array(300_000).map((_, i) => i % 253)
  const messages: PeerMessage[] = [
    { type: "room-presence", roomId: "r", peerId: "p", session: "s", seq: 1, presence: { x: 1 } },
    { type: "sync-response", docId: "d", version: new Uint8Array([1]), data: snapshot, ref: 7 },
    { type: "doc-update", docId: "d", data: new Uint8Array([1, 2, 3]) },
  ]
  const clients = Array.from({ length: receivers }, () => {
    const socket = new WebSocket(`ws://127.0.0.1:${port}`)
    const decoder = new FrameDecoder({
      maxFrameBytes: 64 * 1024,
      maxMessageBytes: 1e7,
      maxPartialMessages: 4,
    })
    const received: PeerMessage[] = []
    const done = new Promise<PeerMessage[]>((resolve) => {
      socket.on("message", (data) => {
        const decoded = decoder.push(new Uint8Array(data as Buffer))
        if (decoded.kind === "message") received.push(decoded.message)
        if (received.length === messages.length) resolve(received)
      })
    })
    return { socket, done }
  })
  cleanups.push(async () => {
    for (const { socket } of clients) socket.terminate()
    await adapter.stop()
    http.closeAllConnections()
    await new Promise<void>((resolve) => http.close(() => resolve()))
  })
  await allOpen
  for (const message of messages) for (const channel of channels) channel.send(message)
  for (const { done } of clients) {
    const received = await done
    expect(received.map((m) => m.type)).toEqual(messages.map((m) => m.type))
    const response = received[1]
    if (response?.type !== "sync-response") throw new Error("expected the snapshot second")
    expect(Buffer.from(response.data).equals(snapshot)).toBe(true)
    expect(response.ref).toBe(7)
  }
})
