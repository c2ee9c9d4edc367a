import type { Json, PeerId, RoomId } from "../types.js"

// Plain maps, not a Loro `EphemeralStore`: the program already decides which value is newer (by
// session and seq, never by anyone's clock), so a store only has to hold the values. Converting
// each value into a Loro store cost about 9.7 µs per delivered update against about 4.3 µs here
// (BENCHMARKS.md, network section), on every client and on the relay.

/** Presence values: one map per room, keyed by member peer id. */
export class PresenceStore {
  readonly #rooms = new Map<RoomId, Map<PeerId, Json>>()

  /** Stores a value and returns the one it replaced. */
  set(roomId: RoomId, peerId: PeerId, value: Json): Json | undefined {
    let room = this.#rooms.get(roomId)
    if (!room) {
      room = new Map()
      this.#rooms.set(roomId, room)
    }
    const previous = room.get(peerId)
    room.set(peerId, value)
    return previous
  }

  get(roomId: RoomId, peerId: PeerId): Json | undefined {
    return this.#rooms.get(roomId)?.get(peerId)
  }

  delete(roomId: RoomId, peerId: PeerId): void {
    this.#rooms.get(roomId)?.delete(peerId)
  }

  free(roomId: RoomId): void {
    this.#rooms.delete(roomId)
  }

  freeAll(): void {
    this.#rooms.clear()
  }
}

/** Deep equality of JSON values, to tell a real presence change from a repeat. */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]))
  }
  if (Array.isArray(b)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]))
}
