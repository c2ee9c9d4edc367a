import * as I from "immutable"
import type {
  MemberState,
  RoomBroadcast,
  RoomBroadcastAck,
  RoomJoin,
  RoomLeave,
  RoomMemberJoined,
  RoomPresence,
  RoomSnapshot,
} from "../peer-message.js"
import type { ChannelId, PeerId, PeerInfo, RoomId } from "../types.js"
import type { Command, MemberRecord } from "./commands.js"
import { isRelayLink, relayLinks } from "./doc-state.js"
import type { Msg } from "./messages.js"
import type {
  ChannelModel,
  LocalMember,
  MemberModel,
  Model,
  OutgoingBroadcast,
  RelayedAck,
  RoomModel,
  SessionSeq,
} from "./model.js"
import { type Step, unchanged } from "./step.js"

// The room half of the synchronizer. Each member speaks only for itself and numbers what it says
// (`session`, `seq`): a receiver applies a message about a member only if it is newer than what
// it has, so duplicates and stragglers do no harm. A relay passes room traffic on to the other
// channels that follow the room; other peers never forward.
//
// Relay links (other instances of one relay service) follow a room on each other while they have
// clients in it: a `room-join` over a link means "send me this room's traffic", never a member.
// Each instance speaks only for its own clients; what came over a link goes only to clients.

type Msgs<T extends Msg["type"]> = Extract<Msg, { type: T }>

/** How many departed members a room remembers (to reject their stragglers). */
const DEPARTED_LIMIT = 1000

// --- from the application ---

export function joinRoom(model: Model, msg: Msgs<"room/join">): Step {
  const out: Command[] = []
  const existing = model.rooms.get(msg.roomId)
  if (existing?.local) return unchanged(model)
  const seq = model.roomClock + 1
  let room = existing ?? newRoom(msg.roomId, out)
  const to = establishedChannels(model)
  room = {
    ...room,
    local: {
      joinedAt: msg.now,
      seq,
      presencePending: false,
      presenceSentAt: msg.now,
      synced: false,
      outbox: I.List(),
    },
    upstream: I.Map(to.map((id) => [id, "joining" as const])),
  }
  if (to.length > 0) out.push({ type: "room/send-join", roomId: room.id, to, seq })
  const next = withRoomOnChannels({ ...model, roomClock: seq }, room.id, to)
  return [putRoom(next, syncIfWhole(next, settle(room, msg.now, next, out), out, false)), out]
}

export function leaveRoom(model: Model, msg: Msgs<"room/leave">): Step {
  const room = model.rooms.get(msg.roomId)
  if (!room?.local) return unchanged(model)
  const out: Command[] = []
  const seq = model.roomClock + 1
  const { self } = model
  const to = audience(model, room)
  if (to.length > 0) {
    out.push({
      type: "send",
      to,
      message: { type: "room-leave", roomId: room.id, peerId: self.peerId, session: self.session, seq },
    })
  }
  if (room.local.presencePending) out.push({ type: "cancel", id: presenceTimer(room.id) })
  out.push({ type: "presence/delete", roomId: room.id, peerId: self.peerId })
  let next: RoomModel = { ...room, local: null, upstream: I.Map(), held: I.List() }
  if (!model.self.relay) {
    // Without its own membership a peer that does not relay has no reason to track the room.
    for (const member of next.members.values()) out.push(deletePresence(room.id, member.peerId))
    for (const member of next.members.values()) {
      if (member.disconnectedAt !== null) out.push({ type: "cancel", id: graceTimer(room.id, member.peerId) })
    }
    next = { ...next, members: I.Map(), followers: I.Set() }
  }
  const base = { ...model, roomClock: seq }
  return [putRoom(base, settle(next, msg.now, base, out)), out]
}

export function presenceChanged(model: Model, msg: Msgs<"room/presence-changed">): Step {
  const room = model.rooms.get(msg.roomId)
  if (!room?.local || room.local.presencePending) return unchanged(model)
  const wait = room.local.presenceSentAt + model.config.presenceThrottle - msg.now
  if (wait <= 0) return sendPresence(model, room, msg.now)
  const out: Command[] = [
    {
      type: "schedule",
      id: presenceTimer(room.id),
      delay: wait,
      message: { type: "timer/presence", roomId: room.id, now: 0 },
    },
  ]
  return [putRoom(model, { ...room, local: { ...room.local, presencePending: true } }), out]
}

export function presenceDue(model: Model, msg: Msgs<"timer/presence">): Step {
  const room = model.rooms.get(msg.roomId)
  if (!room?.local) return unchanged(model)
  return sendPresence(model, room, msg.now)
}

export function broadcast(model: Model, msg: Msgs<"room/broadcast">): Step {
  const room = model.rooms.get(msg.roomId)
  if (!room?.local) {
    if (msg.ack === null) return unchanged(model)
    return [model, [ackEvent(msg.roomId, msg.ack, 0)]]
  }
  const to = audience(model, room)
  const outgoing = { event: msg.event, payload: msg.payload, ack: msg.ack }
  if (to.length === 0 && model.hasNetwork) return holdBroadcast(model, room, outgoing)
  return sendBroadcasts(model, room, [outgoing], to)
}

/** A relay's own announcement to a room: it goes to every member, from the relay itself. */
export function relayBroadcast(model: Model, msg: Msgs<"room/relay-broadcast">): Step {
  const room = model.rooms.get(msg.roomId)
  if (!room || !model.self.relay) return unchanged(model)
  const to = forwardTargets(model, room, null)
  const seq = model.roomClock + 1
  const { self } = model
  const message = {
    type: "room-broadcast" as const,
    roomId: room.id,
    from: self.peerId,
    session: self.session,
    seq,
    event: msg.event,
    payload: msg.payload,
  }
  return [{ ...model, roomClock: seq }, to.length > 0 ? [{ type: "send", to, message }] : []]
}

/** Offline: the broadcast waits for the room to be joined again, in a bounded outbox. */
function holdBroadcast(model: Model, room: RoomModel, outgoing: OutgoingBroadcast): Step {
  const local = room.local as LocalMember
  const out: Command[] = []
  let outbox = local.outbox.push(outgoing)
  while (outbox.size > model.config.offlineBroadcasts) {
    const dropped = outbox.first() as OutgoingBroadcast
    outbox = outbox.shift()
    out.push({
      type: "emit",
      event: { type: "room-broadcast-dropped", roomId: room.id, event: dropped.event },
    })
    if (dropped.ack !== null) out.push(ackEvent(room.id, dropped.ack, 0))
  }
  return [putRoom(model, { ...room, local: { ...local, outbox } }), out]
}

function sendBroadcasts(
  model: Model,
  room: RoomModel,
  broadcasts: Iterable<OutgoingBroadcast>,
  to: ChannelId[],
): Step {
  const { self } = model
  const out: Command[] = []
  let next = model
  for (const { event, payload, ack } of broadcasts) {
    const seq = next.roomClock + 1
    next = { ...next, roomClock: seq }
    if (to.length > 0) {
      const message = {
        type: "room-broadcast" as const,
        roomId: room.id,
        from: self.peerId,
        session: self.session,
      }
      out.push({
        type: "send",
        to,
        message: { ...message, seq, event, payload, ...(ack !== null && { ack }) },
      })
    }
    if (ack === null) continue
    if (to.length === 0) out.push(ackEvent(room.id, ack, 0))
    else next = { ...next, acks: next.acks.set(ack, { roomId: room.id, waiting: I.Set(to), delivered: 0 }) }
  }
  return [next, out]
}

// --- from peers ---

/** A relay speaking to the room as itself: no member entry, so no `seq` to order it by. */
function relayAnnouncementReceived(model: Model, room: RoomModel, from: ChannelId, msg: RoomBroadcast): Step {
  const out: Command[] = []
  if (room.local) {
    out.push(broadcastEvent(room.id, msg))
  }
  const targets = forwardTargets(model, room, from)
  if (targets.length > 0) out.push({ type: "send", to: targets, message: msg })
  return [model, out]
}

export function joinReceived(model: Model, from: ChannelId, msg: RoomJoin, now: number): Step {
  const peer = peerOf(model, from)
  if (!peer) return unchanged(model)
  if (isRelayLink(model, from)) return linkFollows(model, from, msg, now)
  const existing = model.rooms.get(msg.roomId)
  // A peer that neither relays nor is a member answers with no one, and forgets the joiner.
  if (!model.self.relay && !existing?.local) {
    return [model, [{ type: "room/send-snapshot", roomId: msg.roomId, to: from, members: [], ref: msg.id }]]
  }
  const refusal = refuseJoin(model, existing, from, peer.peerId)
  if (refusal) {
    const { code, message } = refusal
    const error = {
      type: "error" as const,
      code,
      message,
      roomId: msg.roomId,
      ...(msg.id !== undefined && { ref: msg.id }),
    }
    return [model, [{ type: "send", to: [from], message: error }]]
  }
  const out: Command[] = []
  let room = existing ?? newRoom(msg.roomId, out)
  const [clocked, follow] = followOnLinks(model, room, from)
  out.push(...follow)
  const state: MemberState = {
    peerId: peer.peerId,
    session: msg.session,
    seq: msg.seq,
    ...(peer.identity.userId !== undefined && { userId: peer.identity.userId }),
    identity: peer.identity,
    joinedAt: now,
    presence: msg.presence,
  }
  room = { ...room, followers: room.followers.add(from) }
  const before = room.members.get(peer.peerId)
  room = applyMember(room, state, from, peer.peerId, out)
  const member = room.members.get(peer.peerId)
  if (member && member !== before) {
    const targets = forwardTargets(model, room, from)
    if (targets.length > 0) {
      // A new session of a known member (a reloaded tab) travels as a member, not as presence:
      // the others must adopt its session, or they would drop everything it says from now on.
      // So does a member that moved here (from another channel or instance): every instance
      // learns where it is now reached.
      out.push(
        before && before.session === member.session && before.via === from
          ? {
              type: "send",
              to: targets,
              message: {
                type: "room-presence",
                roomId: room.id,
                peerId: member.peerId,
                session: member.session,
                seq: member.seq,
                presence: msg.presence,
              },
            }
          : {
              type: "send",
              to: targets,
              message: {
                type: "room-member-joined",
                roomId: room.id,
                member: { ...state, joinedAt: member.joinedAt },
              },
            },
      )
    }
  }
  out.push({
    type: "room/send-snapshot",
    roomId: room.id,
    to: from,
    members: snapshotOf(model, room),
    ref: msg.id,
  })
  const next = withRoomOnChannels(clocked, room.id, [from, ...relayLinksOf(follow)])
  return [putRoom(next, settle(room, now, next, out)), out]
}

/** Another instance follows the room: it gets this instance's members now and its traffic from now on. */
function linkFollows(model: Model, from: ChannelId, msg: RoomJoin, now: number): Step {
  const out: Command[] = []
  let room = model.rooms.get(msg.roomId) ?? newRoom(msg.roomId, out)
  let base = model
  if (!room.followers.has(from) && room.followers.some((id) => !isRelayLink(model, id))) {
    // A new follower may have forgotten this instance's own following (it destroyed the room
    // meanwhile): follow it back. A follower already known is not answered, so this ends.
    const seq = model.roomClock + 1
    base = { ...model, roomClock: seq }
    out.push({ type: "room/send-join", roomId: room.id, to: [from], seq })
  }
  room = { ...room, followers: room.followers.add(from) }
  const members = [...room.members.values()].filter((member) => !isRelayLink(model, member.via)).map(record)
  out.push({ type: "room/send-snapshot", roomId: room.id, to: from, members, ref: msg.id })
  const next = withRoomOnChannels(base, room.id, [from])
  return [putRoom(next, settle(room, now, next, out)), out]
}

/**
 * A relay's first client in a room (or a new link, for rooms with clients): follow the room on
 * the relay links, so the other instances send its traffic here.
 */
function followOnLinks(model: Model, room: RoomModel, client: ChannelId | null): [Model, Command[]] {
  const hasClients = room.followers.some((id) => !isRelayLink(model, id))
  const links = relayLinks(model)
  if (hasClients || links.length === 0 || (client !== null && room.followers.has(client))) return [model, []]
  const seq = model.roomClock + 1
  return [{ ...model, roomClock: seq }, [{ type: "room/send-join", roomId: room.id, to: links, seq }]]
}

function relayLinksOf(commands: readonly Command[]): ChannelId[] {
  return commands.flatMap((command) => (command.type === "room/send-join" ? command.to : []))
}

export function snapshotReceived(model: Model, from: ChannelId, msg: RoomSnapshot, now: number): Step {
  const peer = peerOf(model, from)
  const room = model.rooms.get(msg.roomId)
  if (peer && room && isRelayLink(model, from)) return linkSnapshotReceived(model, from, peer, room, msg, now)
  if (peer && !room?.local && listsSelf(model, msg)) return leaveAgain(model, from, msg.roomId)
  if (!peer || !room?.local || !room.upstream.has(from)) return unchanged(model)
  const out: Command[] = []
  const { self } = model
  let next = room
  let local = room.local
  const listed = new Set<PeerId>()
  for (const state of msg.members) {
    if (state.peerId === self.peerId) {
      if (state.session === self.session) local = { ...local, joinedAt: state.joinedAt }
      continue
    }
    // A peer that does not relay may only speak for itself.
    if (!peer.relay && state.peerId !== peer.peerId) continue
    listed.add(state.peerId)
    next = applyMember(next, state, from, peer.peerId, out)
  }
  // Whoever this channel's far end no longer lists has left while we were not looking. Not the far
  // end itself if it joined here: its own join and leave speak for it, and this snapshot may be an
  // answer it gave before joining that its join overtook (a reordered link).
  const joinedHere = next.followers.has(from)
  for (const member of next.members.values()) {
    if (joinedHere && member.peerId === peer.peerId) continue
    if (member.viaPeer === peer.peerId && !listed.has(member.peerId)) {
      next = removeMember(next, member.peerId, out)
    }
  }
  // Only a relay, or a far end that is itself in the room, needs this repo's traffic.
  const wanted = peer.relay || listed.has(peer.peerId)
  const upstream = wanted ? next.upstream.set(from, "joined") : next.upstream.remove(from)
  const held = next.held.filter((entry) => entry.from === from)
  next = {
    ...next,
    local: { ...local, outbox: I.List() },
    upstream,
    held: next.held.filter((entry) => entry.from !== from),
  }
  let result: Model = putRoom(model, syncIfWhole(model, settle(next, now, model, out), out, true))
  // Broadcasts held while offline go out now that the room is joined again.
  if (local.outbox.size > 0) {
    const [sent, sends] = sendBroadcasts(result, next, local.outbox, audience(result, next))
    result = sent
    out.push(...sends)
  }
  // News that arrived before the snapshot applies now, in order; stale parts drop out by `seq`.
  for (const entry of held) {
    const [after, more] = roomMessage(result, entry.from, entry.message as RoomNews, now)
    result = after
    out.push(...more)
  }
  return [result, out]
}

/**
 * The far end lists this repo in a room it left: the join reached it after the leave that overtook
 * it on the way (a reordered link), and it had no room to remember that leave in. It hears it again.
 */
function leaveAgain(model: Model, to: ChannelId, roomId: RoomId): Step {
  const seq = model.roomClock + 1
  const { self } = model
  const message = { type: "room-leave" as const, roomId, peerId: self.peerId, session: self.session, seq }
  return [{ ...model, roomClock: seq }, [{ type: "send", to: [to], message }]]
}

function listsSelf(model: Model, msg: RoomSnapshot): boolean {
  const { self } = model
  return msg.members.some((state) => state.peerId === self.peerId && state.session === self.session)
}

/**
 * The members another instance has: taken as news, passed on to this instance's clients; its
 * members that it no longer lists left while this instance was not following.
 */
function linkSnapshotReceived(
  model: Model,
  from: ChannelId,
  peer: PeerInfo,
  room: RoomModel,
  msg: RoomSnapshot,
  now: number,
): Step {
  const out: Command[] = []
  const targets = forwardTargets(model, room, from)
  const listed = new Set<PeerId>()
  let next = room
  for (const state of msg.members) {
    if (state.peerId === model.self.peerId) continue
    listed.add(state.peerId)
    const before = next.members.get(state.peerId)
    next = applyMember(next, state, from, peer.peerId, out)
    const after = next.members.get(state.peerId)
    if (after && after !== before && targets.length > 0) {
      out.push({
        type: "send",
        to: targets,
        message: { type: "room-member-joined", roomId: room.id, member: state },
      })
    }
  }
  for (const member of next.members.values()) {
    if (member.viaPeer !== peer.peerId || listed.has(member.peerId)) continue
    next = removeMember(next, member.peerId, out)
    if (targets.length > 0) out.push(leaveMessage(targets, room.id, member))
  }
  return [putRoom(model, settle(next, now, model, out)), out]
}

/** Room news (as opposed to joins and snapshots): held back while a snapshot is awaited. */
export type RoomNews = RoomMemberJoined | RoomPresence | RoomLeave | RoomBroadcast

export function roomMessage(model: Model, from: ChannelId, msg: RoomNews, now: number): Step {
  const room = model.rooms.get(msg.roomId)
  if (room?.upstream.get(from) === "joining") {
    return [putRoom(model, { ...room, held: room.held.push({ from, message: msg }) }), []]
  }
  switch (msg.type) {
    case "room-member-joined":
      return memberJoinedReceived(model, from, msg, now)
    case "room-presence":
      return presenceReceived(model, from, msg)
    case "room-leave":
      return leaveReceived(model, from, msg, now)
    case "room-broadcast":
      return broadcastReceived(model, from, msg)
  }
}

function memberJoinedReceived(model: Model, from: ChannelId, msg: RoomMemberJoined, now: number): Step {
  const peer = peerOf(model, from)
  const room = model.rooms.get(msg.roomId)
  // Only a relay announces others; only a room this repo is part of cares.
  if (!peer?.relay || !room || (!room.local && !model.self.relay)) return unchanged(model)
  if (msg.member.peerId === model.self.peerId) return unchanged(model)
  const out: Command[] = []
  const before = room.members.get(msg.member.peerId)
  let next = applyMember(room, msg.member, from, peer.peerId, out)
  const after = next.members.get(msg.member.peerId)
  if (after && after !== before) {
    const targets = forwardTargets(model, next, from)
    if (targets.length > 0) out.push({ type: "send", to: targets, message: msg })
  }
  next = settle(next, now, model, out)
  return [putRoom(model, next), out]
}

function presenceReceived(model: Model, from: ChannelId, msg: RoomPresence): Step {
  const room = model.rooms.get(msg.roomId)
  const member = room?.members.get(msg.peerId)
  if (!room || !member || !speaksFor(model, from, msg.peerId)) {
    return notInRoom(model, from, msg.roomId, msg.peerId)
  }
  if (member.session !== msg.session || msg.seq <= member.seq) return unchanged(model)
  const out: Command[] = [
    { type: "presence/set", roomId: room.id, peerId: member.peerId, presence: msg.presence, announce: true },
  ]
  const targets = forwardTargets(model, room, from)
  if (targets.length > 0) out.push({ type: "send", to: targets, message: msg })
  const next = { ...room, members: room.members.set(member.peerId, { ...member, seq: msg.seq }) }
  return [putRoom(model, next), out]
}

function leaveReceived(model: Model, from: ChannelId, msg: RoomLeave, now: number): Step {
  const room = model.rooms.get(msg.roomId)
  if (room && isRelayLink(model, from) && peerOf(model, from)?.peerId === msg.peerId) {
    // The other instance stopped following the room.
    const out: Command[] = []
    const next = { ...room, followers: room.followers.remove(from) }
    let result = putRoom(model, settle(next, now, model, out))
    for (const [id, pending] of result.relayAcks) {
      if (!pending.waiting.has(from)) continue
      const [settled, more] = settleRelayedAck(result, id, {
        ...pending,
        waiting: pending.waiting.remove(from),
      })
      result = settled
      out.push(...more)
    }
    return [result, out]
  }
  if (!room || !speaksFor(model, from, msg.peerId)) return unchanged(model)
  const member = room.members.get(msg.peerId)
  const speaker = peerOf(model, from)?.peerId === msg.peerId
  if (!member) {
    // The leave overtook the join (a reordered link): remembered, so the join stays out when it comes.
    const next = withDeparted(room, msg.peerId, msg)
    return [putRoom(model, speaker ? { ...next, followers: next.followers.remove(from) } : next), []]
  }
  if (member.session !== msg.session || msg.seq < member.seq) return unchanged(model)
  const out: Command[] = []
  let next = removeMember(room, member.peerId, out, msg.seq)
  if (speaker) next = { ...next, followers: next.followers.remove(from) }
  const targets = forwardTargets(model, next, from)
  if (targets.length > 0) out.push({ type: "send", to: targets, message: msg })
  return [putRoom(model, settle(next, now, model, out)), out]
}

function broadcastReceived(model: Model, from: ChannelId, msg: RoomBroadcast): Step {
  const room = model.rooms.get(msg.roomId)
  const member = room?.members.get(msg.from)
  const ack = (delivered: number): Command[] =>
    msg.ack === undefined
      ? []
      : [{ type: "send", to: [from], message: { type: "room-broadcast-ack", ack: msg.ack, delivered } }]
  if (room && !member && peerOf(model, from)?.relay && peerOf(model, from)?.peerId === msg.from) {
    return relayAnnouncementReceived(model, room, from, msg)
  }
  if (!room || !member || !speaksFor(model, from, msg.from)) {
    // Another instance always gets its count (zero here), or it would wait for it forever.
    if (!room || (!room.local && !model.self.relay) || isRelayLink(model, from)) return [model, ack(0)]
    return notInRoom(model, from, msg.roomId, msg.from, msg.ack)
  }
  // At most once: a repeat (or a straggler overtaken by a later broadcast) is dropped.
  if (member.session !== msg.session || msg.seq <= member.broadcastSeq) return [model, ack(0)]
  const out: Command[] = []
  let delivered = 0
  if (room.local) {
    out.push(broadcastEvent(room.id, msg))
    delivered++
  }
  const targets = forwardTargets(model, room, from)
  const links = targets.filter((id) => isRelayLink(model, id))
  const clients = targets.filter((id) => !isRelayLink(model, id))
  const { ack: _, ...forwarded } = msg
  if (clients.length > 0) out.push({ type: "send", to: clients, message: forwarded })
  delivered += clients.length
  const next = { ...room, members: room.members.set(member.peerId, { ...member, broadcastSeq: msg.seq }) }
  let result = putRoom(model, next)
  if (links.length > 0 && msg.ack !== undefined) {
    // Each instance counts its own members: the asker hears the sum once all of them answered.
    const id = model.relayAckClock + 1
    out.push({ type: "send", to: links, message: { ...forwarded, ack: id } })
    const pending: RelayedAck = {
      roomId: room.id,
      waiting: I.Set(links),
      delivered,
      replyTo: from,
      ack: msg.ack,
    }
    result = { ...result, relayAckClock: id, relayAcks: result.relayAcks.set(id, pending) }
    return [result, out]
  }
  if (links.length > 0) out.push({ type: "send", to: links, message: forwarded })
  out.push(...ack(delivered))
  return [result, out]
}

export function ackReceived(model: Model, from: ChannelId, msg: RoomBroadcastAck): Step {
  const relayed = isRelayLink(model, from) ? model.relayAcks.get(msg.ack) : undefined
  if (relayed?.waiting.has(from)) {
    return settleRelayedAck(model, msg.ack, {
      ...relayed,
      waiting: relayed.waiting.remove(from),
      delivered: relayed.delivered + msg.delivered,
    })
  }
  const pending = model.acks.get(msg.ack)
  if (!pending?.waiting.has(from)) return unchanged(model)
  return settleAck(model, msg.ack, {
    ...pending,
    waiting: pending.waiting.remove(from),
    delivered: pending.delivered + msg.delivered,
  })
}

// --- channels and timers ---

/**
 * A channel finished its handshake: join it to every room this repo is in. Each join gets a new
 * `seq`, so a relay that saw this repo leave (a clean close) takes it back.
 */
export function roomsOnEstablished(model: Model, channelId: ChannelId): Step {
  let next = model
  const out: Command[] = []
  const joined: RoomId[] = []
  if (isRelayLink(model, channelId)) {
    // A new link (or the same instance again after an outage): follow every room with clients.
    for (const room of model.rooms.values()) {
      if (!room.followers.some((id) => !isRelayLink(model, id))) continue
      const seq = next.roomClock + 1
      next = { ...next, roomClock: seq }
      out.push({ type: "room/send-join", roomId: room.id, to: [channelId], seq })
      joined.push(room.id)
    }
    return [withRoomOnChannel(next, channelId, joined), out]
  }
  for (const room of model.rooms.values()) {
    if (!room.local) continue
    const seq = next.roomClock + 1
    const local = { ...room.local, seq }
    next = putRoom(
      { ...next, roomClock: seq },
      { ...room, local, upstream: room.upstream.set(channelId, "joining") },
    )
    out.push({ type: "room/send-join", roomId: room.id, to: [channelId], seq })
    joined.push(room.id)
  }
  return [withRoomOnChannel(next, channelId, joined), out]
}

/**
 * A channel went away. Its far end, if it said goodbye, leaves at once; everyone else reached
 * through it is kept for the grace period, since it may come back through another channel.
 */
export function roomsOnClosed(model: Model, channel: ChannelModel, clean: boolean, now: number): Step {
  let next = model
  const out: Command[] = []
  for (const roomId of channel.rooms) {
    const room = next.rooms.get(roomId)
    if (!room) continue
    let updated: RoomModel = {
      ...room,
      followers: room.followers.remove(channel.id),
      upstream: room.upstream.remove(channel.id),
      held: room.held.filter((entry) => entry.from !== channel.id),
    }
    for (const member of room.members.values()) {
      if (member.via !== channel.id || member.disconnectedAt !== null) continue
      if (channel.relayLink) {
        // The instance is gone (its liveness key expired, or it left): its clients left with it,
        // and every other instance notices by itself. Those still alive reconnect and rejoin.
        updated = removeMember(updated, member.peerId, out, undefined, true)
        const targets = forwardTargets(next, updated, channel.id, true)
        if (targets.length > 0) out.push(leaveMessage(targets, roomId, member))
      } else if (clean && member.peerId === channel.peer?.peerId) {
        updated = removeMember(updated, member.peerId, out)
        const targets = forwardTargets(next, updated, channel.id)
        if (targets.length > 0) out.push(leaveMessage(targets, roomId, member))
      } else {
        updated = {
          ...updated,
          members: updated.members.set(member.peerId, { ...member, disconnectedAt: now }),
        }
        out.push({
          type: "schedule",
          id: graceTimer(roomId, member.peerId),
          delay: next.config.reconnectGrace,
          message: { type: "timer/member-grace", roomId, peerId: member.peerId, now: 0 },
        })
      }
    }
    next = putRoom(next, settle(updated, now, next, out))
  }
  const [synced, syncs] = roomsSettled(next)
  next = synced
  out.push(...syncs)
  for (const [ack, pending] of next.acks) {
    if (!pending.waiting.has(channel.id)) continue
    const [settled, more] = settleAck(next, ack, { ...pending, waiting: pending.waiting.remove(channel.id) })
    next = settled
    out.push(...more)
  }
  for (const [id, pending] of next.relayAcks) {
    if (!pending.waiting.has(channel.id) && pending.replyTo !== channel.id) continue
    const [settled, more] = settleRelayedAck(next, id, {
      ...pending,
      waiting: pending.waiting.remove(channel.id),
    })
    next = settled
    out.push(...more)
  }
  return [next, out]
}

/** Rooms waiting for their first whole member list get it once nothing is pending any more. */
export function roomsSettled(model: Model): Step {
  let next = model
  const out: Command[] = []
  for (const room of model.rooms.values()) {
    if (!room.local || room.local.synced) continue
    const settled = syncIfWhole(next, room, out, false)
    if (settled !== room) next = putRoom(next, settled)
  }
  return [next, out]
}

export function graceEnded(model: Model, msg: Msgs<"timer/member-grace">): Step {
  const room = model.rooms.get(msg.roomId)
  const member = room?.members.get(msg.peerId)
  if (!room || !member || member.disconnectedAt === null) return unchanged(model)
  const out: Command[] = []
  // Lost, not gone: it never said it left, so a relay may list it again later with the same `seq`.
  const next = removeMember(room, member.peerId, out, undefined, true)
  const targets = forwardTargets(model, next, null)
  if (targets.length > 0) out.push(leaveMessage(targets, room.id, member))
  return [putRoom(model, settle(next, msg.now, model, out)), out]
}

export function lingerEnded(model: Model, msg: Msgs<"timer/room-linger">): Step {
  const room = model.rooms.get(msg.roomId)
  if (!room || !isEmpty(room)) return unchanged(model)
  const out: Command[] = []
  const links = relayLinks(model)
  if (links.length > 0) {
    // Stop following it on the other instances.
    const seq = model.roomClock + 1
    const { self } = model
    out.push({
      type: "send",
      to: links,
      message: { type: "room-leave", roomId: room.id, peerId: self.peerId, session: self.session, seq },
    })
    model = { ...model, roomClock: seq }
  }
  let channels = model.channels
  for (const channelId of room.followers.union(room.upstream.keys())) {
    const channel = channels.get(channelId)
    if (channel) channels = channels.set(channelId, { ...channel, rooms: channel.rooms.remove(room.id) })
  }
  return [
    { ...model, channels, rooms: model.rooms.remove(room.id) },
    [
      ...out,
      { type: "room/free", roomId: room.id },
      { type: "emit", event: { type: "room-destroyed", roomId: room.id } },
    ],
  ]
}

// --- helpers ---

function refuseJoin(
  model: Model,
  room: RoomModel | undefined,
  from: ChannelId,
  peerId: PeerId,
): { code: "ROOM_FULL" | "TOO_MANY_ROOMS"; message: string } | null {
  const { maxMembersPerRoom, maxRoomsPerChannel } = model.config
  if (room?.members.has(peerId)) return null
  const members = (room?.members.size ?? 0) + (room?.local ? 1 : 0)
  if (members >= maxMembersPerRoom) {
    return { code: "ROOM_FULL", message: `room ${room?.id} has its maximum of ${maxMembersPerRoom} members` }
  }
  const channel = model.channels.get(from)
  if (channel && !channel.rooms.has(room?.id ?? "") && channel.rooms.size >= maxRoomsPerChannel) {
    return { code: "TOO_MANY_ROOMS", message: `a connection may be in at most ${maxRoomsPerChannel} rooms` }
  }
  return null
}

function newRoom(id: RoomId, out: Command[]): RoomModel {
  out.push({ type: "emit", event: { type: "room-created", roomId: id } })
  return {
    id,
    local: null,
    members: I.Map(),
    departed: I.OrderedMap(),
    followers: I.Set(),
    upstream: I.Map(),
    held: I.List(),
    emptySince: null,
  }
}

/**
 * Takes a member as a peer described it, if that is news: a new member joins, a known one is
 * updated in place (a new session of the same peer too: a reload is not a leave and a join).
 */
function applyMember(
  room: RoomModel,
  state: MemberState,
  via: ChannelId,
  viaPeer: PeerId,
  out: Command[],
): RoomModel {
  const existing = room.members.get(state.peerId)
  const departed = room.departed.get(state.peerId)
  if (existing && existing.session === state.session && state.seq < existing.seq) return room
  if (!existing && departed?.session === state.session && state.seq <= departed.seq) return room
  if (existing && existing.session === state.session && state.seq === existing.seq) {
    if (existing.via === via && existing.disconnectedAt === null) return room
  }
  if (existing?.disconnectedAt != null) out.push({ type: "cancel", id: graceTimer(room.id, state.peerId) })
  const member: MemberModel = {
    peerId: state.peerId,
    session: state.session,
    seq: state.seq,
    broadcastSeq: existing?.session === state.session ? existing.broadcastSeq : 0,
    userId: state.userId,
    identity: state.identity,
    joinedAt: existing?.joinedAt ?? state.joinedAt,
    via,
    viaPeer,
    disconnectedAt: null,
  }
  out.push({
    type: "presence/set",
    roomId: room.id,
    peerId: member.peerId,
    presence: state.presence,
    announce: existing !== undefined,
  })
  if (!existing)
    out.push({ type: "emit", event: { type: "room-member-joined", roomId: room.id, member: record(member) } })
  return {
    ...room,
    members: room.members.set(member.peerId, member),
    departed: room.departed.remove(member.peerId),
  }
}

/**
 * Takes a member out of the room. Unless `forget`, its last `seq` is remembered so that its
 * stragglers stay out; a member lost with an instance link or past its grace period did not leave,
 * and may come back with the same `seq`.
 */
function removeMember(
  room: RoomModel,
  peerId: PeerId,
  out: Command[],
  seq?: number,
  forget = false,
): RoomModel {
  const member = room.members.get(peerId)
  if (!member) return room
  if (member.disconnectedAt !== null) out.push({ type: "cancel", id: graceTimer(room.id, peerId) })
  out.push({ type: "emit", event: { type: "room-member-left", roomId: room.id, member: record(member) } })
  out.push(deletePresence(room.id, peerId))
  const rest = { ...room, members: room.members.remove(peerId) }
  if (forget) return rest
  return withDeparted(rest, peerId, { session: member.session, seq: Math.max(seq ?? 0, member.seq) })
}

/** Remembers the last `seq` a departed member used (unless it already said something newer). */
function withDeparted(room: RoomModel, peerId: PeerId, last: SessionSeq): RoomModel {
  const known = room.departed.get(peerId)
  if (known?.session === last.session && known.seq >= last.seq) return room
  let departed = room.departed.set(peerId, { session: last.session, seq: last.seq })
  if (departed.size > DEPARTED_LIMIT) departed = departed.skip(departed.size - DEPARTED_LIMIT).toOrderedMap()
  return { ...room, departed }
}

function sendPresence(model: Model, room: RoomModel, now: number): Step {
  const local = room.local
  if (!local) return unchanged(model)
  const seq = model.roomClock + 1
  const to = audience(model, room)
  const out: Command[] = to.length > 0 ? [{ type: "presence/send", roomId: room.id, to, seq }] : []
  const next: RoomModel = { ...room, local: { ...local, seq, presencePending: false, presenceSentAt: now } }
  return [putRoom({ ...model, roomClock: seq }, next), out]
}

function settleRelayedAck(model: Model, id: number, pending: RelayedAck): Step {
  if (pending.waiting.size > 0) return [{ ...model, relayAcks: model.relayAcks.set(id, pending) }, []]
  const relayAcks = model.relayAcks.remove(id)
  if (!model.channels.get(pending.replyTo)?.peer) return [{ ...model, relayAcks }, []]
  const message = { type: "room-broadcast-ack" as const, ack: pending.ack, delivered: pending.delivered }
  return [{ ...model, relayAcks }, [{ type: "send", to: [pending.replyTo], message }]]
}

function settleAck(
  model: Model,
  ack: number,
  pending: { roomId: RoomId; waiting: I.Set<ChannelId>; delivered: number },
): Step {
  if (pending.waiting.size > 0) return [{ ...model, acks: model.acks.set(ack, pending) }, []]
  return [{ ...model, acks: model.acks.remove(ack) }, [ackEvent(pending.roomId, ack, pending.delivered)]]
}

/**
 * Reports the room synced once no channel's answer to the join is outstanding, no channel is still
 * shaking hands and every adapter made its first attempt to connect: only then is the member list
 * whole. `fresh` marks a snapshot just applied, which is reported even when synced before.
 */
function syncIfWhole(model: Model, room: RoomModel, out: Command[], fresh: boolean): RoomModel {
  const { local } = room
  if (!local || room.upstream.includes("joining")) return room
  if (local.synced && !fresh) return room
  if (model.adaptersStarting > 0 || model.channels.some((channel) => channel.peer === null)) return room
  out.push({ type: "emit", event: { type: "room-synced", roomId: room.id } })
  return local.synced ? room : { ...room, local: { ...local, synced: true } }
}

/** Starts or stops the countdown to destroying the room as it becomes empty or not. */
function settle(room: RoomModel, now: number, model: Model, out: Command[]): RoomModel {
  const empty = isEmpty(room)
  if (empty && room.emptySince === null) {
    out.push({
      type: "schedule",
      id: lingerTimer(room.id),
      delay: model.config.roomLinger,
      message: { type: "timer/room-linger", roomId: room.id, now: 0 },
    })
    return { ...room, emptySince: now }
  }
  if (!empty && room.emptySince !== null) {
    out.push({ type: "cancel", id: lingerTimer(room.id) })
    return { ...room, emptySince: null }
  }
  return room
}

function isEmpty(room: RoomModel): boolean {
  return room.local === null && room.members.size === 0
}

/** A relay lists everyone; any other peer lists only itself (it passes nothing on). */
function snapshotOf(model: Model, room: RoomModel): MemberRecord[] {
  const members = model.self.relay ? [...room.members.values()].map(record) : []
  if (!room.local) return members
  const { self } = model
  return [
    {
      peerId: self.peerId,
      session: self.session,
      seq: room.local.seq,
      userId: self.identity.userId,
      identity: self.identity,
      joinedAt: room.local.joinedAt,
    },
    ...members,
  ]
}

function record(member: MemberModel): MemberRecord {
  return {
    peerId: member.peerId,
    session: member.session,
    seq: member.seq,
    userId: member.userId,
    identity: member.identity,
    joinedAt: member.joinedAt,
  }
}

/** Where this repo's own room traffic goes: channels that follow the room or that it joined through. */
function audience(model: Model, room: RoomModel): ChannelId[] {
  const out: ChannelId[] = []
  for (const id of room.followers) if (model.channels.get(id)?.peer) out.push(id)
  for (const id of room.upstream.keys())
    if (!room.followers.has(id) && model.channels.get(id)?.peer) out.push(id)
  return out
}

/** Where a relay passes on room traffic that came from `from`: never from one relay link to another. */
function forwardTargets(
  model: Model,
  room: RoomModel,
  from: ChannelId | null,
  fromLink = from !== null && isRelayLink(model, from),
): ChannelId[] {
  if (!model.self.relay) return []
  const out: ChannelId[] = []
  for (const id of room.followers) {
    if (id === from || (fromLink && isRelayLink(model, id))) continue
    if (model.channels.get(id)?.peer) out.push(id)
  }
  return out
}

/** A channel may speak for its own peer only, unless its far end is a relay. */
function speaksFor(model: Model, from: ChannelId, peerId: PeerId): boolean {
  const peer = peerOf(model, from)
  return peer !== null && (peer.relay || peer.peerId === peerId)
}

function notInRoom(model: Model, from: ChannelId, roomId: RoomId, peerId: PeerId, ref?: number): Step {
  // Stragglers about members already gone are expected; only a peer speaking for itself is told.
  if (peerOf(model, from)?.peerId !== peerId) return unchanged(model)
  return [
    model,
    [
      {
        type: "send",
        to: [from],
        message: {
          type: "error",
          code: "NOT_IN_ROOM",
          message: `join room ${roomId} before sending to it`,
          roomId,
          ...(ref !== undefined && { ref }),
        },
      },
    ],
  ]
}

function leaveMessage(to: ChannelId[], roomId: RoomId, member: MemberModel): Command {
  return {
    type: "send",
    to,
    message: { type: "room-leave", roomId, peerId: member.peerId, session: member.session, seq: member.seq },
  }
}

function broadcastEvent(roomId: RoomId, msg: RoomBroadcast): Command {
  return {
    type: "emit",
    event: { type: "room-broadcast", roomId, from: msg.from, event: msg.event, payload: msg.payload },
  }
}

function ackEvent(roomId: RoomId, ack: number, delivered: number): Command {
  return { type: "emit", event: { type: "room-broadcast-ack", roomId, ack, delivered } }
}

function deletePresence(roomId: RoomId, peerId: PeerId): Command {
  return { type: "presence/delete", roomId, peerId }
}

function peerOf(model: Model, channelId: ChannelId): PeerInfo | null {
  return model.channels.get(channelId)?.peer ?? null
}

function establishedChannels(model: Model): ChannelId[] {
  const out: ChannelId[] = []
  for (const channel of model.channels.values()) if (channel.peer) out.push(channel.id)
  return out
}

function putRoom(model: Model, room: RoomModel): Model {
  return { ...model, rooms: model.rooms.set(room.id, room) }
}

function withRoomOnChannels(model: Model, roomId: RoomId, channelIds: readonly ChannelId[]): Model {
  let channels = model.channels
  for (const id of channelIds) {
    const channel = channels.get(id)
    if (channel && !channel.rooms.has(roomId))
      channels = channels.set(id, { ...channel, rooms: channel.rooms.add(roomId) })
  }
  return channels === model.channels ? model : { ...model, channels }
}

function withRoomOnChannel(model: Model, channelId: ChannelId, roomIds: readonly RoomId[]): Model {
  const channel = model.channels.get(channelId)
  if (!channel || roomIds.length === 0) return model
  return {
    ...model,
    channels: model.channels.set(channelId, { ...channel, rooms: channel.rooms.union(roomIds) }),
  }
}

export function presenceTimer(roomId: RoomId): string {
  return `presence:${roomId}`
}
function graceTimer(roomId: RoomId, peerId: PeerId): string {
  return `grace:${roomId}:${peerId}`
}
function lingerTimer(roomId: RoomId): string {
  return `linger:${roomId}`
}
