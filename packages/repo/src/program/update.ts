import type { PeerMessage } from "../peer-message.js"
import type { ChannelId } from "../types.js"
import { channelClosed, channelOpened, channelResync, helloReceived, refuse } from "./channels.js"
import * as docs from "./docs.js"
import * as lifecycle from "./lifecycle.js"
import type { Msg } from "./messages.js"
import type { Model } from "./model.js"
import * as rooms from "./rooms.js"
import * as saving from "./saving.js"
import { type Step, unchanged } from "./step.js"

/**
 * The synchronizer: what happens with each message. Pure: no I/O, no clock, no Loro calls.
 * Time and results arrive as messages; effects leave as commands.
 */
export function update(msg: Msg, model: Model): Step {
  switch (msg.type) {
    case "doc/open":
      return docs.openDoc(model, msg)
    case "doc/delete":
      return docs.deleteDoc(model, msg)
    case "doc/close":
      return lifecycle.closeDoc(model, msg)
    case "doc/local-change":
      return docs.localChange(model, msg)
    case "doc/imported":
      return docs.imported(model, msg)
    case "repo/flush":
      return saving.flush(model)
    case "storage/loaded":
      return docs.storageLoaded(model, msg)
    case "storage/saved": {
      const [saved, commands] = saving.storageSaved(model, msg)
      const [settled, more] = lifecycle.afterWrite(saved, msg.docId)
      return [settled, [...commands, ...more]]
    }
    case "storage/failed":
      return docs.storageFailed(model, msg)
    case "timer/save":
      return saving.saveDue(model, msg)
    case "timer/evict":
      return lifecycle.evictDue(model, msg)
    case "room/join":
      return rooms.joinRoom(model, msg)
    case "room/leave":
      return rooms.leaveRoom(model, msg)
    case "room/presence-changed":
      return rooms.presenceChanged(model, msg)
    case "room/broadcast":
      return rooms.broadcast(model, msg)
    case "room/relay-broadcast":
      return rooms.relayBroadcast(model, msg)
    case "timer/presence":
      return rooms.presenceDue(model, msg)
    case "timer/member-grace":
      return rooms.graceEnded(model, msg)
    case "timer/room-linger":
      return rooms.lingerEnded(model, msg)
    case "net/adapter-started": {
      const [started, settled] = docs.adapterStarted(model)
      const [synced, syncs] = rooms.roomsSettled(started)
      return [synced, [...settled, ...syncs]]
    }
    case "conn/opened":
      return channelOpened(model, msg.channelId, msg.relayLink)
    case "conn/closed":
      return channelClosed(model, msg.channelId, msg.clean, msg.now)
    case "conn/resync":
      return channelResync(model, msg.channelId)
    case "conn/received":
      return received(model, msg.channelId, msg.message, msg.now)
  }
}

/** A message from the peer at the far end of `from`. */
function received(model: Model, from: ChannelId, message: PeerMessage, now: number): Step {
  const channel = model.channels.get(from)
  if (!channel) return unchanged(model)
  // Credentials are the network adapters' business: they never reach the program.
  if (message.type === "auth" || message.type === "auth-ok") return unchanged(model)
  if (message.type === "hello") return helloReceived(model, from, message)
  if (channel.peer === null) return refuse(model, from, "INVALID_MESSAGE", "expected hello first")

  switch (message.type) {
    case "ping":
      return [model, [{ type: "send", to: [from], message: { type: "pong" } }]]
    case "pong":
      return unchanged(model)
    case "sync-request":
      return docs.syncRequested(model, from, message)
    case "sync-response":
      return docs.syncAnswered(model, from, message)
    case "doc-unavailable":
      return docs.docUnavailable(model, from, message.docId)
    case "doc-update":
      return docs.updateReceived(model, from, message)
    case "doc-delete":
      return docs.deleteReceived(model, from, message)
    case "doc-ack":
      return [model, [{ type: "record-ack", docId: message.docId, version: message.version }]]
    case "doc-close":
      return lifecycle.closeReceived(model, from, message)
    case "room-join":
      return rooms.joinReceived(model, from, message, now)
    case "room-snapshot":
      return rooms.snapshotReceived(model, from, message, now)
    case "room-member-joined":
    case "room-presence":
    case "room-leave":
    case "room-broadcast":
      return rooms.roomMessage(model, from, message, now)
    case "room-broadcast-ack":
      return rooms.ackReceived(model, from, message)
    case "error": {
      // A refused broadcast counts as delivered to no one, so its sender stops waiting.
      const [settled, acked] =
        message.ref !== undefined && model.acks.has(message.ref)
          ? rooms.ackReceived(model, from, { type: "room-broadcast-ack", ack: message.ref, delivered: 0 })
          : [model, []]
      return [
        settled,
        [
          ...acked,
          {
            type: "emit",
            event: {
              type: "error",
              error: {
                code: message.code,
                message: message.message,
                channelId: from,
                ...(message.docId !== undefined && { docId: message.docId }),
                ...(message.roomId !== undefined && { roomId: message.roomId }),
                ...(message.ref !== undefined && { ref: message.ref }),
              },
            },
          },
        ],
      ]
    }
  }
}
