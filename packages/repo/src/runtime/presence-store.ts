import { EphemeralStoreWasm } from "loro-crdt"
import type { Json, PeerId, RoomId } from "../types.js"

// Loro's JS `EphemeralStore` wraps this store with a timer that drops entries by the writer's wall
// clock. Here each repo writes every entry itself, stamped with its own clock, and entries leave
// only when the synchronizer says a member left, so skewed clocks cannot hide or freeze anyone.
const NEVER_EXPIRES = 2 ** 31

/** Presence values: one Loro ephemeral store per room, keyed by member peer id. */
export class PresenceStore {
  readonly #rooms = new Map<RoomId, EphemeralStoreWasm>()

  /** Stores a value and returns the one it replaced. */
  set(roomId: RoomId, peerId: PeerId, value: Json): Json | undefined {
    const store = this.#store(roomId)
    const previous = store.get(peerId) as Json | undefined
    store.set(peerId, value)
    return previous
  }

  get(roomId: RoomId, peerId: PeerId): Json | undefined {
    return this.#rooms.get(roomId)?.get(peerId) as Json | undefined
  }

  delete(roomId: RoomId, peerId: PeerId): void {
    this.#rooms.get(roomId)?.delete(peerId)
  }

  free(roomId: RoomId): void {
    this.#rooms.get(roomId)?.free()
    this.#rooms.delete(roomId)
  }

  freeAll(): void {
    for (const roomId of [...this.#rooms.keys()]) this.free(roomId)
  }

  #store(roomId: RoomId): EphemeralStoreWasm {
    let store = this.#rooms.get(roomId)
    if (!store) {
      store = new EphemeralStoreWasm(NEVER_EXPIRES)
      this.#rooms.set(roomId, store)
    }
    return store
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
