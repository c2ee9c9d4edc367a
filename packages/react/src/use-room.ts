import type {
  BroadcastMessage,
  BroadcastOptions,
  Json,
  Room,
  RoomId,
  RoomMember,
  RoomUser,
} from "@tandem/repo"
import { useCallback, useEffect, useRef, useSyncExternalStore } from "react"
import { useRepo } from "./provider.js"
import { holdRoom, joinedRoom, releaseRoom } from "./room-membership.js"
import { roomStore } from "./room-store.js"

/**
 * Joins a room for as long as the component is mounted and returns it. `initialPresence` is
 * used when this repo joins; change presence later with `usePresence`. Several components may
 * use the same room: the repo joins once and leaves when the last of them unmounts. Under
 * strict mode (effects run twice) nobody sees this peer leave and come back.
 */
export function useRoom<P extends Json = Json>(roomId: RoomId, initialPresence?: P): Room<P> {
  const repo = useRepo()
  const room = joinedRoom(repo, roomId, initialPresence)
  const presence = useRef(initialPresence)
  presence.current = initialPresence
  useEffect(() => {
    holdRoom(repo, roomId, presence.current)
    return () => releaseRoom(repo, roomId)
  }, [repo, roomId])
  return room
}

/** The room's members, this peer first; re-renders when one joins, leaves or changes presence. */
export function useMembers<P extends Json>(room: Room<P>): RoomMember<P>[] {
  const store = roomStore(room)
  return useSyncExternalStore(store.subscribe, store.getSnapshot).members
}

/** The room's members grouped by user: one entry per user, however many tabs it has open. */
export function useUsers<P extends Json>(room: Room<P>): RoomUser<P>[] {
  const store = roomStore(room)
  return useSyncExternalStore(store.subscribe, store.getSnapshot).users
}

export type PresenceUpdate<P> = Partial<P> | ((current: P | undefined) => P)

/**
 * This peer's presence in the room and a setter: an object is merged into the presence, a
 * function replaces it with what it returns. Changes go out coalesced by the repo's throttle.
 */
export function usePresence<P extends Json>(
  room: Room<P>,
): [P | undefined, (update: PresenceUpdate<P>) => void] {
  const store = roomStore(room)
  const presence = useSyncExternalStore(store.subscribe, store.getSnapshot).presence
  const setPresence = useCallback(
    (update: PresenceUpdate<P>) => {
      if (!room.joined) return // left already (unmounting): nothing to tell anyone
      if (typeof update === "function") room.setPresence(update(room.presence))
      else room.updatePresence(update)
      store.presenceChanged()
    },
    [room, store],
  )
  return [presence, setPresence]
}

export type BroadcastSender = {
  (payload: Json, options?: BroadcastOptions & { ack?: false }): void
  (payload: Json, options: BroadcastOptions & { ack: true }): Promise<number>
}

/**
 * Listens for `event` broadcasts in the room and returns a function that sends one. The latest
 * `onMessage` is always the one called, so it may be an inline function.
 */
export function useBroadcast<P extends Json>(
  room: Room<P>,
  event: string,
  onMessage?: (message: BroadcastMessage) => void,
): BroadcastSender {
  const handler = useRef(onMessage)
  handler.current = onMessage
  useEffect(() => room.on("broadcast", { event }, (message) => handler.current?.(message)), [room, event])
  const send = useCallback(
    (payload: Json, options: BroadcastOptions = {}) => {
      if (!room.joined) return options.ack ? Promise.resolve(0) : undefined
      return options.ack
        ? room.broadcast(event, payload, { ...options, ack: true })
        : room.broadcast(event, payload, { ...options, ack: false })
    },
    [room, event],
  )
  return send as BroadcastSender
}
