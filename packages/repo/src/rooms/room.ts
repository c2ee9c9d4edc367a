import { EventEmitter } from "eventemitter3"
import { TandemError } from "../errors.js"
import type { MemberRecord } from "../program/commands.js"
import type { ReportedError } from "../program/messages.js"
import type { Identity, Json, PeerId, RoomId } from "../types.js"
import type { RoomHost } from "./room-host.js"

/** A member of a room as the application sees it. */
export interface RoomMember<P> {
  peerId: PeerId
  /** The authenticated user, when the relay knows one; several peers (tabs) may share it. */
  userId: string | undefined
  identity: Identity
  presence: P | undefined
  /** When the member joined (ms since the epoch, by the clock of the peer that saw it join). */
  joinedAt: number
  /** This repo's own member. */
  self: boolean
}

/** The members of one user: a user is in the room while at least one of its peers is. */
export interface RoomUser<P> {
  /** The user id, or `peer:<peerId>` for a member without one. */
  key: string
  userId: string | undefined
  members: RoomMember<P>[]
}

export interface BroadcastMessage {
  event: string
  payload: unknown
  from: PeerId
}

export interface RoomSync<P> {
  members: RoomMember<P>[]
  me: RoomMember<P>
}

export interface RoomEvents<P> {
  "member-joined": [RoomMember<P>]
  "member-left": [RoomMember<P>]
  "member-updated": [{ member: RoomMember<P>; previous: P | undefined; current: P }]
  "user-joined": [RoomUser<P>]
  "user-left": [RoomUser<P>]
  sync: [RoomSync<P>]
  broadcast: [BroadcastMessage]
  /** A broadcast made while offline was dropped: the offline buffer was full. */
  "broadcast-dropped": [{ event: string }]
  error: [ReportedError]
}

export interface BroadcastOptions {
  /** Deliver to this repo's own `broadcast` listeners too (default false). */
  self?: boolean
  /** Resolve with the number of peers it was delivered to (default false). */
  ack?: boolean
}

/**
 * One room: who is here, their presence, and short broadcasts. Presence is typed by `P` and must
 * be JSON. Events are forward-only: read `getMembers()` first, then listen.
 */
export class Room<P extends Json = Json> {
  // Untyped inside so that a `Room<Cursor>` can be passed where a `Room` is expected; `on` is typed.
  readonly #events = new EventEmitter()
  #synced = false
  readonly #syncWaiters: { resolve: (sync: RoomSync<P>) => void; reject: (error: Error) => void }[] = []

  constructor(
    readonly id: RoomId,
    private readonly host: RoomHost,
  ) {}

  /** This repo is a member (it joined and has not left). */
  get joined(): boolean {
    return this.host.model().rooms.get(this.id)?.local != null
  }

  /** This repo's own presence here (a copy: change it through `setPresence`). */
  get presence(): P | undefined {
    const presence = this.host.presence.get(this.id, this.host.peerId) as P | undefined
    return presence === undefined ? undefined : structuredClone(presence)
  }

  /** Replaces this repo's presence. Changes go out coalesced by the presence throttle. */
  setPresence(presence: P): void {
    this.#requireJoined()
    this.host.checkPresence(presence)
    // A copy, so that the caller changing its object later changes nothing here.
    this.host.presence.set(this.id, this.host.peerId, structuredClone(presence))
    this.host.dispatch({ type: "room/presence-changed", roomId: this.id, now: this.host.now() })
  }

  /** Merges `patch` into this repo's presence (which must be an object). */
  updatePresence(patch: Partial<P>): void {
    const current = this.host.presence.get(this.id, this.host.peerId)
    const base = typeof current === "object" && current !== null && !Array.isArray(current) ? current : {}
    this.setPresence({ ...base, ...patch } as P)
  }

  /** Every member, this repo's own first. */
  getMembers(): RoomMember<P>[] {
    const room = this.host.model().rooms.get(this.id)
    if (!room) return []
    const members = [...room.members.values()].map((member) => this.#member(member))
    return room.local ? [this.me, ...members] : members
  }

  /** Members grouped by user, in order of first appearance. */
  getUsers(): RoomUser<P>[] {
    const users = new Map<string, RoomUser<P>>()
    for (const member of this.getMembers()) {
      const key = userKey(member)
      const user = users.get(key)
      if (user) user.members.push(member)
      else users.set(key, { key, userId: member.userId, members: [member] })
    }
    return [...users.values()]
  }

  get me(): RoomMember<P> {
    const local = this.host.model().rooms.get(this.id)?.local
    return {
      peerId: this.host.peerId,
      userId: this.host.identity.userId,
      identity: this.host.identity,
      presence: this.presence,
      joinedAt: local?.joinedAt ?? 0,
      self: true,
    }
  }

  /**
   * Resolves with the whole member list once every connected peer answered the join (at once
   * when there are none). Rejects if a peer refuses the join (`FORBIDDEN`, `ROOM_FULL`, …).
   */
  whenSynced(): Promise<RoomSync<P>> {
    if (this.#synced) return Promise.resolve(this.#sync())
    return new Promise((resolve, reject) => this.#syncWaiters.push({ resolve, reject }))
  }

  /** Sends a short message to the room; it is never stored. */
  broadcast(event: string, payload: Json, options: BroadcastOptions & { ack: true }): Promise<number>
  broadcast(event: string, payload: Json, options?: BroadcastOptions & { ack?: false }): undefined
  broadcast(event: string, payload: Json, options: BroadcastOptions = {}): Promise<number> | undefined {
    this.#requireJoined()
    this.host.checkBroadcast(payload)
    if (options.self) this.#events.emit("broadcast", { event, payload, from: this.host.peerId })
    if (!options.ack) {
      this.host.dispatch({ type: "room/broadcast", roomId: this.id, event, payload, ack: null })
      return undefined
    }
    return this.host.broadcastWithAck(this.id, event, payload)
  }

  /** Leaves the room: the others see it at once. */
  leave(): void {
    this.host.dispatch({ type: "room/leave", roomId: this.id, now: this.host.now() })
  }

  on<K extends keyof RoomEvents<P>>(event: K, listener: (...args: RoomEvents<P>[K]) => void): () => void
  on(
    event: "broadcast",
    filter: { event?: string },
    listener: (message: BroadcastMessage) => void,
  ): () => void
  on(
    event: keyof RoomEvents<P>,
    filterOrListener: { event?: string } | ((...args: never[]) => void),
    filtered?: (message: BroadcastMessage) => void,
  ): () => void {
    let listener = filterOrListener as (...args: unknown[]) => void
    if (typeof filterOrListener === "object" && filtered) {
      const wanted = filterOrListener.event
      listener = (message) => {
        const broadcast = message as BroadcastMessage
        if (wanted === undefined || broadcast.event === wanted) filtered(broadcast)
      }
    }
    this.#events.on(event, listener as never)
    return () => {
      this.#events.off(event, listener as never)
    }
  }

  // --- called by the repo as the synchronizer reports ---

  /** @internal */
  memberJoined(record: MemberRecord): void {
    const member = this.#member(record)
    this.#events.emit("member-joined", member)
    const user = this.#user(userKey(member))
    if (user.members.length === 1) this.#events.emit("user-joined", user)
  }

  /** @internal Called after the member left the model, before its presence is dropped. */
  memberLeft(record: MemberRecord): void {
    const member = this.#member(record)
    this.#events.emit("member-left", member)
    const user = this.#user(userKey(member))
    if (user.members.length === 0) this.#events.emit("user-left", { ...user, members: [member] })
  }

  /** @internal */
  memberUpdated(peerId: PeerId, previous: Json | undefined, current: Json): void {
    const record = this.host.model().rooms.get(this.id)?.members.get(peerId)
    if (!record) return
    this.#events.emit("member-updated", {
      member: this.#member(record),
      previous: previous as P | undefined,
      current: current as P,
    })
  }

  /** @internal */
  synced(): void {
    this.#synced = true
    const sync = this.#sync()
    for (const waiter of this.#syncWaiters.splice(0)) waiter.resolve(sync)
    this.#events.emit("sync", sync)
  }

  /** @internal */
  received(message: BroadcastMessage): void {
    this.#events.emit("broadcast", message)
  }

  /** @internal */
  dropped(event: string): void {
    this.#events.emit("broadcast-dropped", { event })
  }

  /** @internal */
  failed(error: ReportedError): void {
    const rejection = new TandemError(error.code, error.message, { roomId: this.id })
    for (const waiter of this.#syncWaiters.splice(0)) waiter.reject(rejection)
    this.#events.emit("error", error)
  }

  #sync(): RoomSync<P> {
    return { members: this.getMembers(), me: this.me }
  }

  #member(record: MemberRecord): RoomMember<P> {
    return {
      peerId: record.peerId,
      userId: record.userId,
      identity: record.identity,
      presence: this.host.presence.get(this.id, record.peerId) as P | undefined,
      joinedAt: record.joinedAt,
      self: false,
    }
  }

  #user(key: string): RoomUser<P> {
    const members = this.getMembers().filter((member) => userKey(member) === key)
    return { key, userId: members[0]?.userId, members }
  }

  #requireJoined(): void {
    if (!this.joined) throw new TandemError("NOT_IN_ROOM", `join room ${this.id} first`)
  }
}

function userKey(member: { userId: string | undefined; peerId: PeerId }): string {
  return member.userId ?? `peer:${member.peerId}`
}
