import { EventEmitter } from "eventemitter3"
import type { Container } from "loro-crdt"
import type { NetworkAdapter } from "./adapters/network.js"
import type { StorageAdapter } from "./adapters/storage.js"
import { DocHandle } from "./docs/doc-handle.js"
import { TandemError } from "./errors.js"
import { randomId } from "./ids.js"
import type { RepoEvent } from "./program/commands.js"
import type { ReportedError } from "./program/messages.js"
import { initialModel, type ProgramConfig } from "./program/model.js"
import { Room, type RoomMember } from "./rooms/room.js"
import type { RoomHost } from "./rooms/room-host.js"
import { defaultKeepalive, type KeepaliveOptions } from "./runtime/keepalive.js"
import { Runtime } from "./runtime/runtime.js"
import type { DocId, Identity, Json, PeerId, PeerInfo, RoomId } from "./types.js"

export interface RepoOptions {
  /** This repo's id among its peers. Random by default; give each running repo its own. */
  peerId?: PeerId
  /** Who is behind this repo. A relay that authenticates replaces it with what credentials prove. */
  identity?: Identity
  network?: NetworkAdapter[]
  storage?: StorageAdapter
  /**
   * Forward documents and room traffic between channels. Set it on a repo other peers reach only
   * through it: a server, or a hub in tests. Peers that all connect to each other do not relay.
   */
  relay?: boolean
  /** How long changes collect before one storage write (ms, default 100). */
  saveDelay?: number
  /** A document nobody opened and no peer syncs leaves memory after this long (ms, default 60 s). */
  evictAfter?: number
  /**
   * Pings silent channels and closes those silent past the timeout (default 15 s / 30 s).
   * `false` leaves liveness to the adapters.
   */
  keepalive?: Partial<KeepaliveOptions> | false
  rooms?: RoomOptions
  /**
   * This repo's wall clock (ms), `Date.now` by default. Nothing compares it with a peer's clock;
   * tests pass skewed clocks to prove it.
   */
  clock?: () => number
}

export interface RoomOptions {
  /** Presence changes within this window go out as one message (ms, default 50). */
  presenceThrottle?: number
  /** A member whose connection dropped stays listed this long, waiting for it to return (ms, default 5 s). */
  reconnectGrace?: number
  /** An empty room is destroyed after this long (ms, default 30 s). */
  linger?: number
  /** Largest presence value, as JSON (bytes, default 4 KiB): `PRESENCE_TOO_LARGE`. */
  maxPresenceBytes?: number
  /** Largest broadcast payload, as JSON (bytes, default 64 KiB): `MESSAGE_TOO_LARGE`. */
  maxBroadcastBytes?: number
  /** Members a room may have; joins past it are refused with `ROOM_FULL` (default unlimited). */
  maxMembers?: number
  /** Rooms one channel may join; more are refused with `TOO_MANY_ROOMS` (default unlimited). */
  maxRoomsPerChannel?: number
  /** Broadcasts kept per room while offline, sent on reconnect; past it the oldest is dropped (default 100). */
  offlineBroadcasts?: number
}

export interface JoinRoomOptions<P> {
  /** This repo's presence in the room from the start. */
  presence?: P
}

export interface RepoEvents {
  "doc-created": [{ docId: DocId }]
  "doc-deleted": [{ docId: DocId; remote: boolean }]
  /** A document nobody used left memory; storage keeps it. */
  "doc-evicted": [{ docId: DocId }]
  "peer-connected": [{ peer: PeerInfo }]
  "peer-disconnected": [{ peer: PeerInfo }]
  error: [ReportedError]
  "room-created": [{ roomId: RoomId; room: Room }]
  "room-destroyed": [{ roomId: RoomId }]
  "room-member-joined": [{ roomId: RoomId; member: RoomMember<Json> }]
  "room-member-left": [{ roomId: RoomId; member: RoomMember<Json> }]
}

/**
 * The entry point: documents that sync through network adapters and persist through storage.
 * Events are forward-only: read the current state first, then subscribe.
 */
export class Repo {
  readonly peerId: PeerId
  readonly identity: Identity
  /** Random per running repo: tells this run apart from another run with the same `peerId`. */
  readonly session: string
  readonly #runtime: Runtime
  readonly #handles = new Map<DocId, DocHandle>()
  readonly #events = new EventEmitter<RepoEvents>()
  readonly #peers = new Map<string, PeerInfo>()
  readonly #rooms = new Map<RoomId, Room>()
  readonly #roomHost: RoomHost
  readonly #acks = new Map<number, { resolve: (delivered: number) => void; reject: (error: Error) => void }>()
  #nextAck = 0

  constructor(options: RepoOptions = {}) {
    this.peerId = options.peerId ?? `peer-${randomId(8)}`
    this.identity = options.identity ?? {}
    this.session = randomId(8)
    const network = options.network ?? []
    const rooms = options.rooms ?? {}
    const config: Partial<ProgramConfig> = definedOnly({
      saveDelay: options.saveDelay,
      evictAfter: options.evictAfter,
      presenceThrottle: rooms.presenceThrottle,
      reconnectGrace: rooms.reconnectGrace,
      roomLinger: rooms.linger,
      maxMembersPerRoom: rooms.maxMembers,
      maxRoomsPerChannel: rooms.maxRoomsPerChannel,
      offlineBroadcasts: rooms.offlineBroadcasts,
    })
    const clock = options.clock ?? Date.now
    const maxPresence = rooms.maxPresenceBytes ?? 4 * 1024
    const maxBroadcast = rooms.maxBroadcastBytes ?? 64 * 1024
    this.#runtime = new Runtime({
      model: initialModel({
        self: {
          peerId: this.peerId,
          session: this.session,
          identity: this.identity,
          relay: options.relay ?? false,
        },
        hasStorage: options.storage !== undefined,
        durable: options.storage?.durable === true,
        adapters: network.length,
        config,
      }),
      network,
      storage: options.storage,
      keepalive: options.keepalive === false ? false : { ...defaultKeepalive, ...options.keepalive },
      onEvent: (event) => this.#onEvent(event),
      clock,
    })
    const runtime = this.#runtime
    this.#roomHost = {
      peerId: this.peerId,
      identity: this.identity,
      presence: runtime.presence,
      model: () => runtime.model,
      now: clock,
      dispatch: (msg) => runtime.dispatch(msg),
      checkPresence: (presence) => checkSize(presence, maxPresence, "PRESENCE_TOO_LARGE", "presence"),
      checkBroadcast: (payload) => checkSize(payload, maxBroadcast, "MESSAGE_TOO_LARGE", "broadcast payload"),
      broadcastWithAck: (roomId, event, payload) =>
        new Promise((resolve, reject) => {
          const ack = ++this.#nextAck
          this.#acks.set(ack, { resolve, reject })
          runtime.dispatch({ type: "room/broadcast", roomId, event, payload, ack })
        }),
    }
    runtime.start()
  }

  /**
   * Joins a room (or returns it if this repo is already in it). The room is usable at once;
   * `room.whenSynced()` resolves with the whole member list once connected peers answered.
   */
  joinRoom<P extends Json = Json>(roomId: RoomId, options: JoinRoomOptions<P> = {}): Room<P> {
    const room = this.#room(roomId) as unknown as Room<P>
    if (room.joined) {
      if (options.presence !== undefined) room.setPresence(options.presence)
      return room
    }
    const presence = options.presence ?? null
    this.#roomHost.checkPresence(presence)
    this.#runtime.presence.set(roomId, this.peerId, structuredClone(presence))
    this.#runtime.dispatch({ type: "room/join", roomId, now: this.#roomHost.now() })
    return room
  }

  leaveRoom(roomId: RoomId): void {
    this.#rooms.get(roomId)?.leave()
  }

  /** A room this repo is in or relays, if it exists. */
  getRoom<P extends Json = Json>(roomId: RoomId): Room<P> | undefined {
    if (!this.#runtime.model.rooms.has(roomId)) return undefined
    return this.#room(roomId) as unknown as Room<P>
  }

  /** Every room this repo is in or relays. */
  getRooms(): Room[] {
    return [...this.#runtime.model.rooms.keys()].map((roomId) => this.#room(roomId))
  }

  /**
   * A relay speaks to everyone in a room as itself, without being a member (a server
   * announcement). Members receive it as a broadcast `from` this repo's `peerId`. Only a relay
   * may; the room must exist.
   */
  announce(roomId: RoomId, event: string, payload: Json): void {
    if (!this.#runtime.model.self.relay)
      throw new TandemError("FORBIDDEN", "only a relay announces to rooms it is not in")
    this.#roomHost.checkBroadcast(payload)
    this.#runtime.dispatch({ type: "room/relay-broadcast", roomId, event, payload })
  }

  /** The handle of a document: the same handle for the same id, created (and loaded) on first use. */
  get<T extends Record<string, Container> = Record<string, Container>>(docId: DocId): DocHandle<T> {
    let handle = this.#handles.get(docId)
    if (!handle) {
      const doc = this.#runtime.docs.open(docId)
      handle = new DocHandle(docId, doc, {
        importingFrom: () => this.#runtime.docs.importingFrom,
        acknowledged: () => this.#runtime.docs.acknowledged(docId),
        watching: () => this.#runtime.docs.watching(docId),
        close: () => this.close(docId),
      })
      this.#handles.set(docId, handle)
      this.#runtime.dispatch({ type: "doc/open", docId })
      const status = this.#runtime.model.docs.get(docId)?.status
      if (status) handle.setStatus(status)
    }
    return handle as unknown as DocHandle<T>
  }

  /** Whether this repo holds the document in memory (opened here, or kept for peers). */
  has(docId: DocId): boolean {
    return this.#runtime.model.docs.has(docId)
  }

  getDocIds(): DocId[] {
    return [...this.#runtime.model.docs.keys()]
  }

  /**
   * Done with a document: what is pending is written, peers stop sending it, memory is freed.
   * Its handle's status becomes `closed`; `get` opens it again (from storage, then peers).
   */
  close(docId: DocId): void {
    this.#runtime.dispatch({ type: "doc/close", docId })
  }

  /** Removes the document from memory and storage, and tells the peers that sync it. */
  async delete(docId: DocId): Promise<void> {
    this.#runtime.dispatch({ type: "doc/delete", docId })
    await this.#runtime.flush()
  }

  /** Resolves once every change made so far is in storage. */
  flush(): Promise<void> {
    return this.#runtime.flush()
  }

  /** Writes what is pending, closes every channel and stops every timer. */
  shutdown(): Promise<void> {
    return this.#runtime.shutdown()
  }

  /** Peers connected right now (one per established channel). */
  getPeers(): PeerInfo[] {
    return [...this.#peers.values()]
  }

  on<K extends keyof RepoEvents>(event: K, listener: (...args: RepoEvents[K]) => void): () => void {
    this.#events.on(event, listener as never)
    return () => {
      this.#events.off(event, listener as never)
    }
  }

  #room(roomId: RoomId): Room {
    let room = this.#rooms.get(roomId)
    if (!room) {
      room = new Room(roomId, this.#roomHost)
      this.#rooms.set(roomId, room)
    }
    return room
  }

  #onEvent(event: RepoEvent): void {
    switch (event.type) {
      case "room-created":
        this.#events.emit("room-created", { roomId: event.roomId, room: this.#room(event.roomId) })
        return
      case "room-destroyed":
        this.#rooms.delete(event.roomId)
        this.#events.emit("room-destroyed", { roomId: event.roomId })
        return
      case "room-member-joined": {
        const room = this.#room(event.roomId)
        room.memberJoined(event.member)
        const member = room.getMembers().find((m) => m.peerId === event.member.peerId)
        if (member) this.#events.emit("room-member-joined", { roomId: event.roomId, member })
        return
      }
      case "room-member-left": {
        const room = this.#room(event.roomId)
        room.memberLeft(event.member)
        const { userId, ...rest } = event.member
        const member = {
          ...rest,
          userId,
          presence: this.#runtime.presence.get(event.roomId, rest.peerId),
          self: false,
        }
        this.#events.emit("room-member-left", { roomId: event.roomId, member })
        return
      }
      case "room-member-updated":
        this.#rooms.get(event.roomId)?.memberUpdated(event.peerId, event.previous, event.current)
        return
      case "room-synced":
        this.#rooms.get(event.roomId)?.synced()
        return
      case "room-broadcast":
        this.#rooms
          .get(event.roomId)
          ?.received({ event: event.event, payload: event.payload, from: event.from })
        return
      case "room-broadcast-dropped":
        this.#rooms.get(event.roomId)?.dropped(event.event)
        return
      case "room-broadcast-ack": {
        const pending = this.#acks.get(event.ack)
        this.#acks.delete(event.ack)
        pending?.resolve(event.delivered)
        return
      }
      case "doc-status": {
        const handle = this.#handles.get(event.docId)
        handle?.setStatus(event.status)
        if (event.status === "deleted" || event.status === "closed") this.#handles.delete(event.docId)
        return
      }
      case "doc-acked":
        this.#handles.get(event.docId)?.acknowledgementsChanged()
        return
      case "doc-created":
        this.#events.emit("doc-created", { docId: event.docId })
        return
      case "doc-deleted":
        this.#events.emit("doc-deleted", { docId: event.docId, remote: event.remote })
        return
      case "doc-evicted":
        this.#events.emit("doc-evicted", { docId: event.docId })
        return
      case "peer-connected":
        this.#peers.set(event.channelId, event.peer)
        this.#events.emit("peer-connected", { peer: event.peer })
        return
      case "peer-disconnected":
        this.#peers.delete(event.channelId)
        this.#events.emit("peer-disconnected", { peer: event.peer })
        return
      case "error": {
        const { error } = event
        if (error.ref !== undefined) {
          const pending = this.#acks.get(error.ref)
          this.#acks.delete(error.ref)
          pending?.reject(new TandemError(error.code, error.message, { roomId: error.roomId }))
        }
        if (error.roomId !== undefined) this.#rooms.get(error.roomId)?.failed(error)
        this.#events.emit("error", error)
        return
      }
    }
  }
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>
}

const encoder = new TextEncoder()

function checkSize(
  value: Json,
  limit: number,
  code: "PRESENCE_TOO_LARGE" | "MESSAGE_TOO_LARGE",
  what: string,
): void {
  let json: string | undefined
  try {
    json = JSON.stringify(value)
  } catch {
    json = undefined
  }
  if (json === undefined) throw new TandemError("INVALID_MESSAGE", `${what} must be a JSON value`)
  const size = encoder.encode(json).byteLength
  if (size > limit) throw new TandemError(code, `${what} is ${size} bytes as JSON; the limit is ${limit}`)
}
