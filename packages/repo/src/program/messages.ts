import type { ErrorCode } from "../errors.js"
import type { PeerMessage } from "../peer-message.js"
import type { ChannelId, DocId, Json, PeerId, RoomId } from "../types.js"

/**
 * Every message the synchronizer handles, in one place. The runtime turns what happens (an API
 * call, a frame from a peer, a storage result, a timer) into one of these; `update` answers
 * with a new model and the commands to run.
 */
export type Msg = AppMsg | NetworkMsg | StorageMsg | DocStoreMsg | TimerMsg

/** From the application, through `Repo`, `DocHandle` and `Room`. */
export type AppMsg =
  | { type: "doc/open"; docId: DocId }
  | { type: "doc/delete"; docId: DocId }
  /** The application is done with the document: write it, unsubscribe, free it. */
  | { type: "doc/close"; docId: DocId }
  /** A local commit: Loro update bytes of that commit only. */
  | { type: "doc/local-change"; docId: DocId; data: Uint8Array }
  /** Write every pending change now. */
  | { type: "repo/flush" }
  | { type: "room/join"; roomId: RoomId; now: number }
  | { type: "room/leave"; roomId: RoomId; now: number }
  /** The application changed this repo's presence in a room (the runtime holds the value). */
  | { type: "room/presence-changed"; roomId: RoomId; now: number }
  | {
      type: "room/broadcast"
      roomId: RoomId
      event: string
      payload: Json
      /** A request id when the caller waits for a delivery count. */
      ack: number | null
    }
  /** A relay speaks to a room as itself (a server announcement): it is no member of the room. */
  | { type: "room/relay-broadcast"; roomId: RoomId; event: string; payload: Json }

/** From network adapters. */
export type NetworkMsg =
  /** An adapter finished its first attempt to reach its peers. */
  | { type: "net/adapter-started" }
  | { type: "conn/opened"; channelId: ChannelId; relayLink?: boolean }
  | { type: "conn/closed"; channelId: ChannelId; clean: boolean; now: number }
  /** Messages on the channel may have been lost: sync what is in use on it again. */
  | { type: "conn/resync"; channelId: ChannelId }
  | { type: "conn/received"; channelId: ChannelId; message: PeerMessage; now: number }

/** Results of storage commands. */
export type StorageMsg =
  | {
      type: "storage/loaded"
      docId: DocId
      found: boolean
      snapshotBytes: number
      updateBytes: number
      /** The document already held changes from elsewhere when storage answered. */
      mergedUnsaved: boolean
    }
  | { type: "storage/saved"; docId: DocId; compacted: boolean; bytes: number }
  | { type: "storage/failed"; docId: DocId; operation: "load" | "save" | "remove"; error: string }

/** Results of the runtime importing bytes into a document. */
export type DocStoreMsg = {
  type: "doc/imported"
  docId: DocId
  from: ChannelId
  /** Something new was applied. */
  applied: boolean
  /** Some of it waits for changes this repo has not seen: the sender knows them. */
  pending: boolean
  /** The bytes were not a valid Loro update. */
  invalid: boolean
}

/** Timers the program scheduled, stamped with the time they fired. */
export type TimerMsg =
  | { type: "timer/save"; docId: DocId }
  | { type: "timer/evict"; docId: DocId }
  | { type: "timer/presence"; roomId: RoomId; now: number }
  | { type: "timer/member-grace"; roomId: RoomId; peerId: PeerId; now: number }
  | { type: "timer/room-linger"; roomId: RoomId; now: number }

/** An error to tell the application about (and, for the far end's errors, which request). */
export interface ReportedError {
  code: ErrorCode
  message: string
  channelId?: ChannelId
  docId?: DocId
  roomId?: RoomId
  ref?: number
}
