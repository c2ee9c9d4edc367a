import { type RedisServerHandle, startRedisServer } from "@tandem/adapter-redis/testing"
import { type DocHandle, MemoryStorage, type Room } from "@tandem/repo"
import type { TandemServer } from "@tandem/server"
import { LoroDoc } from "loro-crdt"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { eventually, instance, memberIds, presences } from "./cluster-helpers.js"
import { type Client, connect } from "./helpers.js"

// Three relay instances on one Redis, in this process, with clients spread across them.

let redis: RedisServerHandle
const servers: TandemServer[] = []
const clients: Client[] = []
let service = 0

beforeAll(async () => {
  redis = await startRedisServer()
})
afterAll(async () => {
  await redis.close()
})
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.repo.shutdown()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function cluster(size: number, linger?: number): Promise<TandemServer[]> {
  const name = `cluster-${++service}`
  const started: TandemServer[] = []
  for (let i = 0; i < size; i++) {
    const rooms = linger === undefined ? {} : { rooms: { linger } }
    started.push(await instance(redis.url, `i${i + 1}`, { service: name, ...rooms }))
  }
  servers.push(...started)
  await eventually("every instance to see the others", () =>
    started.every((server) => server.redis?.stats.instances === size),
  )
  return started
}

function client(server: TandemServer, peerId: string): Client {
  const made = connect(server.url, { peerId })
  clients.push(made)
  return made
}

const text = (handle: DocHandle) => handle.doc.getText("t").toString()

describe("a service of three relay instances", () => {
  it("a document only one instance stores is served by every instance", async () => {
    const kept = new LoroDoc()
    kept.getText("t").insert(0, "stored on i1 only")
    const storage = new MemoryStorage()
    await storage.append("kept", kept.export({ mode: "snapshot" }))
    const name = `cluster-${++service}`
    const relays = [
      await instance(redis.url, "i1", { service: name, storage }),
      await instance(redis.url, "i2", { service: name, storage: new MemoryStorage() }),
      await instance(redis.url, "i3", { service: name, storage: new MemoryStorage() }),
    ]
    servers.push(...relays)
    await eventually("every instance to see the others", () =>
      relays.every((server) => server.redis?.stats.instances === 3),
    )
    for (const [i, relay] of relays.entries()) {
      const handle = client(relay, `reader-${i}`).repo.get("kept")
      expect(await handle.whenReady()).toBe("ready")
      expect(text(handle)).toBe("stored on i1 only")
    }
  })

  it("documents edited through different instances converge", async () => {
    const relays = await cluster(3)
    const handles = relays.map((relay, i) => client(relay, `c${i}`).repo.get("shared"))
    for (const [i, handle] of handles.entries()) {
      handle.doc.getText("t").insert(0, `${i}`)
      handle.doc.commit()
    }
    await eventually("every client to hold all three edits", () =>
      handles.every((handle) => text(handle).length === 3 && text(handle) === text(handles[0] as DocHandle)),
    )
    // Many concurrent edits from every side.
    for (let round = 0; round < 20; round++) {
      for (const [i, handle] of handles.entries()) {
        handle.doc.getText("t").insert(0, `${i}`)
        handle.doc.commit()
      }
    }
    await eventually("63 characters everywhere", () =>
      handles.every((handle) => text(handle).length === 63 && text(handle) === text(handles[0] as DocHandle)),
    )
  })

  it("members and presence agree on every instance, and a broadcast with ack counts members on all of them", async () => {
    const relays = await cluster(3)
    const rooms: Room<{ n: number }>[] = []
    for (let i = 0; i < 6; i++) {
      const relay = relays[i % 3] as TandemServer
      rooms.push(client(relay, `m${i}`).repo.joinRoom<{ n: number }>("lobby", { presence: { n: i } }))
    }
    const everyone = rooms.map((_, i) => `m${i}`).sort()
    await eventually("every client to list all six members", () =>
      rooms.every((room) => JSON.stringify(memberIds(room)) === JSON.stringify(everyone)),
    )
    await eventually("every instance to list all six members", () =>
      relays.every((relay) => {
        const room = relay.repo.getRoom("lobby")
        return room !== undefined && JSON.stringify(memberIds(room)) === JSON.stringify(everyone)
      }),
    )
    for (const [i, room] of rooms.entries()) room.setPresence({ n: i * 10 })
    const expected = presences(rooms[0] as Room<{ n: number }>)
    await eventually("presence to agree everywhere", () => {
      const seen = [
        ...rooms.map((room) => presences(room)),
        ...relays.map((relay) => presences(relay.repo.getRoom("lobby") as Room)),
      ]
      return seen.every((p) => p === seen[0]) && seen[0]?.includes('"n":50') === true
    })
    expect(expected).toBeDefined()

    const received: string[] = []
    for (const [i, room] of rooms.entries()) room.on("broadcast", () => received.push(`m${i}`))
    const delivered = await (rooms[0] as Room<{ n: number }>).broadcast("ping", { hello: 1 }, { ack: true })
    expect(delivered).toBe(5)
    await eventually("five members to receive the broadcast", () => received.length === 5)

    // A member leaves through instance 2: it is gone everywhere.
    ;(rooms[1] as Room<{ n: number }>).leave()
    const rest = everyone.filter((id) => id !== "m1")
    await eventually("m1 gone from every instance and client", () =>
      [
        ...relays.map((relay) => memberIds(relay.repo.getRoom("lobby") as Room)),
        ...rooms.filter((_, i) => i !== 1).map((room) => memberIds(room)),
      ].every((ids) => JSON.stringify(ids) === JSON.stringify(rest)),
    )
  })

  it("a room emptied everywhere is destroyed on every instance, and joining it again meets everyone again", async () => {
    const relays = await cluster(2, 50)
    const first = [client(relays[0] as TandemServer, "a1"), client(relays[1] as TandemServer, "b1")]
    const rooms = first.map((c) => c.repo.joinRoom("r"))
    await eventually("both members", () => rooms.every((room) => memberIds(room).length === 2))
    for (const room of rooms) room.leave()
    await eventually("the room to be destroyed on both instances", () =>
      relays.every((relay) => relay.repo.getRoom("r") === undefined),
    )
    const again = [client(relays[0] as TandemServer, "a2"), client(relays[1] as TandemServer, "b2")]
    const rejoined = again.map((c) => c.repo.joinRoom("r"))
    await eventually("the new members to meet across instances", () =>
      rejoined.every((room) => JSON.stringify(memberIds(room)) === JSON.stringify(["a2", "b2"])),
    )
  })
})
