import * as I from "immutable"
import { describe, expect, it } from "vitest"
import type { PeerMessage } from "../src/peer-message.js"
import type { Command } from "../src/program/commands.js"
import type { Msg } from "../src/program/messages.js"
import {
  initialModel,
  type LocalMember,
  type MemberModel,
  type Model,
  type RoomModel,
} from "../src/program/model.js"
import { update } from "../src/program/update.js"

// Tables of the synchronizer's room half: a model, a message, what must come out.

const peer = (peerId: string, relay = false) => ({
  peerId,
  session: `${peerId}-s`,
  identity: { userId: `u-${peerId}` },
  relay,
})

function model(options: {
  relay?: boolean
  channels: Record<string, ReturnType<typeof peer>>
  rooms?: RoomModel[]
}): Model {
  const base = initialModel({
    self: { peerId: "me", session: "me-s", identity: {}, relay: options.relay ?? false },
    hasStorage: false,
    adapters: 0,
  })
  let channels = base.channels
  for (const [id, info] of Object.entries(options.channels)) {
    channels = channels.set(id, {
      id,
      peer: info,
      relayLink: false,
      docs: I.Set(),
      rooms: I.Set((options.rooms ?? []).map((r) => r.id)),
    })
  }
  let rooms = base.rooms
  for (const room of options.rooms ?? []) rooms = rooms.set(room.id, room)
  return { ...base, channels, rooms, roomClock: 10 }
}

function room(patch: Partial<RoomModel> = {}): RoomModel {
  return {
    id: "r",
    local: null,
    members: I.Map(),
    departed: I.OrderedMap(),
    followers: I.Set(),
    upstream: I.Map(),
    held: I.List(),
    emptySince: null,
    ...patch,
  }
}

function member(peerId: string, via: string, patch: Partial<MemberModel> = {}): MemberModel {
  return {
    peerId,
    session: `${peerId}-s`,
    seq: 5,
    broadcastSeq: 0,
    userId: `u-${peerId}`,
    identity: { userId: `u-${peerId}` },
    joinedAt: 100,
    via,
    viaPeer: peerId,
    disconnectedAt: null,
    ...patch,
  }
}

const local: LocalMember = {
  joinedAt: 1,
  seq: 3,
  presencePending: false,
  presenceSentAt: 0,
  synced: false,
  outbox: I.List(),
}
const from = (channelId: string, message: PeerMessage): Msg => ({
  type: "conn/received",
  channelId,
  message,
  now: 1000,
})
const presence = (peerId: string, seq: number, value: number): PeerMessage => ({
  type: "room-presence",
  roomId: "r",
  peerId,
  session: `${peerId}-s`,
  seq,
  presence: { v: value },
})

const disconnectedA: Command = {
  type: "emit",
  event: { type: "peer-disconnected", channelId: "c1", peer: peer("a") },
}

interface Case {
  name: string
  model: Model
  msg: Msg
  commands: Command[]
  check?: (next: Model) => void
}

const relayWithTwo = model({
  relay: true,
  channels: { c1: peer("a"), c2: peer("b"), c3: peer("c") },
  rooms: [
    room({
      members: I.Map([
        ["a", member("a", "c1")],
        ["b", member("b", "c2")],
        ["c", member("c", "c3")],
      ]),
      followers: I.Set(["c1", "c2", "c3"]),
    }),
  ],
})

const cases: Case[] = [
  {
    name: "a relay applies newer presence and passes the same message to the other followers",
    model: relayWithTwo,
    msg: from("c1", presence("a", 6, 1)),
    commands: [
      { type: "presence/set", roomId: "r", peerId: "a", presence: { v: 1 }, announce: true },
      { type: "send", to: ["c2", "c3"], message: presence("a", 6, 1) },
    ],
    check: (next) => expect(next.rooms.get("r")?.members.get("a")?.seq).toBe(6),
  },
  {
    name: "an older presence update never overwrites a newer one",
    model: relayWithTwo,
    msg: from("c1", presence("a", 4, 1)),
    commands: [],
  },
  {
    name: "a peer that is not a relay may not speak for another member",
    model: relayWithTwo,
    msg: from("c1", presence("b", 9, 1)),
    commands: [],
  },
  {
    name: "a join is answered with everyone a relay knows, and announced to the others",
    model: model({
      relay: true,
      channels: { c1: peer("a"), c2: peer("b") },
      rooms: [room({ members: I.Map([["b", member("b", "c2")]]), followers: I.Set(["c2"]) })],
    }),
    msg: from("c1", { type: "room-join", roomId: "r", session: "a-s", seq: 1, presence: { v: 0 }, id: 8 }),
    commands: [
      { type: "presence/set", roomId: "r", peerId: "a", presence: { v: 0 }, announce: false },
      {
        type: "emit",
        event: {
          type: "room-member-joined",
          roomId: "r",
          member: {
            peerId: "a",
            session: "a-s",
            seq: 1,
            userId: "u-a",
            identity: { userId: "u-a" },
            joinedAt: 1000,
          },
        },
      },
      {
        type: "send",
        to: ["c2"],
        message: {
          type: "room-member-joined",
          roomId: "r",
          member: {
            peerId: "a",
            session: "a-s",
            seq: 1,
            userId: "u-a",
            identity: { userId: "u-a" },
            joinedAt: 1000,
            presence: { v: 0 },
          },
        },
      },
      {
        type: "room/send-snapshot",
        roomId: "r",
        to: "c1",
        members: [
          { peerId: "b", session: "b-s", seq: 5, userId: "u-b", identity: { userId: "u-b" }, joinedAt: 100 },
          { peerId: "a", session: "a-s", seq: 1, userId: "u-a", identity: { userId: "u-a" }, joinedAt: 1000 },
        ],
        ref: 8,
      },
    ],
  },
  {
    name: "a late join from a member that already left is ignored",
    model: model({
      relay: true,
      channels: { c1: peer("a") },
      rooms: [room({ departed: I.OrderedMap([["a", { session: "a-s", seq: 7 }]]), emptySince: 0 })],
    }),
    msg: from("c1", { type: "room-join", roomId: "r", session: "a-s", seq: 6, presence: null }),
    commands: [{ type: "room/send-snapshot", roomId: "r", to: "c1", members: [], ref: undefined }],
    check: (next) => expect(next.rooms.get("r")?.members.has("a")).toBe(false),
  },
  {
    name: "a leave that overtook its member's join is remembered, and the join then stays out",
    model: model({
      relay: true,
      channels: { c1: peer("a"), c2: peer("b") },
      rooms: [room({ members: I.Map([["b", member("b", "c2")]]), followers: I.Set(["c2"]) })],
    }),
    msg: from("c1", { type: "room-leave", roomId: "r", peerId: "a", session: "a-s", seq: 7 }),
    commands: [],
    check: (next) => {
      expect(next.rooms.get("r")?.departed.get("a")).toEqual({ session: "a-s", seq: 7 })
      const join = from("c1", { type: "room-join", roomId: "r", session: "a-s", seq: 6, presence: null })
      const [after] = update(join, next)
      expect(after.rooms.get("r")?.members.has("a")).toBe(false)
    },
  },
  {
    name: "a peer listed in a room it left (its join came after its leave) says again that it left",
    model: model({ channels: { c1: peer("hub", true) }, rooms: [room({ emptySince: 0 })] }),
    msg: from("c1", {
      type: "room-snapshot",
      roomId: "r",
      members: [{ peerId: "me", session: "me-s", seq: 9, identity: {}, joinedAt: 1, presence: null }],
      ref: 4,
    }),
    commands: [
      {
        type: "send",
        to: ["c1"],
        message: { type: "room-leave", roomId: "r", peerId: "me", session: "me-s", seq: 11 },
      },
    ],
    check: (next) => expect(next.roomClock).toBe(11),
  },
  {
    name: "a snapshot its far end sent before joining here, overtaken by that join, leaves it in",
    model: model({
      channels: { c1: peer("a") },
      rooms: [
        room({
          local,
          members: I.Map([["a", member("a", "c1")]]),
          followers: I.Set(["c1"]),
          upstream: I.Map([["c1", "joining" as const]]),
        }),
      ],
    }),
    msg: from("c1", { type: "room-snapshot", roomId: "r", members: [] }),
    commands: [{ type: "emit", event: { type: "room-synced", roomId: "r" } }],
    check: (next) => expect(next.rooms.get("r")?.members.has("a")).toBe(true),
  },
  {
    name: "a member dropped at the end of its grace period is taken back when a relay lists it again, same seq",
    model: model({
      channels: { c2: peer("hub", true) },
      rooms: [
        room({
          local,
          members: I.Map([["x", member("x", "c1", { viaPeer: "hub", disconnectedAt: 500 })]]),
          upstream: I.Map([["c2", "joining" as const]]),
        }),
      ],
    }),
    msg: { type: "timer/member-grace", roomId: "r", peerId: "x", now: 6000 },
    commands: [
      { type: "cancel", id: "grace:r:x" },
      {
        type: "emit",
        event: {
          type: "room-member-left",
          roomId: "r",
          member: {
            peerId: "x",
            session: "x-s",
            seq: 5,
            userId: "u-x",
            identity: { userId: "u-x" },
            joinedAt: 100,
          },
        },
      },
      { type: "presence/delete", roomId: "r", peerId: "x" },
    ],
    check: (next) => {
      const listed = { peerId: "x", session: "x-s", seq: 5, identity: {}, joinedAt: 100, presence: null }
      const [after] = update(from("c2", { type: "room-snapshot", roomId: "r", members: [listed] }), next)
      expect(after.rooms.get("r")?.members.has("x")).toBe(true)
    },
  },
  {
    name: "news from a channel whose snapshot has not arrived waits for it",
    model: model({
      channels: { c1: peer("hub", true) },
      rooms: [room({ local, upstream: I.Map([["c1", "joining" as const]]) })],
    }),
    msg: from("c1", presence("x", 2, 1)),
    commands: [],
    check: (next) => expect(next.rooms.get("r")?.held.size).toBe(1),
  },
  {
    name: "the snapshot comes first, then what was held back, and the room is synced",
    model: model({
      channels: { c1: peer("hub", true) },
      rooms: [
        room({
          local,
          upstream: I.Map([["c1", "joining" as const]]),
          held: I.List([{ from: "c1", message: presence("x", 2, 7) }]),
        }),
      ],
    }),
    msg: from("c1", {
      type: "room-snapshot",
      roomId: "r",
      members: [{ peerId: "x", session: "x-s", seq: 1, identity: {}, joinedAt: 50, presence: { v: 0 } }],
    }),
    commands: [
      { type: "presence/set", roomId: "r", peerId: "x", presence: { v: 0 }, announce: false },
      {
        type: "emit",
        event: {
          type: "room-member-joined",
          roomId: "r",
          member: { peerId: "x", session: "x-s", seq: 1, userId: undefined, identity: {}, joinedAt: 50 },
        },
      },
      { type: "emit", event: { type: "room-synced", roomId: "r" } },
      { type: "presence/set", roomId: "r", peerId: "x", presence: { v: 7 }, announce: true },
    ],
    check: (next) => expect(next.rooms.get("r")?.held.size).toBe(0),
  },
  {
    name: "a snapshot from a peer that does not relay cannot introduce third parties",
    model: model({
      channels: { c1: peer("a") },
      rooms: [room({ local, upstream: I.Map([["c1", "joining" as const]]) })],
    }),
    msg: from("c1", {
      type: "room-snapshot",
      roomId: "r",
      members: [{ peerId: "ghost", session: "g", seq: 1, identity: {}, joinedAt: 1, presence: null }],
    }),
    commands: [{ type: "emit", event: { type: "room-synced", roomId: "r" } }],
    check: (next) => expect(next.rooms.get("r")?.members.size).toBe(0),
  },
  {
    name: "a goodbye removes the far end's member at once and tells the others",
    model: relayWithTwo,
    msg: { type: "conn/closed", channelId: "c1", clean: true, now: 2000 },
    commands: [
      disconnectedA,
      {
        type: "emit",
        event: {
          type: "room-member-left",
          roomId: "r",
          member: {
            peerId: "a",
            session: "a-s",
            seq: 5,
            userId: "u-a",
            identity: { userId: "u-a" },
            joinedAt: 100,
          },
        },
      },
      { type: "presence/delete", roomId: "r", peerId: "a" },
      {
        type: "send",
        to: ["c2", "c3"],
        message: { type: "room-leave", roomId: "r", peerId: "a", session: "a-s", seq: 5 },
      },
    ],
  },
  {
    name: "a lost connection keeps its member for the grace period, telling no one",
    model: relayWithTwo,
    msg: { type: "conn/closed", channelId: "c1", clean: false, now: 2000 },
    commands: [
      disconnectedA,
      {
        type: "schedule",
        id: "grace:r:a",
        delay: 5000,
        message: { type: "timer/member-grace", roomId: "r", peerId: "a", now: 0 },
      },
    ],
    check: (next) => expect(next.rooms.get("r")?.members.get("a")?.disconnectedAt).toBe(2000),
  },
  {
    name: "a broadcast from someone outside the room is refused with NOT_IN_ROOM",
    model: model({
      relay: true,
      channels: { c1: peer("a") },
      rooms: [room({ members: I.Map([["b", member("b", "c2")]]) })],
    }),
    msg: from("c1", {
      type: "room-broadcast",
      roomId: "r",
      from: "a",
      session: "a-s",
      seq: 1,
      event: "e",
      payload: null,
      ack: 4,
    }),
    commands: [
      {
        type: "send",
        to: ["c1"],
        message: {
          type: "error",
          code: "NOT_IN_ROOM",
          message: "join room r before sending to it",
          roomId: "r",
          ref: 4,
        },
      },
    ],
  },
  {
    name: "a relay counts the followers it passed a broadcast to and acknowledges",
    model: relayWithTwo,
    msg: from("c1", {
      type: "room-broadcast",
      roomId: "r",
      from: "a",
      session: "a-s",
      seq: 1,
      event: "e",
      payload: 1,
      ack: 9,
    }),
    commands: [
      {
        type: "send",
        to: ["c2", "c3"],
        message: {
          type: "room-broadcast",
          roomId: "r",
          from: "a",
          session: "a-s",
          seq: 1,
          event: "e",
          payload: 1,
        },
      },
      { type: "send", to: ["c1"], message: { type: "room-broadcast-ack", ack: 9, delivered: 2 } },
    ],
  },
  {
    name: "a relay announces to every follower of a room as itself, numbered by its room clock",
    model: relayWithTwo,
    msg: { type: "room/relay-broadcast", roomId: "r", event: "notice", payload: { text: "hi" } },
    commands: [
      {
        type: "send",
        to: ["c1", "c2", "c3"],
        message: {
          type: "room-broadcast",
          roomId: "r",
          from: "me",
          session: "me-s",
          seq: 11,
          event: "notice",
          payload: { text: "hi" },
        },
      },
    ],
    check: (next) => expect(next.roomClock).toBe(11),
  },
  {
    name: "a peer in a room takes a broadcast from its relay speaking as itself, though it is no member",
    model: model({
      channels: { up: peer("hub", true) },
      rooms: [room({ local, upstream: I.Map([["up", "joined" as const]]) })],
    }),
    msg: from("up", {
      type: "room-broadcast",
      roomId: "r",
      from: "hub",
      session: "hub-s",
      seq: 1,
      event: "notice",
      payload: 1,
    }),
    commands: [
      {
        type: "emit",
        event: { type: "room-broadcast", roomId: "r", from: "hub", event: "notice", payload: 1 },
      },
    ],
  },
  {
    name: "a relay announcing to a room it does not hold sends nothing",
    model: relayWithTwo,
    msg: { type: "room/relay-broadcast", roomId: "nowhere", event: "x", payload: null },
    commands: [],
  },
]

/** Channel sets have no order: compare recipients as sorted lists. */
function sortTargets(commands: readonly Command[]): Command[] {
  return commands.map((command) =>
    command.type === "send" ? { ...command, to: [...command.to].sort() } : command,
  )
}

describe("update: rooms", () => {
  it.each(cases)("$name", ({ model: before, msg, commands, check }) => {
    const [after, out] = update(msg, before)
    expect(sortTargets(out)).toEqual(sortTargets(commands))
    check?.(after)
  })
})
