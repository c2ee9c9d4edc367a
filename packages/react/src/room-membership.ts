import type { Json, Repo, Room, RoomId } from "@tandem/repo"

/**
 * Which rooms components of a repo are in, counted: a room is left only when the last component
 * that uses it unmounts, and not at once, so that React's strict mode (which unmounts and mounts
 * every effect once more) and a component moving in the tree never make the others see this
 * peer leave and join again.
 */
interface Membership {
  users: number
  pendingLeave: ReturnType<typeof setTimeout> | undefined
}

const memberships = new WeakMap<Repo, Map<RoomId, Membership>>()

function membership(repo: Repo, roomId: RoomId): Membership {
  let rooms = memberships.get(repo)
  if (!rooms) {
    rooms = new Map()
    memberships.set(repo, rooms)
  }
  let entry = rooms.get(roomId)
  if (!entry) {
    entry = { users: 0, pendingLeave: undefined }
    rooms.set(roomId, entry)
  }
  return entry
}

/** Joins unless already in the room (idempotent, so it may run during render). */
export function joinedRoom<P extends Json>(
  repo: Repo,
  roomId: RoomId,
  initialPresence: P | undefined,
): Room<P> {
  const room = repo.getRoom<P>(roomId)
  if (room?.joined) return room
  return repo.joinRoom<P>(roomId, initialPresence === undefined ? {} : { presence: initialPresence })
}

/** A component starts using the room (an effect ran). */
export function holdRoom<P extends Json>(repo: Repo, roomId: RoomId, initialPresence: P | undefined): void {
  const entry = membership(repo, roomId)
  clearTimeout(entry.pendingLeave)
  entry.pendingLeave = undefined
  entry.users++
  joinedRoom(repo, roomId, initialPresence)
}

/** A component stopped using the room (its effect was cleaned up). The last one out leaves. */
export function releaseRoom(repo: Repo, roomId: RoomId): void {
  const entry = membership(repo, roomId)
  entry.users = Math.max(0, entry.users - 1)
  if (entry.users > 0) return
  clearTimeout(entry.pendingLeave)
  entry.pendingLeave = setTimeout(() => {
    entry.pendingLeave = undefined
    if (entry.users === 0) repo.leaveRoom(roomId)
  }, 0)
}
