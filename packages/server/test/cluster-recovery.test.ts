import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { serviceKeys } from "@tandem/adapter-redis"
import { type RedisServerHandle, startRedisServer } from "@tandem/adapter-redis/testing"
import type { DocHandle, Json, Room } from "@tandem/repo"
import type { TandemServer } from "@tandem/server"
import { FsStorage } from "@tandem/storage-fs"
import { Redis } from "ioredis"
import { afterEach, describe, expect, it } from "vitest"
import { eventually, instance, memberIds, presences } from "./cluster-helpers.js"
import { type Client, connect } from "./helpers.js"

// Recovery of a service of relay instances (in this process): Redis going away, an instance
// that was away catching up, a trimmed stream, and garbage in Redis.

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function redisServer(): Promise<RedisServerHandle> {
  const redis = await startRedisServer()
  cleanups.push(() => redis.close())
  return redis
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tandem-recovery-"))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function onDisk(url: string, id: string, service: string, dir: string, waitForRedis = true) {
  const storage = await FsStorage.open({ dir: join(dir, id) })
  const server = await instance(url, id, { service, storage, waitForRedis })
  cleanups.push(() => server.close())
  return server
}

function client(server: TandemServer, peerId: string): Client {
  const made = connect(server.url, { peerId })
  cleanups.push(() => made.repo.shutdown())
  return made
}

const text = (handle: DocHandle) => handle.doc.getText("t").toString()
const type = (handle: DocHandle, count: number) => {
  for (let i = 0; i < count; i++) {
    handle.doc.getText("t").insert(0, "x")
    handle.doc.commit()
  }
}

describe("recovery", () => {
  it("Redis stopped for 10 s under load and started again empty: documents and presence converge", async () => {
    const redis = await redisServer()
    const dir = await tempDir()
    const relays = [
      await onDisk(redis.url, "a", "outage", dir),
      await onDisk(redis.url, "b", "outage", dir),
      await onDisk(redis.url, "c", "outage", dir),
    ]
    await eventually("three instances", () => relays.every((relay) => relay.redis?.stats.instances === 3))
    const clients = relays.flatMap((relay, i) => [client(relay, `p${i}a`), client(relay, `p${i}b`)])
    const handles = clients.map((c) => c.repo.get("doc"))
    const rooms = clients.map((c, i) => c.repo.joinRoom<Json>("room", { presence: { n: i } }))
    await eventually("six members everywhere", () => rooms.every((room) => memberIds(room).length === 6))

    await redis.stop()
    await eventually("every instance to notice", () => relays.every((relay) => !relay.redis?.stats.connected))
    // Ten seconds of edits and presence changes while Redis is down: each instance keeps serving
    // its own clients. (The outage's length is the scenario, so it is timed.)
    const outageEnds = Date.now() + 10_000
    let round = 0
    while (Date.now() < outageEnds) {
      round++
      for (const handle of handles) type(handle, 1)
      for (const [i, room] of rooms.entries()) room.setPresence({ n: i, round })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await redis.start()

    const expected = 6 * round
    await eventually(
      "every client to hold every edit",
      () => handles.every((handle) => text(handle).length === expected),
      20_000,
      () => [
        expected,
        handles.map((handle) => text(handle).length),
        relays.map((relay) => relay.redis?.stats),
      ],
    )
    expect(new Set(handles.map(text)).size).toBe(1)
    const members = clients.map((c) => c.repo.peerId).sort()
    await eventually(
      "members and presence to agree on every instance and client",
      () => {
        const views = [...relays.map((relay) => relay.repo.getRoom("room") as Room), ...rooms]
        const all = views.map((room) => presences(room))
        return (
          views.every((room) => JSON.stringify(memberIds(room)) === JSON.stringify(members)) &&
          all.every((p) => p === all[0]) &&
          all[0]?.includes(`"round":${round}`) === true
        )
      },
      20_000,
      () => [
        ...relays.map((relay) => presences(relay.repo.getRoom("room") as Room)),
        ...rooms.map(presences),
      ],
    )
  }, 60_000)

  /**
   * Instances `a` and `c` of `service`, a writer on `a`: 5 edits, then `c` goes away while 20 more
   * are acknowledged, `whileAway` runs, and `c` comes back on the same data.
   */
  async function awayWhileWriting(
    service: string,
    whileAway: (redisUrl: string) => Promise<void> = async () => {},
  ) {
    const redis = await redisServer()
    const dir = await tempDir()
    const a = await onDisk(redis.url, "a", service, dir)
    const away = await onDisk(redis.url, "c", service, dir)
    await eventually("two instances", () => a.redis?.stats.instances === 2)
    const writer = client(a, "writer")
    const handle = writer.repo.get("news")
    type(handle, 5)
    await handle.whenAcknowledged()
    await away.close()
    type(handle, 20)
    await handle.whenAcknowledged()
    await whileAway(redis.url)
    const c = await onDisk(redis.url, "c", service, dir)
    return { a, c, writer }
  }

  it("an instance away while others write catches up from the stream when it returns", async () => {
    const { a, c, writer } = await awayWhileWriting("away")
    await c.redis?.whenCaughtUp()
    expect(c.redis?.stats.gaps).toBe(0)
    // With the writer and the other instance gone, what the returning instance has, it read
    // from the stream into its own storage.
    await writer.repo.shutdown()
    await a.close()
    const reader = client(c, "reader")
    const read = reader.repo.get("news")
    await eventually("all 25 edits from the returning instance's own storage", () => text(read).length === 25)
  })

  it("an instance away while the stream was trimmed past its cursor detects the gap and still converges", async () => {
    const { c } = await awayWhileWriting("gap", async (url) => {
      const admin = new Redis(url)
      await admin.xtrim(serviceKeys("gap").updates, "MAXLEN", 0)
      admin.disconnect()
    })
    await eventually("the gap to be detected", () => c.redis?.stats.gaps === 1)
    const reader = client(c, "reader")
    const read = reader.repo.get("news")
    await eventually("all 25 edits through the returning instance", () => text(read).length === 25)
  })

  it("an instance started while Redis is down serves its own clients and joins the service once Redis is up", async () => {
    const redis = await redisServer()
    const dir = await tempDir()
    const a = await onDisk(redis.url, "a", "late", dir)
    const left = client(a, "left").repo.get("doc")
    type(left, 2)
    await left.whenAcknowledged()
    await redis.stop()
    const b = await onDisk(redis.url, "b", "late", dir, false)
    const right = client(b, "right").repo.get("doc")
    type(right, 3)
    await right.whenAcknowledged()
    expect(b.redis?.stats.connected).toBe(false)
    await redis.start()
    await eventually("both instances to see each other", () =>
      [a, b].every((relay) => relay.redis?.stats.instances === 2),
    )
    await eventually("the document to converge", () => text(left).length === 5 && text(right).length === 5)
  })

  it("garbage on every channel and in the stream is ignored: the service carries on", async () => {
    const redis = await redisServer()
    const dir = await tempDir()
    const a = await onDisk(redis.url, "a", "junk", dir)
    const b = await onDisk(redis.url, "b", "junk", dir)
    await eventually("two instances", () => a.redis?.stats.instances === 2)
    const one = client(a, "one")
    const two = client(b, "two")
    const roomOne = one.repo.joinRoom("room")
    two.repo.joinRoom("room")
    await eventually("both members", () => memberIds(roomOne).length === 2)

    const keys = serviceKeys("junk")
    const admin = new Redis(redis.url)
    const junk = [Buffer.from("not cbor at all"), Buffer.from([0x83, 0x01, 0x02, 0x03]), Buffer.from([0xff])]
    for (const bytes of junk) {
      for (const channel of [keys.control, keys.inbox("a"), keys.inbox("b"), keys.room("room")]) {
        await admin.publish(channel, bytes)
      }
      await admin.xadd(keys.updates, "*", "p", bytes)
      await admin.xadd(keys.updates, "*", "other-field", bytes)
    }
    admin.disconnect()
    await eventually("the garbage to be seen and counted", () => (a.redis?.stats.garbage ?? 0) >= 12)

    const left = one.repo.get("doc")
    const right = two.repo.get("doc")
    type(left, 3)
    type(right, 4)
    await eventually("the document to converge", () => text(left).length === 7 && text(right).length === 7)
    expect(memberIds(roomOne)).toEqual(["one", "two"])
  })
})
