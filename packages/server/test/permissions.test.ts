import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { DocHandle, Json, ReportedError, Room } from "@tandem/repo"
import {
  type AccessRequest,
  createServer,
  type Decision,
  mostSpecificMatch,
  type ServerOptions,
  type TandemServer,
} from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import { afterEach, describe, expect, it } from "vitest"
import { connectWith, SECRET, tokenFor } from "./auth-helpers.js"
import { type Client, connect, RawClient } from "./helpers.js"

const servers: TandemServer[] = []
const clients: Client[] = []
const raws: RawClient[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const r of raws.splice(0)) r.close()
  await Promise.all(clients.splice(0).map((c) => c.repo.shutdown()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

type Role = "anonymous" | "user" | "reader" | "banned"

/** The policy of the matrix: users do anything, readers read and show presence, anonymous only read, the banned nothing. */
function byRole({ identity, action }: AccessRequest): Decision {
  const role: Role = identity.anonymous ? "anonymous" : (identity.claims.role as Role)
  if (role === "user") return true
  if (role === "reader") {
    return (
      ["doc:read", "room:join", "room:presence"].includes(action) || { allow: false, reason: "read-only" }
    )
  }
  if (role === "anonymous") return action === "doc:read" || action === "room:join"
  return { allow: false, reason: "banned" }
}

async function relay(options: ServerOptions = {}): Promise<TandemServer> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-access-"))
  dirs.push(dir)
  // Durable storage, so that writes are acknowledged.
  const server = await createServer({
    port: 0,
    host: "127.0.0.1",
    storage: await FsStorage.open({ dir }),
    auth: { jwt: { secret: SECRET }, anonymous: true },
    access: { authorize: byRole },
    rooms: { reconnectGrace: 50 },
    ...options,
  })
  servers.push(server)
  return server
}
function as(server: TandemServer, role: Role, userId: string = role): Client {
  const made =
    role === "anonymous"
      ? connect(server.url)
      : connectWith(server.url, () => tokenFor(userId, 3600, { role }), { peerId: `${userId}-peer` })
  clients.push(made)
  return made
}

const text = (handle: DocHandle) => handle.doc.getText("t").toString()
async function untilText(handle: DocHandle, condition: (text: string) => boolean): Promise<void> {
  while (!condition(text(handle))) {
    await new Promise<void>((resolve) => {
      const stop = handle.on("change", () => {
        stop()
        resolve()
      })
    })
  }
}
function repoError(client: Client, matches: (error: ReportedError) => boolean): Promise<ReportedError> {
  return new Promise((resolve) => {
    const stop = client.repo.on("error", (error) => {
      if (!matches(error)) return
      stop()
      resolve(error)
    })
  })
}
function nextBroadcast(room: Room, event: string): Promise<unknown> {
  return new Promise((resolve) => {
    const stop = room.on("broadcast", (message) => {
      if (message.event !== event) return
      stop()
      resolve(message.payload)
    })
  })
}
async function untilMember<P extends Json>(
  room: Room<P>,
  matches: (m: ReturnType<Room<P>["getMembers"]>[number]) => boolean,
) {
  while (!room.getMembers().some(matches)) {
    await new Promise<void>((resolve) => {
      const stops = [room.on("member-joined", done), room.on("member-updated", done), room.on("sync", done)]
      function done() {
        for (const stop of stops) stop()
        resolve()
      }
    })
  }
}

/** What the actor got, and whether the observer saw it. */
type Outcome = "allowed" | "FORBIDDEN" | "unavailable"

interface World {
  server: TandemServer
  owner: Client
  observer: Client
  shared: DocHandle
  observed: DocHandle
  hall: Room
  ownerHall: Room
}

async function world(): Promise<World> {
  const server = await relay()
  const owner = as(server, "user", "owner")
  const observer = as(server, "user", "observer")
  const shared = owner.repo.get("shared")
  shared.change((doc) => doc.getText("t").insert(0, "owner;"))
  await shared.whenAcknowledged()
  const observed = observer.repo.get("shared")
  await untilText(observed, (t) => t === "owner;")
  const ownerHall = owner.repo.joinRoom("hall")
  const hall = observer.repo.joinRoom("hall")
  await Promise.all([ownerHall.whenSynced(), hall.whenSynced()])
  await untilMember(hall, (m) => m.userId === "owner")
  return { server, owner, observer, shared, observed, hall, ownerHall }
}

/** Everything the relay had from the actor reached the observer before this marker does. */
async function barrier(w: World, marker: string): Promise<void> {
  w.shared.change((doc) => doc.getText("t").insert(doc.getText("t").length, `${marker};`))
  await untilText(w.observed, (t) => t.includes(`${marker};`))
  const seen = nextBroadcast(w.hall, marker)
  w.ownerHall.broadcast(marker, null)
  await seen
}

const checks: Record<string, (w: World, actor: Client, role: Role) => Promise<Outcome>> = {
  async "doc read"(_w, actor) {
    const handle = actor.repo.get("shared")
    const result = await handle.whenReady()
    if (result === "ready") expect(text(handle)).toContain("owner;")
    return result === "ready" ? "allowed" : "unavailable"
  },
  async "doc write"(w, actor, role) {
    const handle = actor.repo.get("shared")
    await handle.whenReady()
    const refused = repoError(actor, (e) => e.docId === "shared")
    handle.change((doc) => doc.getText("t").insert(0, `${role};`))
    const outcome = await Promise.race([
      refused.then((e) => e.code as Outcome),
      handle.whenAcknowledged().then(() => "allowed" as const),
    ])
    await barrier(w, `after-${role}-write`)
    const landed = text(w.observed).includes(`${role};`)
    expect(landed).toBe(outcome === "allowed")
    expect(w.server.repo.get("shared").doc.getText("t").toString().includes(`${role};`)).toBe(landed)
    return outcome
  },
  async "room join"(w, actor, role) {
    const room = actor.repo.joinRoom("hall")
    const outcome = await room.whenSynced().then(
      () => "allowed" as const,
      (error: { code: Outcome }) => error.code,
    )
    await barrier(w, `after-${role}-join`)
    const listed = w.hall.getMembers().some((m) => m.peerId === actor.repo.peerId)
    expect(listed).toBe(outcome === "allowed")
    return outcome
  },
  async presence(w, actor, role) {
    const room = actor.repo.joinRoom<Json>("hall", { presence: { cursor: 1 } })
    const refused = firstError(room)
    await room.whenSynced().catch(() => {})
    room.setPresence({ cursor: 2 })
    const shown = untilMember(w.hall, (m) => m.peerId === actor.repo.peerId && isCursor(m.presence, 2))
    const outcome = await Promise.race([refused, shown.then(() => "allowed" as const)])
    await barrier(w, `after-${role}-presence`)
    const member = w.hall.getMembers().find((m) => m.peerId === actor.repo.peerId)
    expect(isCursor(member?.presence, 2)).toBe(outcome === "allowed")
    return outcome
  },
  async broadcast(w, actor, role) {
    const room = actor.repo.joinRoom("hall")
    const refused = firstError(room)
    await room.whenSynced().catch(() => {})
    let heard = false
    const stop = w.hall.on("broadcast", (message) => {
      if (message.event === "shout") heard = true
    })
    // A refused broadcast counts as delivered to no one; the room reports why.
    const delivered = await room.broadcast("shout", role, { ack: true })
    const outcome = delivered > 0 ? "allowed" : await refused
    await barrier(w, `after-${role}-broadcast`)
    stop()
    expect(heard).toBe(outcome === "allowed")
    return outcome
  },
}

function firstError(room: Room): Promise<Outcome> {
  return new Promise((resolve) => {
    const stop = room.on("error", (error) => {
      stop()
      resolve(error.code as Outcome)
    })
  })
}
function isCursor(presence: unknown, cursor: number): boolean {
  return (
    typeof presence === "object" && presence !== null && (presence as { cursor?: number }).cursor === cursor
  )
}

// Each row: what each actor gets for doc read, doc write, room join, presence, broadcast.
const matrix: Record<Role, Outcome[]> = {
  anonymous: ["allowed", "FORBIDDEN", "allowed", "FORBIDDEN", "FORBIDDEN"],
  user: ["allowed", "allowed", "allowed", "allowed", "allowed"],
  reader: ["allowed", "FORBIDDEN", "allowed", "allowed", "FORBIDDEN"],
  banned: ["unavailable", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"],
}

describe("permission matrix", () => {
  for (const [role, expected] of Object.entries(matrix) as [Role, Outcome[]][]) {
    for (const [index, [action, check]] of Object.entries(checks).entries()) {
      it(`${role} × ${action}: ${expected[index]}, and other peers see nothing they should not`, async () => {
        const w = await world()
        const actor = as(w.server, role, `${role}-actor`)
        expect(await check(w, actor, role)).toBe(expected[index])
      })
    }
  }
})

describe("authorization", () => {
  it("a denied read is answered exactly like a document that does not exist", async () => {
    const server = await relay()
    const owner = as(server, "user", "owner")
    const secret = owner.repo.get("secret")
    secret.change((doc) => doc.getText("t").insert(0, "classified"))
    await secret.whenAcknowledged()

    const probe = await RawClient.open(server.url)
    raws.push(probe)
    probe.send({ type: "auth", token: await tokenFor("eve", 3600, { role: "banned" }) })
    probe.hello("eve-peer")
    const replies = []
    for (const [id, docId] of [
      [1, "secret"],
      [2, "no-such-doc"],
    ] as const) {
      probe.send({ type: "sync-request", docId, version: new Uint8Array(), id })
      const reply = await probe.next((m) => "ref" in m && m.ref === id)
      replies.push({ ...reply, docId: "<doc>" })
    }
    expect(replies[0]).toEqual({ type: "doc-unavailable", docId: "<doc>", ref: 1 })
    expect(replies[1]).toEqual({ type: "doc-unavailable", docId: "<doc>", ref: 2 })
  })

  it("the most specific guard decides: team-a beats team-*, which beats *", async () => {
    expect(mostSpecificMatch(["*", "team-*", "team-a", "team*"], "team-a")).toBe("team-a")
    expect(mostSpecificMatch(["*", "team-*", "team*"], "team-b")).toBe("team-*")
    expect(mostSpecificMatch(["*", "team-*"], "teams")).toBe("*")
    expect(mostSpecificMatch(["team-*-notes", "team-*"], "team-a-notes")).toBe("team-*-notes")
    expect(mostSpecificMatch(["team-*"], "other")).toBeUndefined()

    const server = await relay({
      access: {
        authorize: () => true,
        guards: {
          "*": () => true,
          "team-*": ({ identity }) => identity.claims.team === "b" || { allow: false, reason: "team b only" },
          "team-a": ({ identity }) => identity.claims.team === "a",
        },
      },
    })
    const fromA = connectWith(server.url, () => tokenFor("ann", 3600, { team: "a" }))
    clients.push(fromA)
    await fromA.repo.joinRoom("team-a").whenSynced()
    await expect(fromA.repo.joinRoom("team-c").whenSynced()).rejects.toMatchObject({
      code: "FORBIDDEN",
      message: "team b only",
    })
    await fromA.repo.joinRoom("lobby").whenSynced()
    expect(server.listRooms().map((r) => r.roomId)).toEqual(["lobby", "team-a"])
  })

  it("a member of room A never receives room B's presence or broadcasts", async () => {
    const server = await relay()
    const inA = as(server, "user", "a-member")
    const inB = as(server, "user", "b-member")
    const roomA = inA.repo.joinRoom("room-a")
    const roomB = inB.repo.joinRoom("room-b", { presence: { secret: 1 } })
    await Promise.all([roomA.whenSynced(), roomB.whenSynced()])
    let leaked = false
    inA.repo.on("room-member-joined", ({ roomId }) => {
      if (roomId !== "room-a") leaked = true
    })
    const stop = roomA.on("broadcast", (m) => {
      if (m.event === "b-only") leaked = true
    })
    roomB.setPresence({ secret: 2 })
    roomB.broadcast("b-only", "private")
    // A marker through room A from B's client arrives after anything B sent before it.
    const joinedA = inB.repo.joinRoom("room-a")
    await joinedA.whenSynced()
    const marker = new Promise((resolve) => roomA.on("broadcast", (m) => m.event === "marker" && resolve(m)))
    joinedA.broadcast("marker", null)
    await marker
    stop()
    expect(leaked).toBe(false)
    expect(inA.repo.getRoom("room-b")).toBeUndefined()
  })

  it("a refreshed token that no longer allows a room or a document drops them", async () => {
    let rooms = ["kept", "revoked"]
    const server = await relay({
      auth: {
        authenticate: ({ token }) =>
          token === null
            ? null
            : { userId: "alice", expiresAt: Date.now() + 400, claims: { rooms: [...rooms] } },
      },
      access: {
        authorize: (request) => {
          const name = "roomId" in request ? request.roomId : request.docId
          return (request.identity.claims.rooms as string[]).includes(name)
        },
      },
    })
    const owner = connectWith(server.url, () => "any")
    clients.push(owner)
    // The owner's view: a peer whose own rights do not change.
    rooms = ["kept", "revoked"]
    const alice = connectWith(server.url, () => "token")
    clients.push(alice)
    const [kept, revoked] = [alice.repo.joinRoom("kept"), alice.repo.joinRoom("revoked")]
    const doc = alice.repo.get("revoked")
    await Promise.all([kept.whenSynced(), revoked.whenSynced(), doc.whenReady()])
    expect(server.getMembers("revoked")).toHaveLength(1)

    const droppedRoom = new Promise((resolve) => revoked.on("error", resolve))
    const droppedDoc = repoError(alice, (e) => e.docId === "revoked")
    rooms = ["kept"]
    expect(await droppedRoom).toMatchObject({ code: "FORBIDDEN" })
    expect(await droppedDoc).toMatchObject({ code: "FORBIDDEN" })
    expect(server.getMembers("revoked") ?? []).toHaveLength(0)
    expect(server.getMembers("kept")).toHaveLength(1)
    expect(alice.adapter.state).toBe("open")
  })
})
