import { Bridge, BridgeAdapter, Repo, type Room } from "@tandem/repo"
import { cpuMs } from "./cpu.js"
import { Latencies } from "./latency.js"
import { type Cursor, cursorAt, dueAt, expectedCounts, type PresencePlan, ticksPerPeer } from "./plan.js"
import type { RoomResult } from "./result.js"
import { runSchedule } from "./schedule.js"
import { WindowRecorder } from "./windows.js"

const ROOM = "bench-room"

/**
 * A relaying hub with one in-memory bridge per peer, every peer a repo of its own in one room
 * (defaults otherwise: keepalive on, 50 ms presence throttle). Each peer updates its presence on
 * the fixed schedule; every `member-updated` event a peer sees is one delivery. The run ends
 * once every peer holds every other peer's last update.
 */
export async function tandemRoom(plan: PresencePlan, timeoutMs: number): Promise<RoomResult> {
  const { peers } = plan
  const bridges = Array.from({ length: peers }, () => new Bridge())
  const hub = new Repo({ peerId: "hub", relay: true, network: bridges.map((b) => new BridgeAdapter(b)) })
  const repos = bridges.map(
    (bridge, i) =>
      new Repo({ peerId: `p${i}`, identity: { name: `peer ${i}` }, network: [new BridgeAdapter(bridge)] }),
  )
  try {
    const joinStarted = performance.now()
    const rooms = repos.map((repo, i) => repo.joinRoom<Cursor>(ROOM, { presence: cursorAt(i, -1) }))
    await everyoneJoined(rooms, timeoutMs)
    const joinMs = performance.now() - joinStarted

    const lastTick = ticksPerPeer(plan) - 1
    const latencies = new Latencies(expectedCounts(plan).deliveries)
    let deliveries = 0
    // Pairs (receiver, sender) where the receiver holds the sender's last update.
    let converged = 0
    let started = 0
    for (const room of rooms) {
      room.on("member-updated", ({ member, current }) => {
        deliveries++
        const sender = Number(member.peerId.slice(1))
        latencies.add(performance.now() - started - dueAt(plan, sender, current.x))
        if (current.x === lastTick) converged++
      })
    }

    const cpuBefore = cpuMs()
    started = performance.now()
    const recorder = new WindowRecorder()
    const second = setInterval(() => recorder.mark(deliveries), 1000)
    let updates = 0
    try {
      await runSchedule(
        plan,
        (peer, tick) => {
          rooms[peer]?.setPresence(cursorAt(peer, tick))
          updates++
        },
        started,
      )
      const pairs = peers * (peers - 1)
      const deadline = performance.now() + timeoutMs
      while (converged < pairs && performance.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      clearInterval(second)
    }
    const elapsedMs = performance.now() - started
    const cpu = cpuMs() - cpuBefore
    const [p50 = Number.NaN, p99 = Number.NaN, max = Number.NaN] = latencies.percentiles([50, 99, 100])
    return {
      peers,
      updates,
      deliveries,
      expectedDeliveries: updates * (peers - 1),
      complete: converged === peers * (peers - 1),
      joinMs,
      elapsedMs,
      cpuMs: cpu,
      latencyMs: { p50, p99, max },
      // Whole seconds of the schedule only: the drain at the end is a partial window.
      windows: recorder.windows.slice(0, plan.seconds),
    }
  } finally {
    await Promise.all([hub, ...repos].map((repo) => repo.shutdown()))
  }
}

/**
 * Resolves once every peer has seen every other one join (and its own join answered). Counted
 * from events: `getMembers` reads every member's presence, too dear to poll with 200 peers.
 */
async function everyoneJoined(rooms: readonly Room<Cursor>[], timeoutMs: number): Promise<void> {
  const others = rooms.length - 1
  let missing = rooms.length * others
  const stops = rooms.map((room) => room.on("member-joined", () => missing--))
  try {
    await Promise.all(rooms.map((room) => room.whenSynced()))
    const deadline = performance.now() + timeoutMs
    while (missing > 0) {
      if (performance.now() > deadline) throw new Error(`timed out joining: ${missing} joins not seen`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  } finally {
    for (const stop of stops) stop()
  }
}
