import type { Msg } from "../program/messages.js"
import type { Model } from "../program/model.js"
import type { PresenceStore } from "../runtime/presence-store.js"
import type { Identity, Json, PeerId, RoomId } from "../types.js"

/** What a `Room` needs from its repo. */
export interface RoomHost {
  readonly peerId: PeerId
  readonly identity: Identity
  readonly presence: PresenceStore
  model(): Model
  now(): number
  dispatch(msg: Msg): void
  /** Throws `PRESENCE_TOO_LARGE` (or `INVALID_MESSAGE` for a value that is not JSON). */
  checkPresence(presence: Json): void
  /** Throws `MESSAGE_TOO_LARGE` (or `INVALID_MESSAGE`). */
  checkBroadcast(payload: Json): void
  broadcastWithAck(roomId: RoomId, event: string, payload: Json): Promise<number>
}
