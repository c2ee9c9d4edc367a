import type { ErrorCode } from "./errors.js"
import type { DocId, Identity, Json, PeerId, RoomId } from "./types.js"

/**
 * The messages two repos exchange over a channel. Network adapters carry these; the wire
 * protocol encodes them into frames. Loro payloads are raw bytes. Nothing here is trusted
 * when it arrives from a network: `validatePeerMessage` checks shapes at the edge.
 */
export type PeerMessage =
  | Hello
  | Auth
  | AuthOk
  | Ping
  | Pong
  | SyncRequest
  | SyncResponse
  | DocUnavailable
  | DocUpdate
  | DocDelete
  | DocAck
  | DocClose
  | RoomJoin
  | RoomSnapshot
  | RoomMemberJoined
  | RoomPresence
  | RoomLeave
  | RoomBroadcast
  | RoomBroadcastAck
  | PeerError

/** The protocol this code speaks. Peers accept this version and the one before it. */
export const PROTOCOL_VERSION = 1
export const MIN_PROTOCOL_VERSION = 1

/** The first message on every channel, sent by both sides. */
export interface Hello {
  type: "hello"
  protocol: number
  peerId: PeerId
  session: string
  identity: Identity
  relay: boolean
}

/**
 * Credentials for a relay that authenticates (a JWT, or whatever its `authenticate` hook takes):
 * the first message on a channel, and again over the open channel to refresh them. The network
 * adapters handle it; the repo never sees it.
 */
export interface Auth {
  type: "auth"
  token: string
}

/** The relay accepted the credentials; send fresh ones before `expiresIn` ms have passed. */
export interface AuthOk {
  type: "auth-ok"
  userId?: string
  expiresIn?: number
}

export interface Ping {
  type: "ping"
}
export interface Pong {
  type: "pong"
}

/**
 * Replies echo the request's `id` as `ref`, and so do errors about a request: a peer can match
 * every answer to its question.
 */

/** "Send me what I lack of this document, and keep me posted." `version` is an encoded version vector. */
export interface SyncRequest {
  type: "sync-request"
  docId: DocId
  version: Uint8Array
  id?: number
}

/** The answer: what the requester lacked (the whole history as one update when it had nothing), and the responder's version. */
export interface SyncResponse {
  type: "sync-response"
  docId: DocId
  version: Uint8Array
  data: Uint8Array
  ref?: number
}

/** The responder has nothing of this document (it checked its storage first). */
export interface DocUnavailable {
  type: "doc-unavailable"
  docId: DocId
  ref?: number
}

/** A live update: Loro update bytes. */
export interface DocUpdate {
  type: "doc-update"
  docId: DocId
  data: Uint8Array
}

export interface DocDelete {
  type: "doc-delete"
  docId: DocId
}

/**
 * A peer with durable storage has written the document up to `version` (an encoded version
 * vector): the updates it covers survive a crash of that peer.
 */
export interface DocAck {
  type: "doc-ack"
  docId: DocId
  version: Uint8Array
}

/** The sender closed the document: stop sending it updates on this channel. */
export interface DocClose {
  type: "doc-close"
  docId: DocId
}

/**
 * A member as peers see it. `session` and `seq` order everything a member says: a message
 * about a member is applied only if it is newer than what the receiver has.
 */
export interface MemberState {
  peerId: PeerId
  session: string
  seq: number
  userId?: string
  identity: Identity
  joinedAt: number
  presence: Json
}

/** The sender joins a room and asks for its members. Answered by `room-snapshot`. */
export interface RoomJoin {
  type: "room-join"
  roomId: RoomId
  session: string
  seq: number
  presence: Json
  id?: number
}

/** The members the responder knows (for a relay: all of them), the joiner included. */
export interface RoomSnapshot {
  type: "room-snapshot"
  roomId: RoomId
  members: MemberState[]
  ref?: number
}

/** A relay announces a member that joined through another channel. */
export interface RoomMemberJoined {
  type: "room-member-joined"
  roomId: RoomId
  member: MemberState
}

/** A member's whole presence entry: the only entry that changed. */
export interface RoomPresence {
  type: "room-presence"
  roomId: RoomId
  peerId: PeerId
  session: string
  seq: number
  presence: Json
}

/** A member left: sent by the member itself, or by a relay when the member's channel went away. */
export interface RoomLeave {
  type: "room-leave"
  roomId: RoomId
  peerId: PeerId
  session: string
  seq: number
}

/** A short ephemeral message to a room. `ack` is a request id when the sender wants a delivery count. */
export interface RoomBroadcast {
  type: "room-broadcast"
  roomId: RoomId
  from: PeerId
  session: string
  seq: number
  event: string
  payload: Json
  ack?: number
}

export interface RoomBroadcastAck {
  type: "room-broadcast-ack"
  ack: number
  delivered: number
}

/** An error the far end reports about something this side sent. `ref` names the request. */
export interface PeerError {
  type: "error"
  code: ErrorCode
  message: string
  ref?: number
  docId?: DocId
  roomId?: RoomId
}
