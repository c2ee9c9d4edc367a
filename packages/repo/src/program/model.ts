import * as I from "immutable"
import type { ChannelId, DocId, Identity, PeerId, PeerInfo, RoomId } from "../types.js"

/**
 * Everything the synchronizer knows, as plain immutable data. Loro documents, presence values and
 * sockets live in the runtime; the model holds only what decisions are made from.
 */
export interface Model {
  readonly self: PeerInfo
  readonly config: ProgramConfig
  readonly hasStorage: boolean
  /** Storage survives a crash: updates from peers are acknowledged once written. */
  readonly durable: boolean
  /** The repo has network adapters: with no channel open, it is offline rather than alone. */
  readonly hasNetwork: boolean
  /** Adapters still making their first attempt to reach peers. */
  readonly adaptersStarting: number
  readonly channels: I.Map<ChannelId, ChannelModel>
  readonly docs: I.Map<DocId, DocModel>
  /** Documents deleted during this run: later updates for them are ignored. */
  readonly deleted: I.Set<DocId>
  readonly rooms: I.Map<RoomId, RoomModel>
  /** Orders everything this repo says in rooms (joins, presence, leaves, broadcasts). */
  readonly roomClock: number
  /** Broadcasts waiting for delivery counts, by request id. */
  readonly acks: I.Map<number, PendingAck>
  /**
   * Broadcasts a relay passed on to its relay links for a client that wants a delivery count, by
   * the id the relay gave them: the client hears the total once every link answered.
   */
  readonly relayAcks: I.Map<number, RelayedAck>
  readonly relayAckClock: number
}

export interface ProgramConfig {
  /** How long changes collect before one storage write (ms). */
  readonly saveDelay: number
  /** How long a failed storage write waits before it is tried again (ms). */
  readonly saveRetryDelay: number
  /** A document nobody opened or syncs leaves memory after this long (ms); storage keeps it. */
  readonly evictAfter: number
  /** How long an empty room lingers before it is destroyed (ms). */
  readonly roomLinger: number
  /** How long a member whose connection dropped stays listed, waiting for it to come back (ms). */
  readonly reconnectGrace: number
  /** Presence changes within this window go out as one message (ms). */
  readonly presenceThrottle: number
  /** Joins past this many members are refused with `ROOM_FULL`. */
  readonly maxMembersPerRoom: number
  /** A channel's joins past this many rooms are refused with `TOO_MANY_ROOMS`. */
  readonly maxRoomsPerChannel: number
  /** Broadcasts kept per room while offline; past it the oldest is dropped. */
  readonly offlineBroadcasts: number
}

export interface ChannelModel {
  readonly id: ChannelId
  /** The far end, once its `hello` arrived. Until then the channel is still handshaking. */
  readonly peer: PeerInfo | null
  /** A link to another instance of the same relay service (see `Channel.relayLink`). */
  readonly relayLink: boolean
  /** Documents this channel takes part in, so closing it touches only those. */
  readonly docs: I.Set<DocId>
  /** Rooms this channel takes part in. */
  readonly rooms: I.Set<RoomId>
}

export type DocStatus = "loading" | "ready" | "unavailable" | "deleted" | "closed"

export interface DocModel {
  readonly id: DocId
  readonly status: DocStatus
  /** Opened by this repo's application: requested from every channel. */
  readonly wanted: boolean
  /** Known to hold content (from storage, a peer or a local change). */
  readonly hasContent: boolean
  /**
   * What storage said: being read, had it, had nothing (or there is no storage), or could not be
   * read, in which case nothing is written over what it holds.
   */
  readonly storage: "reading" | "found" | "empty" | "failed"
  /** Channels exchanging live updates of this document, both ways. */
  readonly synced: I.Set<ChannelId>
  /** Channels asked for the document that have not answered yet. */
  readonly awaiting: I.Set<ChannelId>
  /** Requests (the asker's version and request id) that arrived while storage was being read. */
  readonly deferred: I.Map<ChannelId, DeferredRequest>
  readonly save: SaveState
  /** The application closed it: it leaves once what it holds is written. */
  readonly closing: boolean
  /** An eviction check is scheduled. */
  readonly evictScheduled: boolean
}

export interface DeferredRequest {
  readonly version: Uint8Array
  readonly ref: number | undefined
}

export interface SaveState {
  /** Changes not yet handed to storage. */
  readonly dirty: boolean
  readonly scheduled: boolean
  readonly writing: boolean
  /** The next write must be a snapshot (storage may lack what memory has). */
  readonly compactNext: boolean
  /** Bytes of updates stored since the last snapshot. */
  readonly updateBytes: number
  readonly snapshotBytes: number
  /** Channels whose updates arrived since the last write began: acknowledged after the next. */
  readonly unacked: I.Set<ChannelId>
  /** Channels whose updates the write in flight covers: acknowledged when it lands. */
  readonly acking: I.Set<ChannelId>
}

export interface RoomModel {
  readonly id: RoomId
  /** This repo's own membership, or null when it only relays the room. */
  readonly local: LocalMember | null
  /** The other members, reached through channels. */
  readonly members: I.Map<PeerId, MemberModel>
  /**
   * Members that left, with the last `seq` they used, so a late message from before the leave
   * (reordered or duplicated) does not bring them back. The oldest are forgotten past a bound.
   */
  readonly departed: I.OrderedMap<PeerId, SessionSeq>
  /** Channels whose far end joined here: the room's traffic goes to them. */
  readonly followers: I.Set<ChannelId>
  /** Channels this repo's own join went to: `joining` until their snapshot arrives. */
  readonly upstream: I.Map<ChannelId, "joining" | "joined">
  /** News from a channel whose snapshot has not arrived yet, applied right after it. */
  readonly held: I.List<HeldMessage>
  /** When the room last became empty (ms), or null while it has members. */
  readonly emptySince: number | null
}

export interface HeldMessage {
  readonly from: ChannelId
  readonly message: import("../peer-message.js").PeerMessage
}

export interface LocalMember {
  readonly joinedAt: number
  /** The `seq` of the last thing this repo said about its membership (join or presence). */
  readonly seq: number
  /** A presence change waits for the throttle window to end. */
  readonly presencePending: boolean
  /** When presence last went out (ms). */
  readonly presenceSentAt: number
  /** The whole member list has been known at least once (every peer there was answered). */
  readonly synced: boolean
  /** Broadcasts made while offline, sent once the room is joined again (oldest first). */
  readonly outbox: I.List<OutgoingBroadcast>
}

export interface OutgoingBroadcast {
  readonly event: string
  readonly payload: import("../types.js").Json
  readonly ack: number | null
}

export interface SessionSeq {
  readonly session: string
  readonly seq: number
}

export interface MemberModel {
  readonly peerId: PeerId
  readonly session: string
  /** The newest `seq` applied from this member: older news is dropped. */
  readonly seq: number
  readonly broadcastSeq: number
  readonly userId: string | undefined
  readonly identity: Identity
  readonly joinedAt: number
  /** The channel the member is reached through, and the peer at its far end. */
  readonly via: ChannelId
  readonly viaPeer: PeerId
  /** Its channel dropped: it stays listed until the grace period ends. */
  readonly disconnectedAt: number | null
}

export interface PendingAck {
  readonly roomId: RoomId
  readonly waiting: I.Set<ChannelId>
  readonly delivered: number
}

export interface RelayedAck extends PendingAck {
  /** The client that asked, and its request id. */
  readonly replyTo: ChannelId
  readonly ack: number
}

export const defaultProgramConfig: ProgramConfig = {
  saveDelay: 100,
  saveRetryDelay: 1000,
  evictAfter: 60_000,
  roomLinger: 30_000,
  reconnectGrace: 5_000,
  presenceThrottle: 50,
  maxMembersPerRoom: Number.POSITIVE_INFINITY,
  maxRoomsPerChannel: Number.POSITIVE_INFINITY,
  offlineBroadcasts: 100,
}

export function initialModel(options: {
  self: PeerInfo
  hasStorage: boolean
  durable?: boolean
  adapters: number
  config?: Partial<ProgramConfig>
}): Model {
  return {
    self: options.self,
    config: { ...defaultProgramConfig, ...options.config },
    hasStorage: options.hasStorage,
    durable: options.durable ?? false,
    hasNetwork: options.adapters > 0,
    adaptersStarting: options.adapters,
    channels: I.Map(),
    docs: I.Map(),
    deleted: I.Set(),
    rooms: I.Map(),
    roomClock: 0,
    acks: I.Map(),
    relayAcks: I.Map(),
    relayAckClock: 0,
  }
}

export function newDoc(id: DocId, hasStorage: boolean, wanted: boolean): DocModel {
  return {
    id,
    status: "loading",
    wanted,
    hasContent: false,
    storage: hasStorage ? "reading" : "empty",
    synced: I.Set(),
    awaiting: I.Set(),
    deferred: I.Map(),
    save: {
      dirty: false,
      scheduled: false,
      writing: false,
      compactNext: false,
      updateBytes: 0,
      snapshotBytes: 0,
      unacked: I.Set(),
      acking: I.Set(),
    },
    closing: false,
    evictScheduled: false,
  }
}
