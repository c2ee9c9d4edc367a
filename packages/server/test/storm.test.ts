import type { ChildProcess } from "node:child_process"
import { once } from "node:events"
import type { Json, Room } from "@tandem/repo"
import { describe, expect, it } from "vitest"
import { type Client, connect } from "./helpers.js"
import { freePort } from "./ports.js"
import { startRelayProcess } from "./relay-process.js"

/** Starts `tandem serve` in a child process with a small heap: running out of memory kills it. */
function startRelay(port: number): Promise<ChildProcess> {
  return startRelayProcess(port, ["--memory", "--log-level", "warning"], {
    node: ["--max-old-space-size=160"],
  })
}

async function untilAllOnRound(room: Room, round: number): Promise<void> {
  const onRound = () =>
    room.getMembers().filter((m) => (m.presence as { round?: number } | undefined)?.round === round).length
  while (onRound() < 50) {
    await new Promise<void>((resolve) => {
      const stop = room.on("member-updated", () => {
        stop()
        resolve()
      })
    })
  }
}

function nextSync(room: Room): Promise<void> {
  return new Promise((resolve) => {
    const stop = room.on("sync", () => {
      stop()
      resolve()
    })
  })
}

describe("reconnect storm", () => {
  it("500 clients whose relay restarts all reconnect, rejoin and resync, and the relay stays within its memory", async () => {
    const port = await freePort()
    let relay = await startRelay(port)
    const clients: Client[] = []
    try {
      for (let i = 0; i < 500; i++) clients.push(connect(`ws://127.0.0.1:${port}`, { peerId: `c${i}` }))
      const rooms = clients.map((c, i) => c.repo.joinRoom<Json>(`room-${i % 10}`, { presence: { i } }))
      const docs = clients.map((c, i) => c.repo.get(`doc-${i % 25}`))
      await Promise.all(rooms.map((room) => room.whenSynced()))

      const resynced = rooms.map(nextSync)
      relay.kill("SIGKILL")
      await once(relay, "exit")
      relay = await startRelay(port)
      await Promise.all(resynced)

      // Every client is back in its room: a presence change made now reaches all of its room.
      for (const [i, room] of rooms.entries()) room.setPresence({ i, round: 2 })
      await Promise.all(rooms.map((room) => untilAllOnRound(room, 2)))
      for (const room of rooms) expect(room.getMembers()).toHaveLength(50)
      // And documents sync again: one edit per document reaches its nineteen other holders.
      const edits = docs.slice(0, 25).map((handle, i) => {
        handle.change((doc) => doc.getText("t").insert(0, `edit ${i};`))
        return `edit ${i};`
      })
      await Promise.all(
        docs.map(async (handle, i) => {
          const expected = edits[i % 25] as string
          while (!handle.doc.getText("t").toString().includes(expected)) {
            await new Promise<void>((resolve) => {
              const stop = handle.on("change", () => {
                stop()
                resolve()
              })
            })
          }
        }),
      )
      expect(relay.exitCode).toBeNull()
    } finally {
      await Promise.all(clients.map((c) => c.repo.shutdown()))
      relay.kill("SIGTERM")
      await once(relay, "exit")
    }
  }, 120_000)
})
