import { Bridge, BridgeAdapter, Repo } from "@tandem/repo"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { quiet } from "./helpers.js"

type Action =
  | { kind: "edit"; peer: number; at: number; text: string }
  | { kind: "faults"; drop: number; duplicate: number; reorder: number; delay: number }
  | { kind: "partition"; side: number[] }
  | { kind: "heal" }
  | { kind: "settle" }

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("edit" as const),
      peer: fc.nat(9),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      text: fc.string({ minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("faults" as const),
      drop: fc.double({ min: 0, max: 0.3, noNaN: true }),
      duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
      reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
      delay: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("partition" as const),
      side: fc.uniqueArray(fc.nat(9), { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "heal" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "settle" as const }) },
)

/** A seeded source of randomness, so a failing run replays. */
function seeded(seed: number): () => number {
  let state = seed % 2147483647 || 1
  return () => {
    state = (state * 48271) % 2147483647
    return state / 2147483647
  }
}

describe("convergence under faults", () => {
  // Every repo ends with the same document state and the same version vector as every other.
  it("random edits on random repos, with drops, duplicates, reordering and partitions, then heal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 2 ** 30 }),
        fc.array(action, { minLength: 5, maxLength: 40 }),
        async (count, star, seed, actions) => {
          const random = seeded(seed)
          const bridges: Bridge[] = []
          const adapters: BridgeAdapter[] = []
          const hubAdapters: BridgeAdapter[] = []
          const repos: Repo[] = []
          const options = { keepalive: false as const }
          if (star) {
            for (let i = 0; i < count; i++) {
              const bridge = new Bridge({ random })
              bridges.push(bridge)
              hubAdapters.push(new BridgeAdapter(bridge))
              adapters.push(new BridgeAdapter(bridge))
            }
            repos.push(new Repo({ ...options, relay: true, network: hubAdapters }))
          } else {
            const bridge = new Bridge({ random })
            bridges.push(bridge)
            for (let i = 0; i < count; i++) adapters.push(new BridgeAdapter(bridge))
          }
          const peers = adapters.map((adapter) => new Repo({ ...options, network: [adapter] }))
          repos.push(...peers)
          const handles = peers.map((peer) => peer.get("doc"))
          try {
            for (const step of actions) {
              switch (step.kind) {
                case "edit": {
                  const text = (handles[step.peer % count] ?? handles[0])?.doc.getText("t")
                  text?.insert(Math.min(text.length, Math.floor(step.at * (text.length + 1))), step.text)
                  handles[step.peer % count]?.doc.commit()
                  break
                }
                case "faults":
                  for (const bridge of bridges) {
                    bridge.setFaults({
                      drop: step.drop,
                      duplicate: step.duplicate,
                      reorder: step.reorder,
                      ...(step.delay > 0 && { delay: [0, step.delay] as const }),
                    })
                  }
                  break
                case "partition": {
                  const side = step.side.map((i) => adapters[i % count]).filter((a) => a !== undefined)
                  if (star) {
                    // In a star, the partition cuts each chosen spoke off from the hub.
                    for (const adapter of side) {
                      const hubSide = hubAdapters[adapters.indexOf(adapter)]
                      if (hubSide) adapter.bridge.partition([adapter], [hubSide])
                    }
                  } else {
                    bridges[0]?.partition(
                      side,
                      adapters.filter((a) => !side.includes(a)),
                    )
                  }
                  break
                }
                case "heal":
                  for (const bridge of bridges) bridge.heal()
                  break
                case "settle":
                  await new Promise((resolve) => setTimeout(resolve, 1))
                  break
              }
            }
            for (const bridge of bridges) bridge.heal()
            await quiet(...bridges)
            const states = handles.map((handle) => JSON.stringify(handle.doc.toJSON()))
            expect(new Set(states).size).toBe(1)
            const first = handles[0]?.doc.oplogVersion()
            for (const handle of handles) {
              expect(first && handle.doc.oplogVersion().compare(first)).toBe(0)
            }
          } finally {
            await Promise.all(repos.map((r) => r.shutdown()))
          }
        },
      ),
      { numRuns: 60 },
    )
  })
})
