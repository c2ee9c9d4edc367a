import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type RedisServerHandle, startRedisServer } from "@tandem/adapter-redis/testing"
import type { DocHandle } from "@tandem/repo"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, LoadBalancer, memberIds, RelayProcess } from "./cluster-helpers.js"
import { type Client, connect } from "./helpers.js"
import { freePort } from "./ports.js"

// Relay instances as their own processes (`tandem serve --redis`), behind a load balancer, so
// that one can be killed with SIGKILL the way a machine dies.

let redis: RedisServerHandle
let dir: string

beforeAll(async () => {
  redis = await startRedisServer()
  dir = await mkdtemp(join(tmpdir(), "tandem-cluster-"))
})
afterAll(async () => {
  await redis.close()
  await rm(dir, { recursive: true, force: true })
})

async function relays(service: string, ttl: number): Promise<RelayProcess[]> {
  const started: RelayProcess[] = []
  for (let i = 1; i <= 3; i++) {
    const args = ["--data", join(dir, `${service}-${i}`), "--redis", redis.url, "--service", service]
    args.push("--instance-id", `${service}-${i}`, "--instance-ttl", String(ttl), "--log-level", "info")
    const relay = new RelayProcess(await freePort(), args)
    await relay.start()
    started.push(relay)
  }
  return started
}

const text = (handle: DocHandle) => handle.doc.getText("t").toString()

describe("a service whose instances die", () => {
  it("instance killed with SIGKILL: its members leave everywhere, its clients reconnect elsewhere with no lost edits", async () => {
    const instances = await relays("kill", 3000)
    const balancer = await LoadBalancer.start(instances.map((relay) => relay.port))
    const clients: Client[] = []
    try {
      // Six clients through the balancer (two per instance), and one pinned to the first instance.
      for (let i = 0; i < 6; i++) clients.push(connect(balancer.url, { peerId: `c${i}` }))
      const pinned = connect((instances[0] as RelayProcess).url, { peerId: "pinned" })
      clients.push(pinned)
      const rooms = clients.map((client) =>
        client.repo.joinRoom("room", { presence: { at: client.repo.peerId } }),
      )
      const handles = clients.map((client) => client.repo.get("doc"))
      const everyone = clients.map((client) => client.repo.peerId).sort()
      await eventually("seven members everywhere", () =>
        rooms.every((room) => JSON.stringify(memberIds(room)) === JSON.stringify(everyone)),
      )

      // Everyone writes; the first instance dies in the middle of it.
      const writes = async (from: number, to: number) => {
        for (let n = from; n < to; n++) {
          for (const [i, handle] of handles.entries()) {
            if (i === 6) continue // the pinned client only watches: it has nowhere to go after the kill
            handle.doc.getText("t").insert(0, "x")
            handle.doc.commit()
          }
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
      await writes(0, 10)
      await (instances[0] as RelayProcess).kill()
      await writes(10, 20)

      const survivors = rooms.slice(0, 6)
      await eventually(
        "the pinned client to leave every other member's list",
        () => survivors.every((room) => !memberIds(room).includes("pinned")),
        15_000,
      )
      await eventually(
        "the six others to list each other again",
        () => survivors.every((room) => memberIds(room).length === 6),
        20_000,
        () => survivors.map(memberIds),
      )
      const expected = 6 * 20
      await eventually(
        "no edit lost",
        () => handles.slice(0, 6).every((handle) => text(handle).length === expected),
        20_000,
        () => handles.map((handle) => text(handle).length),
      )
      expect(new Set(handles.slice(0, 6).map(text)).size).toBe(1)
    } finally {
      await Promise.all(clients.map((client) => client.repo.shutdown()))
      await balancer.close()
      await Promise.all(instances.map((relay) => relay.stop()))
    }
  })

  it("an instance restarted with the same id replaces its earlier run at once, long before its TTL", async () => {
    // A TTL far longer than the test: only the new epoch can explain the old members leaving.
    const instances = await relays("restart", 60_000)
    const [first, second] = instances as [RelayProcess, RelayProcess, RelayProcess]
    const watcher = connect(second.url, { peerId: "watcher" })
    const doomed = connect(first.url, { peerId: "doomed" })
    try {
      const room = watcher.repo.joinRoom("room")
      doomed.repo.joinRoom("room")
      await eventually("the watcher to see the doomed member", () => memberIds(room).includes("doomed"))
      // Its instance dies first, so the member cannot say goodbye; then the instance comes back.
      await first.kill()
      await doomed.repo.shutdown()
      await first.start()
      await eventually(
        "the earlier run's member to be gone",
        () => !memberIds(room).includes("doomed"),
        10_000,
      )
    } finally {
      await watcher.repo.shutdown()
      await Promise.all(instances.map((relay) => relay.stop()))
    }
  })

  it("an update acknowledged by one instance survives that instance's SIGKILL right after the ack", async () => {
    const instances = await relays("ack", 3000)
    const [first, second] = instances as [RelayProcess, RelayProcess, RelayProcess]
    const writer = connect(first.url, { peerId: "writer" })
    const reader = connect(second.url, { peerId: "reader" })
    try {
      const written = writer.repo.get("acked")
      written.doc.getText("t").insert(0, "survives")
      written.doc.commit()
      await written.whenAcknowledged()
      await first.kill()
      // The writer goes too: only the service can still have the update.
      await writer.repo.shutdown()
      const read = reader.repo.get("acked")
      await eventually("the acknowledged update on another instance", () => text(read) === "survives")
    } finally {
      await reader.repo.shutdown()
      await Promise.all(instances.map((relay) => relay.stop()))
    }
  })
})
