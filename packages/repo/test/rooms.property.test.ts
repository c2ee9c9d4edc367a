import { Bridge, BridgeAdapter, type Json, Repo } from "@tandem/repo"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { eventually, quiet } from "./helpers.js"

type Action =
  | { kind: "join"; peer: number; room: number; value: number }
  | { kind: "leave"; peer: number; room: number }
  | { kind: "presence"; peer: number; room: number; value: number }
  | { kind: "reset"; peer: number }
  | { kind: "partition"; peer: number }
  | { kind: "faults"; duplicate: number; reorder: number; drop: number }
  | { kind: "heal" }
  | { kind: "settle" }

const peer = fc.nat(7)
const room = fc.nat(1)
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("join" as const), peer, room, value: fc.nat(99) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("leave" as const), peer, room }) },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("presence" as const), peer, room, value: fc.nat(99) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reset" as const), peer }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("partition" as const), peer }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("faults" as const),
      duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
      reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
      drop: fc.double({ min: 0, max: 0.2, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "heal" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "settle" as const }) },
)

function seeded(seed: number): () => number {
  let state = seed % 2147483647 || 1
  return () => {
    state = (state * 48271) % 2147483647
    return state / 2147483647
  }
}

describe("room membership under faults", () => {
  // Every member of a room ends up seeing exactly the members that are in it, with their latest presence.
  it("random joins, leaves, presence, disconnects and partitions, then heal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.array(action, { minLength: 5, maxLength: 40 }),
        async (count, star, seed, actions) => {
          const random = seeded(seed)
          const options = { keepalive: false as const, rooms: { reconnectGrace: 20, presenceThrottle: 5 } }
          const bridges: Bridge[] = []
          const adapters: BridgeAdapter[] = []
          const hubSides: BridgeAdapter[] = []
          const all: Repo[] = []
          if (star) {
            for (let i = 0; i < count; i++) {
              const bridge = new Bridge({ random })
              bridges.push(bridge)
              hubSides.push(new BridgeAdapter(bridge))
              adapters.push(new BridgeAdapter(bridge))
            }
            all.push(new Repo({ ...options, peerId: "hub", relay: true, network: hubSides }))
          } else {
            bridges.push(new Bridge({ random }))
            for (let i = 0; i < count; i++) adapters.push(new BridgeAdapter(bridges[0] as Bridge))
          }
          const peers = adapters.map(
            (adapter, i) => new Repo({ ...options, peerId: `p${i}`, network: [adapter] }),
          )
          all.push(...peers)
          // The ground truth: who is in each room, with what presence.
          const truth = [new Map<number, Json>(), new Map<number, Json>()]
          try {
            for (const step of actions) {
              const i = "peer" in step ? step.peer % count : 0
              const repo = peers[i] as Repo
              const bridgeOf = star ? bridges[i] : bridges[0]
              switch (step.kind) {
                case "join":
                  if (truth[step.room]?.has(i)) break
                  repo.joinRoom(`r${step.room}`, { presence: { v: step.value } })
                  truth[step.room]?.set(i, { v: step.value })
                  break
                case "leave":
                  if (!truth[step.room]?.has(i)) break
                  repo.leaveRoom(`r${step.room}`)
                  truth[step.room]?.delete(i)
                  break
                case "presence":
                  if (!truth[step.room]?.has(i)) break
                  repo.getRoom(`r${step.room}`)?.setPresence({ v: step.value })
                  truth[step.room]?.set(i, { v: step.value })
                  break
                case "reset":
                  bridgeOf?.reset()
                  break
                case "partition": {
                  const me = adapters[i] as BridgeAdapter
                  if (star) bridgeOf?.partition([me], [hubSides[i] as BridgeAdapter])
                  else
                    bridgeOf?.partition(
                      [me],
                      adapters.filter((a) => a !== me),
                    )
                  break
                }
                case "faults":
                  for (const bridge of bridges)
                    bridge.setFaults({ duplicate: step.duplicate, reorder: step.reorder, drop: step.drop })
                  break
                case "heal":
                  for (const bridge of bridges) bridge.heal()
                  break
                case "settle":
                  await new Promise((resolve) => setTimeout(resolve, 2))
                  break
              }
            }
            for (const bridge of bridges) bridge.heal()
            await quiet(...bridges)
            const views = () =>
              truth.flatMap((members, r) =>
                [...members.keys()].map((i) => {
                  const seen = peers[i]?.getRoom(`r${r}`)?.getMembers() ?? []
                  return JSON.stringify(
                    seen
                      .map((m) => [m.peerId, m.presence])
                      .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
                  )
                }),
              )
            const expected = () =>
              truth.flatMap((members) => {
                const want = JSON.stringify(
                  [...members.entries()]
                    .map(([i, presence]) => [`p${i}`, presence])
                    .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
                )
                return [...members.keys()].map(() => want)
              })
            await eventually(() => JSON.stringify(views()) === JSON.stringify(expected()), 3000).catch(
              () => {},
            )
            expect(views()).toEqual(expected())
          } finally {
            await Promise.all(all.map((r) => r.shutdown()))
          }
        },
      ),
      { numRuns: 50, timeout: 4000 },
    )
  }, 120_000)
})
