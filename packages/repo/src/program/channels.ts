import * as I from "immutable"
import { type Hello, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../peer-message.js"
import type { ChannelId } from "../types.js"
import type { Command } from "./commands.js"
import { channelEstablished, channelGone } from "./docs.js"
import type { Model } from "./model.js"
import { roomsOnClosed, roomsOnEstablished } from "./rooms.js"
import { type Step, unchanged } from "./step.js"

// Channel lifecycle: a channel is *handshaking* until the far end's hello arrives, then
// *established*. Only established channels carry documents and rooms.

export function channelOpened(model: Model, channelId: ChannelId, relayLink = false): Step {
  const { self } = model
  const hello: Hello = {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    peerId: self.peerId,
    session: self.session,
    identity: self.identity,
    relay: self.relay,
  }
  const channels = model.channels.set(channelId, {
    id: channelId,
    peer: null,
    relayLink,
    docs: I.Set(),
    rooms: I.Set(),
  })
  return [{ ...model, channels }, [{ type: "send", to: [channelId], message: hello }]]
}

export function helloReceived(model: Model, channelId: ChannelId, hello: Hello): Step {
  const channel = model.channels.get(channelId)
  if (!channel) return unchanged(model)
  if (channel.peer) {
    // A repeat of the same hello (a duplicated message) is harmless; a different one is not.
    const same = channel.peer.peerId === hello.peerId && channel.peer.session === hello.session
    return same ? unchanged(model) : refuse(model, channelId, "INVALID_MESSAGE", "hello was already received")
  }
  if (hello.protocol < MIN_PROTOCOL_VERSION || hello.protocol > PROTOCOL_VERSION) {
    return refuse(
      model,
      channelId,
      "UNSUPPORTED_PROTOCOL",
      `protocol ${hello.protocol} is not supported (this peer speaks ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION})`,
    )
  }
  const peer = {
    peerId: hello.peerId,
    session: hello.session,
    identity: hello.identity,
    relay: hello.relay,
  }
  const next = { ...model, channels: model.channels.set(channelId, { ...channel, peer }) }
  const [synced, requests] = channelEstablished(next, channelId)
  const [joined, joins] = roomsOnEstablished(synced, channelId)
  return [
    joined,
    [{ type: "emit", event: { type: "peer-connected", channelId, peer } }, ...requests, ...joins],
  ]
}

/** The adapter lost messages on an established channel: documents and rooms in use sync again. */
export function channelResync(model: Model, channelId: ChannelId): Step {
  if (!model.channels.get(channelId)?.peer) return unchanged(model)
  const [synced, requests] = channelEstablished(model, channelId)
  const [joined, joins] = roomsOnEstablished(synced, channelId)
  return [joined, [...requests, ...joins]]
}

export function channelClosed(model: Model, channelId: ChannelId, clean: boolean, now: number): Step {
  const channel = model.channels.get(channelId)
  if (!channel) return unchanged(model)
  const next = { ...model, channels: model.channels.remove(channelId) }
  const commands: Command[] = []
  if (channel.peer) {
    commands.push({ type: "emit", event: { type: "peer-disconnected", channelId, peer: channel.peer } })
  }
  const [settled, events] = channelGone(next, channelId, channel.docs)
  const [left, leaves] = roomsOnClosed(settled, channel, clean, now)
  return [left, [...commands, ...events, ...leaves]]
}

/** Tells the far end what was wrong and closes the channel. */
export function refuse(
  model: Model,
  channelId: ChannelId,
  code: "INVALID_MESSAGE" | "UNSUPPORTED_PROTOCOL",
  message: string,
): Step {
  return [
    model,
    [
      { type: "send", to: [channelId], message: { type: "error", code, message } },
      { type: "close", channelId, code, reason: message },
    ],
  ]
}
