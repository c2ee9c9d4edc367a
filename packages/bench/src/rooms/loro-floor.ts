import { EphemeralStore, EphemeralStoreWasm } from "loro-crdt"
import { type Cursor, cursorAt, expectedCounts, type PresencePlan, ticksPerPeer } from "./plan.js"
import type { RoomResult } from "./result.js"
import { WindowRecorder } from "./windows.js"

/** The part of a Loro ephemeral store the floor uses. */
interface Store {
  set(key: string, value: Cursor): void
  encode(key: string): Uint8Array
  apply(bytes: Uint8Array): void
  get(key: string): Cursor | undefined
  /** Stops its timers and releases its WebAssembly memory. */
  free(): void
}

export interface Floor {
  name: string
  make: () => Store
}

/** Loro's JS class, as an application would use it. */
export const jsStore: Floor = {
  name: "EphemeralStore",
  make: () => {
    const store = new EphemeralStore<Record<string, Cursor>>()
    return {
      set: (key, value) => store.set(key, value),
      encode: (key) => store.encode(key),
      apply: (bytes) => store.apply(bytes),
      get: (key) => store.get(key),
      free: () => {
        // `destroy` only stops the expiry timer; the WebAssembly store needs freeing too.
        store.destroy()
        store.inner.free()
      },
    }
  },
}

/**
 * The WebAssembly store under it, which Tandem's rooms use: without the JS class's check for
 * expired entries after every `set` and `apply` (`isEmpty`, which walks every entry).
 */
export const wasmStore: Floor = {
  name: "EphemeralStoreWasm",
  make: () => {
    const store = new EphemeralStoreWasm(30_000)
    return {
      set: (key, value) => store.set(key, value),
      encode: (key) => store.encode(key),
      apply: (bytes) => store.apply(bytes),
      get: (key) => store.get(key) as Cursor | undefined,
      free: () => store.free(),
    }
  },
}

/**
 * The in-process floor: the same presence updates through bare Loro ephemeral stores, one per
 * peer, with no repo, no network and no events. For each update: `set` on the writer's store,
 * `encode` its entry, and `apply` those bytes to every other peer's store. Run as fast as it
 * can, not on the schedule: what is measured is the CPU each delivery costs.
 */
export function loroFloor(floor: Floor, plan: PresencePlan): RoomResult {
  const { peers } = plan
  const stores = Array.from({ length: peers }, () => floor.make())
  try {
    const keys = stores.map((_, i) => `p${i}`)
    // Every store holds every peer before the clock starts, as the rooms do after joining.
    for (const [peer, store] of stores.entries()) store.set(keys[peer] as string, cursorAt(peer, -1))
    for (const [peer, writer] of stores.entries()) {
      const bytes = writer.encode(keys[peer] as string)
      for (const [receiver, store] of stores.entries()) if (receiver !== peer) store.apply(bytes)
    }

    const ticks = ticksPerPeer(plan)
    // About ten windows, whatever the length, for the spread of the cost per delivery.
    const ticksPerWindow = Math.max(1, Math.ceil(ticks / 10))
    const recorder = new WindowRecorder()
    const started = performance.now()
    let updates = 0
    let deliveries = 0
    for (let tick = 0; tick < ticks; tick++) {
      for (let peer = 0; peer < peers; peer++) {
        const writer = stores[peer] as Store
        const key = keys[peer] as string
        writer.set(key, cursorAt(peer, tick))
        const bytes = writer.encode(key)
        for (let receiver = 0; receiver < peers; receiver++) {
          if (receiver === peer) continue
          stores[receiver]?.apply(bytes)
          deliveries++
        }
        updates++
      }
      if ((tick + 1) % ticksPerWindow === 0 || tick === ticks - 1) recorder.mark(deliveries)
    }
    const elapsedMs = performance.now() - started
    const windows = recorder.windows
    return {
      peers,
      updates,
      deliveries,
      expectedDeliveries: expectedCounts(plan).deliveries,
      complete: stores.every((store) => keys.every((key) => store.get(key)?.x === ticks - 1)),
      joinMs: Number.NaN,
      elapsedMs,
      cpuMs: windows.reduce((sum, w) => sum + w.cpuMs, 0),
      latencyMs: { p50: Number.NaN, p99: Number.NaN, max: Number.NaN },
      windows,
    }
  } finally {
    for (const store of stores) store.free()
  }
}
