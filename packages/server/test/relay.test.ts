import { CloseCodes, encodeMessage } from "@tandem/protocol"
import type { DocHandle, Json, Room } from "@tandem/repo"
import { createServer, type ServerOptions, type TandemServer } from "@tandem/server"
import { afterEach, describe, expect, it } from "vitest"
import { type Client, connect, RawClient, until, untilMembers } from "./helpers.js"
import { TcpProxy } from "./tcp-proxy.js"

const servers: TandemServer[] = []
const clients: Client[] = []
const raws: RawClient[] = []
const proxies: TcpProxy[] = []

async function relay(options: ServerOptions = {}): Promise<TandemServer> {
  const server = await createServer({ port: 0, host: "127.0.0.1", ...options })
  servers.push(server)
  return server
}
function client(url: string, peerId?: string): Client {
  const made = connect(url, peerId ? { peerId } : {})
  clients.push(made)
  return made
}
async function raw(url: string): Promise<RawClient> {
  const made = await RawClient.open(url)
  raws.push(made)
  return made
}
afterEach(async () => {
  for (const r of raws.splice(0)) r.close()
  await Promise.all(proxies.splice(0).map((p) => p.close()))
  await Promise.all(clients.splice(0).map((c) => c.repo.shutdown()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

const text = (handle: DocHandle) => handle.doc.getText("t").toString()
async function until_(handle: DocHandle, condition: () => boolean): Promise<void> {
  while (!condition()) {
    await new Promise<void>((resolve) => {
      const stop = handle.on("change", () => {
        stop()
        resolve()
      })
    })
  }
}
function nextSync<P extends Json>(room: Room<P>): Promise<void> {
  return new Promise((resolve) => room.on("sync", () => resolve()))
}
function membersOf<P extends Json>(room: Room<P>): string[] {
  return room
    .getMembers()
    .map((m) => m.peerId)
    .sort()
}

describe("relay over real sockets", () => {
  it("two clients share a document, a room and broadcasts", async () => {
    const server = await relay()
    const a = client(server.url, "a")
    const b = client(server.url, "b")
    const ha = a.repo.get("notes")
    ha.change((doc) => doc.getText("t").insert(0, "hello"))
    const hb = b.repo.get("notes")
    await until_(hb, () => text(hb) === "hello")

    const ra = a.repo.joinRoom("lobby", { presence: { name: "A" } })
    const rb = b.repo.joinRoom("lobby", { presence: { name: "B" } })
    await Promise.all([ra.whenSynced(), rb.whenSynced()])
    await untilMembers(ra, 2)
    expect(membersOf(rb)).toEqual(["a", "b"])
    expect(rb.getMembers().find((m) => m.peerId === "a")?.presence).toEqual({ name: "A" })
    const heard = new Promise((resolve) => rb.on("broadcast", resolve))
    expect(await ra.broadcast("wave", { hi: true }, { ack: true })).toBe(1)
    expect(await heard).toEqual({ event: "wave", payload: { hi: true }, from: "a" })
  })

  it("ten clients converge on a document and agree on members and presence", async () => {
    const server = await relay()
    const many = Array.from({ length: 10 }, (_, i) => client(server.url, `c${i}`))
    const handles = many.map((c) => c.repo.get("shared"))
    const rooms = many.map((c, i) => c.repo.joinRoom("room", { presence: { i } }))
    await Promise.all(rooms.map((room) => room.whenSynced()))
    await Promise.all(rooms.map((room) => untilMembers(room, 10)))
    handles.forEach((handle, i) => {
      handle.change((doc) => doc.getText("t").insert(0, String(i)))
    })
    await Promise.all(handles.map((handle) => until_(handle, () => text(handle).length === 10)))
    expect(new Set(handles.map(text)).size).toBe(1)
    for (const room of rooms) {
      expect(
        room
          .getMembers()
          .map((m) => [m.peerId, m.presence])
          .sort(),
      ).toEqual(many.map((_, i) => [`c${i}`, { i }]).sort())
    }
    expect(await rooms[0]?.broadcast("all", null, { ack: true })).toBe(9)
  })

  it("clients reconnect, rejoin and resync after the relay restarts, edits made meanwhile included", async () => {
    const first = await relay()
    const port = first.port
    const a = client(first.url, "a")
    const b = client(first.url, "b")
    const ha = a.repo.get("doc")
    const hb = b.repo.get("doc")
    ha.change((doc) => doc.getText("t").insert(0, "before;"))
    await until_(hb, () => text(hb) === "before;")
    const rb = b.repo.joinRoom("r", { presence: "B" })
    const ra = a.repo.joinRoom("r", { presence: "A" })
    await untilMembers(rb, 2)

    await first.close()
    servers.splice(servers.indexOf(first), 1)
    const rejoined = Promise.all([nextSync(ra), nextSync(rb)])
    await Promise.all([until(a.adapter, "reconnecting"), until(b.adapter, "reconnecting")])
    ha.change((doc) => doc.getText("t").insert(doc.getText("t").length, "offline edit"))

    const second = await relay({ port })
    expect(second.port).toBe(port)
    await until_(hb, () => text(hb) === "before;offline edit")
    await rejoined
    expect(membersOf(rb)).toEqual(["a", "b"])
    expect(membersOf(ra)).toEqual(["a", "b"])
    expect(second.repo.getRoom("r")?.getMembers()).toHaveLength(2)
  })

  it("removes a client that stops answering (half-open) from its rooms within the deadline", async () => {
    const server = await relay({ keepalive: { interval: 40, timeout: 120 }, rooms: { reconnectGrace: 40 } })
    const watcher = client(server.url, "watcher")
    const room = watcher.repo.joinRoom("r")
    const silent = await raw(server.url)
    silent.hello("silent")
    silent.send({ type: "room-join", roomId: "r", session: "silent-session", seq: 1, presence: null })
    await untilMembers(room, 2)
    // The silent client keeps its TCP connection but never reads or answers again.
    silent.socket.pause()
    const left = new Promise((resolve) => room.on("member-left", resolve))
    expect(await left).toMatchObject({ peerId: "silent" })
    expect(membersOf(room)).toEqual(["watcher"])
  })

  it("a client behind a connection that went half-open notices, reconnects, and the relay drops it meanwhile", async () => {
    const keepalive = { interval: 40, timeout: 120 }
    const server = await relay({ keepalive, rooms: { reconnectGrace: 40 } })
    const proxy = await TcpProxy.start(server.port)
    proxies.push(proxy)
    const watcher = client(server.url, "watcher")
    const room = watcher.repo.joinRoom("r")
    const cut = connect(proxy.url, { peerId: "cut-off", keepalive })
    clients.push(cut)
    cut.repo.joinRoom("r")
    await untilMembers(room, 2)
    // Nothing gets through any more, yet neither side's socket is closed.
    proxy.freeze()
    const left = new Promise((resolve) => room.on("member-left", resolve))
    await until(cut.adapter, "reconnecting")
    expect(await left).toMatchObject({ peerId: "cut-off" })
    proxy.restore()
    const back = new Promise((resolve) => room.on("member-joined", resolve))
    expect(await back).toMatchObject({ peerId: "cut-off" })
  })

  it("refuses a protocol version it does not speak with a clear close code", async () => {
    const server = await relay()
    const old = await raw(server.url)
    const [frame] = encodeMessage({ type: "ping" })
    const future = Uint8Array.from(frame as Uint8Array)
    future[0] = 99
    old.sendBytes(future)
    expect(await old.closed).toEqual({
      code: CloseCodes.UNSUPPORTED_PROTOCOL,
      reason: expect.stringContaining("99"),
    })
  })

  it("keeps broadcasts made while offline in a bounded buffer and sends them once back", async () => {
    const server = await relay()
    const proxy = await TcpProxy.start(server.port)
    proxies.push(proxy)
    const sender = connect(proxy.url, { peerId: "sender", rooms: { offlineBroadcasts: 2 } })
    clients.push(sender)
    const receiver = client(server.url, "receiver")
    const out = sender.repo.joinRoom("r")
    const inbox = receiver.repo.joinRoom("r")
    await untilMembers(inbox, 2)
    proxy.cut()
    await until(sender.adapter, "reconnecting")
    const dropped: string[] = []
    out.on("broadcast-dropped", ({ event }) => dropped.push(event))
    out.broadcast("one", 1)
    out.broadcast("two", 2)
    out.broadcast("three", 3)
    expect(dropped).toEqual(["one"])
    const heard: string[] = []
    const both = new Promise<void>((resolve) =>
      inbox.on("broadcast", ({ event }) => {
        heard.push(event)
        if (heard.length === 2) resolve()
      }),
    )
    proxy.restore()
    await both
    expect(heard).toEqual(["two", "three"])
  })

  it("slows a client over its message rate without losing what it sent, and cuts off a sustained flood", async () => {
    const server = await relay({
      limits: { messagesPerSecond: 100, burst: 10, throttledBeforeClose: 60_000 },
    })
    const fast = await raw(server.url)
    fast.hello("fast")
    for (let i = 0; i < 60; i++)
      fast.send({ type: "sync-request", docId: `d${i}`, version: new Uint8Array([0]), id: i })
    expect(await fast.next((m) => m.type === "error")).toMatchObject({ code: "RATE_LIMITED" })
    // Every request is answered in the end, in order: nothing was dropped.
    for (let i = 0; i < 60; i++) {
      expect(await fast.next((m) => m.type === "doc-unavailable")).toMatchObject({ docId: `d${i}`, ref: i })
    }

    const abusive = await relay({ limits: { messagesPerSecond: 50, burst: 5, throttledBeforeClose: 200 } })
    const flood = await raw(abusive.url)
    flood.hello("flood")
    const flooding = setInterval(() => {
      if (flood.isOpen) for (let i = 0; i < 20; i++) flood.send({ type: "ping" })
    }, 5)
    const closed = await flood.closed
    clearInterval(flooding)
    expect(closed.code).toBe(CloseCodes.RATE_LIMITED)
  })
})
