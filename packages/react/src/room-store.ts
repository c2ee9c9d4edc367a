import type { Json, Room, RoomMember, RoomUser } from "@tandem/repo"

export interface RoomSnapshot<P extends Json> {
  /** Every member, this peer first. */
  members: RoomMember<P>[]
  /** Members grouped by user (several tabs of one user are one entry). */
  users: RoomUser<P>[]
  /** This peer's own presence. */
  presence: P | undefined
}

export interface RoomStore<P extends Json> {
  subscribe(onChange: () => void): () => void
  getSnapshot(): RoomSnapshot<P>
  /** This peer's presence changed (rooms emit no event for their own presence). */
  presenceChanged(): void
}

const stores = new WeakMap<Room, RoomStore<Json>>()

/** One store per room, shared by every component that shows its members. */
export function roomStore<P extends Json>(room: Room<P>): RoomStore<P> {
  const existing = stores.get(room as unknown as Room)
  if (existing) return existing as unknown as RoomStore<P>
  const read = (): RoomSnapshot<P> => ({
    members: room.getMembers(),
    users: room.getUsers(),
    presence: room.presence,
  })
  let snapshot: RoomSnapshot<P> | null = null
  const listeners = new Set<() => void>()
  let stop: (() => void) | null = null
  const changed = () => {
    snapshot = null
    for (const listener of listeners) listener()
  }
  const store: RoomStore<P> = {
    subscribe(onChange) {
      listeners.add(onChange)
      if (!stop) {
        const offs = [
          room.on("member-joined", changed),
          room.on("member-left", changed),
          room.on("member-updated", changed),
          room.on("sync", changed),
        ]
        stop = () => {
          for (const off of offs) off()
        }
        snapshot = null
      }
      return () => {
        listeners.delete(onChange)
        if (listeners.size === 0) {
          stop?.()
          stop = null
        }
      }
    },
    getSnapshot() {
      snapshot ??= read()
      return snapshot
    },
    presenceChanged: changed,
  }
  stores.set(room as unknown as Room, store as unknown as RoomStore<Json>)
  return store
}
