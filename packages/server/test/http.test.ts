import type { Room } from "@tandem/repo"
import { createServer, type ServerOptions, type TandemServer } from "@tandem/server"
import { afterEach, describe, expect, it } from "vitest"
import { connectWith, SECRET, tokenFor } from "./auth-helpers.js"
import type { Client } from "./helpers.js"

const servers: TandemServer[] = []
const clients: Client[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.repo.shutdown()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

const ADMIN = "admin-secret"

async function relay(options: ServerOptions = {}): Promise<TandemServer> {
  const server = await createServer({
    port: 0,
    host: "127.0.0.1",
    auth: { jwt: { secret: SECRET } },
    adminToken: ADMIN,
    rooms: { reconnectGrace: 50 },
    ...options,
  })
  servers.push(server)
  return server
}
function user(server: TandemServer, userId: string): Client {
  const made = connectWith(server.url, () => tokenFor(userId), { peerId: `${userId}-peer` })
  clients.push(made)
  return made
}
const base = (server: TandemServer) => `http://127.0.0.1:${server.port}`
function api(server: TandemServer, path: string, init: RequestInit = {}, token: string | null = ADMIN) {
  return fetch(`${base(server)}/api/${path}`, {
    ...init,
    headers: { ...(token && { authorization: `Bearer ${token}` }), "content-type": "application/json" },
  })
}

/** Parses Prometheus text exposition strictly: every line is a comment, a sample, or blank. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>()
  const sample =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)( \d+)?$/
  for (const line of text.split("\n")) {
    if (line === "" || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue
    const match = sample.exec(line)
    if (!match) throw new Error(`not Prometheus text: ${line}`)
    const value = Number(match[3] === "+Inf" ? Infinity : match[3] === "-Inf" ? -Infinity : match[3])
    if (Number.isNaN(value) && match[3]?.toLowerCase() !== "nan") throw new Error(`bad value: ${line}`)
    samples.set(`${match[1]}${match[2] ?? ""}`, value)
  }
  return samples
}
async function scrape(server: TandemServer): Promise<Map<string, number>> {
  const response = await fetch(`${base(server)}/metrics`)
  expect(response.headers.get("content-type")).toContain("text/plain")
  return parsePrometheus(await response.text())
}

describe("HTTP endpoints", () => {
  it("/healthz answers ok; /readyz reports each check, and 503 when one fails", async () => {
    let redisUp = true
    const server = await relay({
      readinessChecks: {
        redis: async () => {
          if (!redisUp) throw new Error("connection refused")
        },
      },
    })
    expect(await (await fetch(`${base(server)}/healthz`)).text()).toBe("ok\n")
    const ready = await fetch(`${base(server)}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: "ok", checks: { storage: "ok", redis: "ok" } })
    redisUp = false
    const down = await fetch(`${base(server)}/readyz`)
    expect(down.status).toBe(503)
    expect(await down.json()).toEqual({
      status: "unavailable",
      checks: { storage: "ok", redis: "connection refused" },
    })
  })

  it("/metrics parses as Prometheus text and its counters move with traffic", async () => {
    const server = await relay({ access: { guards: { "locked-*": () => false } } })
    const before = await scrape(server)
    expect(before.get("tandem_connections")).toBe(0)
    expect(before.has("nodejs_eventloop_lag_seconds")).toBe(true)

    const alice = user(server, "alice")
    const bob = user(server, "bob")
    const [ra, rb] = [alice.repo.joinRoom("r", { presence: { x: 1 } }), bob.repo.joinRoom("r")]
    await Promise.all([ra.whenSynced(), rb.whenSynced()])
    const doc = alice.repo.get("notes")
    doc.change((d) => d.getText("t").insert(0, "hi"))
    const seen = bob.repo.get("notes")
    await new Promise((resolve) => seen.on("change", resolve))
    await ra.broadcast("wave", null, { ack: true })
    await alice.repo
      .joinRoom("locked-room")
      .whenSynced()
      .catch(() => {})

    const after = await scrape(server)
    expect(after.get("tandem_connections")).toBe(2)
    expect(after.get("tandem_connections_total")).toBe(2)
    expect(after.get("tandem_rooms")).toBe(1)
    expect(after.get("tandem_room_members")).toBe(2)
    expect(after.get('tandem_messages_received_total{type="doc-update"}')).toBeGreaterThanOrEqual(1)
    expect(after.get('tandem_messages_sent_total{type="doc-update"}')).toBeGreaterThanOrEqual(1)
    expect(after.get('tandem_received_bytes_total{type="room-broadcast"}')).toBeGreaterThan(0)
    expect(after.get('tandem_sent_bytes_total{type="room-broadcast"}')).toBeGreaterThan(0)
    expect(after.get('tandem_errors_total{code="FORBIDDEN"}')).toBe(1)
    expect(after.get("tandem_sync_duration_seconds_count")).toBeGreaterThanOrEqual(2)
    expect(after.get('tandem_fanout_duration_seconds_count{type="doc-update"}')).toBeGreaterThanOrEqual(1)
    expect(after.get('tandem_fanout_duration_seconds_count{type="room-broadcast"}')).toBe(1)

    // Traffic is tallied between scrapes: a second scrape adds to what the first reported.
    await ra.broadcast("wave", null, { ack: true })
    const later = await scrape(server)
    const sent = 'tandem_messages_sent_total{type="room-broadcast"}'
    expect(later.get(sent)).toBe((after.get(sent) ?? 0) + 1)
  })

  it("the admin API needs the bearer token, and is off without one", async () => {
    const server = await relay()
    expect((await api(server, "stats", {}, null)).status).toBe(401)
    expect((await api(server, "stats", {}, "wrong")).status).toBe(401)
    expect((await api(server, "stats")).status).toBe(200)
    const closed = await relay({ adminToken: undefined })
    expect((await api(closed, "stats")).status).toBe(404)
  })

  it("lists rooms by prefix with member counts, a room's members, stats; broadcasts and disconnects", async () => {
    const server = await relay()
    const alice = user(server, "alice")
    const bob = user(server, "bob")
    const rooms = [
      alice.repo.joinRoom("team-a", { presence: { typing: true } }),
      bob.repo.joinRoom("team-a"),
      bob.repo.joinRoom("team-b"),
      bob.repo.joinRoom("lobby"),
    ]
    await Promise.all(rooms.map((room) => room.whenSynced()))
    while ((server.getMembers("team-a") ?? []).length < 2) {
      await new Promise((resolve) => server.on("join", resolve))
    }

    const listed = await (await api(server, "rooms?prefix=team-")).json()
    expect(listed).toEqual({
      rooms: [
        { roomId: "team-a", members: 2, users: 2 },
        { roomId: "team-b", members: 1, users: 1 },
      ],
    })
    expect(server.listRooms({ prefix: "team-" })).toEqual(listed.rooms)
    const members = await (await api(server, "rooms/team-a/members")).json()
    expect(members.members.map((m: { userId: string }) => m.userId).sort()).toEqual(["alice", "bob"])
    expect(members.members.find((m: { userId: string }) => m.userId === "alice").presence).toEqual({
      typing: true,
    })
    expect((await api(server, "rooms/nowhere/members")).status).toBe(404)
    expect(await (await api(server, "stats")).json()).toMatchObject({
      connections: 2,
      rooms: 3,
      members: 4,
      draining: false,
    })

    const alicesRoom = rooms[0] as Room
    const heard = new Promise((resolve) => alicesRoom.on("broadcast", (message) => resolve(message)))
    const sent = await api(server, "rooms/team-a/broadcast", {
      method: "POST",
      body: JSON.stringify({ event: "notice", payload: { text: "maintenance at noon" } }),
    })
    expect(await sent.json()).toEqual({ delivered: 2 })
    expect(await heard).toEqual({
      event: "notice",
      payload: { text: "maintenance at noon" },
      from: server.repo.peerId,
    })
    expect((await api(server, "rooms/team-a/broadcast", { method: "POST", body: "{" })).status).toBe(400)
    expect(
      (await api(server, "rooms/nowhere/broadcast", { method: "POST", body: '{"event":"x"}' })).status,
    ).toBe(404)

    const left = new Promise((resolve) => server.on("disconnection", resolve))
    const kicked = await api(server, "users/bob/disconnect", { method: "POST", body: '{"reason":"bye"}' })
    expect(await kicked.json()).toEqual({ disconnected: 1 })
    expect(await left).toMatchObject({ identity: { userId: "bob" } })
  })

  it("emits connection, join, leave and disconnection events", async () => {
    const server = await relay()
    const events: string[] = []
    server.on("connection", (c) => events.push(`connection ${c.identity.userId}`))
    server.on("join", ({ roomId, member }) => events.push(`join ${roomId} ${member.userId}`))
    server.on("leave", ({ roomId, member }) => events.push(`leave ${roomId} ${member.userId}`))
    const gone = new Promise((resolve) => server.on("disconnection", resolve))
    server.on("disconnection", (c) => events.push(`disconnection ${c.identity.userId}`))
    const alice = user(server, "alice")
    const room = alice.repo.joinRoom("r")
    await room.whenSynced()
    const left = new Promise((resolve) => server.on("leave", resolve))
    room.leave()
    await left
    await alice.repo.shutdown()
    await gone
    expect(events).toEqual(["connection alice", "join r alice", "leave r alice", "disconnection alice"])
  })
})
