import * as I from "immutable"
import { describe, expect, it } from "vitest"
import type { Command } from "../src/program/commands.js"
import type { Msg } from "../src/program/messages.js"
import { type DocModel, initialModel, type Model, newDoc } from "../src/program/model.js"
import { update } from "../src/program/update.js"

// Tables of the synchronizer's document half: a model, a message, what must come out.

const self = { peerId: "me", session: "s1", identity: {}, relay: false }
const peer = (peerId: string, relay = false) => ({ peerId, session: `${peerId}-s`, identity: {}, relay })
const v = new Uint8Array([0])
const bytes = new Uint8Array([1, 2, 3])

function model(options: {
  relay?: boolean
  storage?: boolean
  durable?: boolean
  starting?: number
  channels?: Record<string, ReturnType<typeof peer> | null>
  docs?: DocModel[]
}): Model {
  const base = initialModel({
    self: { ...self, relay: options.relay ?? false },
    hasStorage: options.storage ?? false,
    durable: options.durable ?? false,
    adapters: options.starting ?? 0,
  })
  let channels = base.channels
  for (const [id, info] of Object.entries(options.channels ?? {})) {
    channels = channels.set(id, { id, peer: info, relayLink: false, docs: I.Set(), rooms: I.Set() })
  }
  let docs = base.docs
  for (const doc of options.docs ?? []) docs = docs.set(doc.id, doc)
  return { ...base, channels, docs }
}

function doc(id: string, patch: Partial<DocModel> = {}): DocModel {
  return { ...newDoc(id, false, true), ...patch }
}

const received = (channelId: string, message: Extract<Msg, { type: "conn/received" }>["message"]): Msg => ({
  type: "conn/received",
  channelId,
  message,
  now: 0,
})

interface Case {
  name: string
  model: Model
  msg: Msg
  commands: Command[]
  check?: (next: Model) => void
}

const cases: Case[] = [
  {
    name: "opening a document with no storage and no peers: it is unavailable at once",
    model: model({}),
    msg: { type: "doc/open", docId: "d" },
    commands: [
      { type: "emit", event: { type: "doc-created", docId: "d" } },
      { type: "emit", event: { type: "doc-status", docId: "d", status: "unavailable" } },
    ],
  },
  {
    name: "opening a document reads storage before asking anyone",
    model: model({ storage: true, channels: { c1: peer("a") } }),
    msg: { type: "doc/open", docId: "d" },
    commands: [
      { type: "emit", event: { type: "doc-created", docId: "d" } },
      { type: "load", docId: "d" },
    ],
  },
  {
    name: "opening a document asks every established channel, not handshaking ones",
    model: model({ channels: { c1: peer("a"), c2: null, c3: peer("b") } }),
    msg: { type: "doc/open", docId: "d" },
    commands: [
      { type: "emit", event: { type: "doc-created", docId: "d" } },
      { type: "request-sync", to: ["c1", "c3"], docId: "d" },
    ],
    check: (next) => expect(next.docs.get("d")?.awaiting.toArray().sort()).toEqual(["c1", "c3"]),
  },
  {
    name: "while an adapter is still connecting, a document nobody answered stays loading",
    model: model({ starting: 1 }),
    msg: { type: "doc/open", docId: "d" },
    commands: [{ type: "emit", event: { type: "doc-created", docId: "d" } }],
    check: (next) => expect(next.docs.get("d")?.status).toBe("loading"),
  },
  {
    name: "storage answered: the deferred request gets the document, then peers are asked",
    model: model({
      storage: true,
      channels: { c1: peer("a"), c2: peer("b") },
      docs: [doc("d", { storage: "reading", deferred: I.Map([["c1", { version: v, ref: 7 }]]) })],
    }),
    msg: {
      type: "storage/loaded",
      docId: "d",
      found: true,
      snapshotBytes: 10,
      updateBytes: 0,
      mergedUnsaved: false,
    },
    commands: [
      { type: "answer-sync", to: "c1", docId: "d", theirVersion: v, ref: 7 },
      { type: "request-sync", to: ["c2"], docId: "d" },
      { type: "emit", event: { type: "doc-status", docId: "d", status: "ready" } },
    ],
  },
  {
    name: "a peer without the document, storage or relay role says unavailable and keeps nothing",
    model: model({ channels: { c1: peer("a") } }),
    msg: received("c1", { type: "sync-request", docId: "d", version: v, id: 3 }),
    commands: [{ type: "send", to: ["c1"], message: { type: "doc-unavailable", docId: "d", ref: 3 } }],
    check: (next) => expect(next.docs.has("d")).toBe(false),
  },
  {
    name: "a relay without storage keeps an empty document for the asker",
    model: model({ relay: true, channels: { c1: peer("a") } }),
    msg: received("c1", { type: "sync-request", docId: "d", version: v }),
    commands: [
      { type: "emit", event: { type: "doc-created", docId: "d" } },
      { type: "send", to: ["c1"], message: { type: "doc-unavailable", docId: "d" } },
    ],
    check: (next) => expect(next.docs.get("d")?.synced.toArray()).toEqual(["c1"]),
  },
  {
    name: "a relay with storage defers the answer until storage has been read",
    model: model({ relay: true, storage: true, channels: { c1: peer("a") } }),
    msg: received("c1", { type: "sync-request", docId: "d", version: v }),
    commands: [
      { type: "emit", event: { type: "doc-created", docId: "d" } },
      { type: "load", docId: "d" },
    ],
    check: (next) => expect(next.docs.get("d")?.deferred.has("c1")).toBe(true),
  },
  {
    name: "a relay passes an update to every other synced channel, never back to its sender",
    model: model({
      relay: true,
      channels: { c1: peer("a"), c2: peer("b"), c3: peer("c") },
      docs: [doc("d", { hasContent: true, status: "ready", synced: I.Set(["c1", "c2", "c3"]) })],
    }),
    msg: received("c2", { type: "doc-update", docId: "d", data: bytes }),
    commands: [{ type: "import", docId: "d", data: bytes, from: "c2", relayTo: ["c1", "c3"] }],
  },
  {
    name: "a peer that is not a relay imports and forwards nothing",
    model: model({
      channels: { c1: peer("a"), c2: peer("b") },
      docs: [doc("d", { hasContent: true, status: "ready", synced: I.Set(["c1", "c2"]) })],
    }),
    msg: received("c1", { type: "doc-update", docId: "d", data: bytes }),
    commands: [{ type: "import", docId: "d", data: bytes, from: "c1", relayTo: [] }],
  },
  {
    name: "an update for a document a non-relay never opened is ignored",
    model: model({ channels: { c1: peer("a") } }),
    msg: received("c1", { type: "doc-update", docId: "unknown", data: bytes }),
    commands: [],
  },
  {
    name: "a response is imported, passed on by relays, and answered with what the responder lacks",
    model: model({
      relay: true,
      channels: { c1: peer("a"), c2: peer("b") },
      docs: [doc("d", { awaiting: I.Set(["c1"]), synced: I.Set(["c2"]) })],
    }),
    msg: received("c1", { type: "sync-response", docId: "d", version: v, data: bytes }),
    commands: [
      { type: "import", docId: "d", data: bytes, from: "c1", relayTo: ["c2"] },
      { type: "send-missing", to: "c1", docId: "d", theirVersion: v },
      { type: "emit", event: { type: "doc-status", docId: "d", status: "ready" } },
    ],
  },
  {
    name: "a relay that lacks the document gets what this peer has",
    model: model({
      channels: { c1: peer("hub", true) },
      docs: [doc("d", { hasContent: true, status: "ready", awaiting: I.Set(["c1"]) })],
    }),
    msg: received("c1", { type: "doc-unavailable", docId: "d" }),
    commands: [{ type: "send-missing", to: "c1", docId: "d", theirVersion: null }],
    check: (next) => expect(next.docs.get("d")?.synced.has("c1")).toBe(true),
  },
  {
    name: "the last peer saying unavailable settles the document as unavailable",
    model: model({
      channels: { c1: peer("a") },
      docs: [doc("d", { storage: "empty", awaiting: I.Set(["c1"]) })],
    }),
    msg: received("c1", { type: "doc-unavailable", docId: "d" }),
    commands: [{ type: "emit", event: { type: "doc-status", docId: "d", status: "unavailable" } }],
  },
  {
    name: "an import that waits for unseen changes asks the sender to fill the gap",
    model: model({
      channels: { c1: peer("a") },
      docs: [doc("d", { hasContent: true, status: "ready", synced: I.Set(["c1"]) })],
    }),
    msg: { type: "doc/imported", docId: "d", from: "c1", applied: false, pending: true, invalid: false },
    commands: [{ type: "request-sync", to: ["c1"], docId: "d" }],
  },
  {
    name: "a local change goes to every synced channel and schedules a save",
    model: model({
      storage: true,
      channels: { c1: peer("a"), c2: peer("b") },
      docs: [doc("d", { storage: "found", hasContent: true, status: "ready", synced: I.Set(["c1", "c2"]) })],
    }),
    msg: { type: "doc/local-change", docId: "d", data: bytes },
    commands: [
      { type: "send", to: ["c1", "c2"], message: { type: "doc-update", docId: "d", data: bytes } },
      { type: "schedule", id: "save:d", delay: 100, message: { type: "timer/save", docId: "d" } },
    ],
  },
  {
    name: "the first write of a document is a snapshot",
    model: model({
      storage: true,
      docs: [
        doc("d", {
          storage: "empty",
          save: { ...newDoc("d", true, true).save, dirty: true, scheduled: true },
        }),
      ],
    }),
    msg: { type: "timer/save", docId: "d" },
    commands: [{ type: "save", docId: "d", compact: true }],
  },
  {
    name: "updates that outgrew the snapshot schedule a compaction",
    model: model({
      storage: true,
      docs: [
        doc("d", {
          storage: "found",
          save: { ...newDoc("d", true, true).save, writing: true, snapshotBytes: 100, updateBytes: 90 },
        }),
      ],
    }),
    msg: { type: "storage/saved", docId: "d", compacted: false, bytes: 20 },
    commands: [{ type: "schedule", id: "save:d", delay: 100, message: { type: "timer/save", docId: "d" } }],
    check: (next) => expect(next.docs.get("d")?.save.compactNext).toBe(true),
  },
  {
    name: "a hello with an unsupported protocol is refused with a clear code",
    model: model({ channels: { c1: null } }),
    msg: received("c1", {
      type: "hello",
      protocol: 99,
      peerId: "x",
      session: "s",
      identity: {},
      relay: false,
    }),
    commands: [
      {
        type: "send",
        to: ["c1"],
        message: { type: "error", code: "UNSUPPORTED_PROTOCOL", message: expect.stringContaining("99") },
      },
      { type: "close", channelId: "c1", code: "UNSUPPORTED_PROTOCOL", reason: expect.stringContaining("99") },
    ],
  },
  {
    name: "anything but hello on a handshaking channel is refused",
    model: model({ channels: { c1: null } }),
    msg: received("c1", { type: "doc-update", docId: "d", data: bytes }),
    commands: [
      {
        type: "send",
        to: ["c1"],
        message: { type: "error", code: "INVALID_MESSAGE", message: "expected hello first" },
      },
      { type: "close", channelId: "c1", code: "INVALID_MESSAGE", reason: "expected hello first" },
    ],
  },
  {
    name: "a relay with durable storage notes whose update waits for the next write",
    model: model({
      relay: true,
      storage: true,
      durable: true,
      channels: { c1: peer("a") },
      docs: [doc("d", { storage: "found", hasContent: true, status: "ready", synced: I.Set(["c1"]) })],
    }),
    msg: received("c1", { type: "doc-update", docId: "d", data: bytes }),
    commands: [{ type: "import", docId: "d", data: bytes, from: "c1", relayTo: [] }],
    check: (next) => expect(next.docs.get("d")?.save.unacked.toArray()).toEqual(["c1"]),
  },
  {
    name: "a write that lands acknowledges the channels whose updates it covers",
    model: model({
      storage: true,
      durable: true,
      channels: { c1: peer("a"), c2: peer("b") },
      docs: [
        doc("d", {
          storage: "found",
          synced: I.Set(["c1", "c2"]),
          save: { ...newDoc("d", true, true).save, writing: true, snapshotBytes: 100, acking: I.Set(["c1"]) },
        }),
      ],
    }),
    msg: { type: "storage/saved", docId: "d", compacted: false, bytes: 10 },
    commands: [{ type: "send-ack", docId: "d", to: ["c1"] }],
  },
  {
    name: "a channel that closed the document gets no more of it, and the idle document is set to leave",
    model: model({
      relay: true,
      channels: { c1: peer("a") },
      docs: [
        doc("d", {
          wanted: false,
          storage: "found",
          hasContent: true,
          status: "ready",
          synced: I.Set(["c1"]),
        }),
      ],
    }),
    msg: received("c1", { type: "doc-close", docId: "d" }),
    commands: [
      { type: "schedule", id: "evict:d", delay: 60_000, message: { type: "timer/evict", docId: "d" } },
    ],
    check: (next) => expect(next.docs.get("d")?.synced.size).toBe(0),
  },
  {
    name: "a deleted document is never resurrected by a late update",
    model: { ...model({ channels: { c1: peer("a") } }), deleted: I.Set(["d"]) },
    msg: received("c1", { type: "doc-update", docId: "d", data: bytes }),
    commands: [],
  },
]

describe("update: documents", () => {
  it.each(cases)("$name", ({ model: before, msg, commands, check }) => {
    const [after, out] = update(msg, before)
    expect(out).toEqual(commands)
    check?.(after)
  })

  it("returns the same model when nothing changes", () => {
    const before = model({ channels: { c1: peer("a") } })
    const [after] = update(received("c1", { type: "pong" }), before)
    expect(after).toBe(before)
  })
})
