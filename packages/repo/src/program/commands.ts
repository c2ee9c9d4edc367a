import type { ErrorCode } from "../errors.js"
import type { PeerMessage } from "../peer-message.js"
import type { ChannelId, DocId, Identity, Json, PeerId, PeerInfo, RoomId } from "../types.js"
import type { Msg, ReportedError } from "./messages.js"
import type { DocStatus } from "./model.js"

/** What the program asks the runtime to do. Plain data: tests compare them with `toEqual`. */
export type Command =
  | { type: "send"; to: readonly ChannelId[]; message: PeerMessage }
  | { type: "close"; channelId: ChannelId; code: ErrorCode; reason: string }
  /** Ask for the document, stating this repo's version. */
  | { type: "request-sync"; to: readonly ChannelId[]; docId: DocId }
  /** Answer a request: a snapshot if they have nothing, else what they lack, and our version. */
  | { type: "answer-sync"; to: ChannelId; docId: DocId; theirVersion: Uint8Array; ref: number | undefined }
  /** Send what the far end lacks, if anything, as a live update. */
  | { type: "send-missing"; to: ChannelId; docId: DocId; theirVersion: Uint8Array | null }
  /** Import bytes; if they brought something new, pass it on to `relayTo`. */
  | { type: "import"; docId: DocId; data: Uint8Array; from: ChannelId; relayTo: readonly ChannelId[] }
  | { type: "load"; docId: DocId }
  | { type: "save"; docId: DocId; compact: boolean }
  | { type: "remove-stored"; docId: DocId }
  /** Append an update to storage without loading the document (a relay keeping what others relayed). */
  | { type: "store-update"; docId: DocId; data: Uint8Array }
  /** Tell these channels the document is written up to the version storage holds. */
  | { type: "send-ack"; docId: DocId; to: readonly ChannelId[] }
  /** A durable peer wrote the document up to `version`. */
  | { type: "record-ack"; docId: DocId; version: Uint8Array }
  /** Forget the Loro document: it was deleted. */
  | { type: "drop-doc"; docId: DocId }
  | { type: "schedule"; id: string; delay: number; message: Msg }
  | { type: "cancel"; id: string }
  | { type: "emit"; event: RepoEvent }
  /** Presence values live in the runtime: one Loro EphemeralStore per room. */
  | { type: "presence/set"; roomId: RoomId; peerId: PeerId; presence: Json; announce: boolean }
  | { type: "presence/delete"; roomId: RoomId; peerId: PeerId }
  /** Sends this repo's presence (read from the store) as `room-presence`. */
  | { type: "presence/send"; roomId: RoomId; to: readonly ChannelId[]; seq: number }
  /** Sends this repo's `room-join` with its presence. */
  | { type: "room/send-join"; roomId: RoomId; to: readonly ChannelId[]; seq: number }
  /** Answers a join with these members, each with its presence from the store. */
  | {
      type: "room/send-snapshot"
      roomId: RoomId
      to: ChannelId
      members: readonly MemberRecord[]
      ref: number | undefined
    }
  /** Frees the room's presence store: the room was destroyed. */
  | { type: "room/free"; roomId: RoomId }

/** What the application hears, through `Repo`, handles and rooms. */
export type RepoEvent =
  | { type: "doc-created"; docId: DocId }
  | { type: "doc-deleted"; docId: DocId; remote: boolean }
  /** Left memory, idle (storage keeps it). */
  | { type: "doc-evicted"; docId: DocId }
  | { type: "doc-status"; docId: DocId; status: DocStatus }
  | { type: "peer-connected"; channelId: ChannelId; peer: PeerInfo }
  | { type: "peer-disconnected"; channelId: ChannelId; peer: PeerInfo }
  | { type: "error"; error: ReportedError }
  /** From the runtime: a durable peer acknowledged more of the document. */
  | { type: "doc-acked"; docId: DocId }
  | { type: "room-created"; roomId: RoomId }
  | { type: "room-destroyed"; roomId: RoomId }
  | { type: "room-member-joined"; roomId: RoomId; member: MemberRecord }
  | { type: "room-member-left"; roomId: RoomId; member: MemberRecord }
  /** Every channel this repo joined through answered: the member list is whole. */
  | { type: "room-synced"; roomId: RoomId }
  | { type: "room-broadcast"; roomId: RoomId; from: PeerId; event: string; payload: Json }
  | { type: "room-broadcast-ack"; roomId: RoomId; ack: number; delivered: number }
  /** The offline buffer was full: its oldest broadcast was dropped, unsent. */
  | { type: "room-broadcast-dropped"; roomId: RoomId; event: string }
  /** From the runtime, not the program: a `presence/set` that announces a changed value. */
  | { type: "room-member-updated"; roomId: RoomId; peerId: PeerId; previous: Json | undefined; current: Json }

/** A member as the program knows it: everything but its presence, which the runtime holds. */
export interface MemberRecord {
  peerId: PeerId
  session: string
  seq: number
  userId: string | undefined
  identity: Identity
  joinedAt: number
}
