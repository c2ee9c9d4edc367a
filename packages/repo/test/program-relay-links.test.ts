import * as I from "immutable"
import { describe, expect, it } from "vitest"
import type { Command } from "../src/program/commands.js"
import type { Msg } from "../src/program/messages.js"
import { type DocModel, initialModel, type Model, newDoc } from "../src/program/model.js"
import { update } from "../src/program/update.js"

// Tables of the rules for relay links: instances of one relay service form a mesh, so what a
// client brings goes to every link, and what a link brings goes only to clients.

const peer = (peerId: string, relay = false) => ({ peerId, session: `${peerId}-s`, identity: {}, relay })
const bytes = new Uint8Array([1, 2, 3])

/** A relay with clients `c1`, `c2` and links `l1`, `l2` to two other instances. */
function relay(options: { storage?: boolean; durable?: boolean; docs?: DocModel[] } = {}): Model {
  const base = initialModel({
    self: { peerId: "me", session: "me-s", identity: {}, relay: true },
    hasStorage: options.storage ?? true,
    durable: options.durable ?? false,
    adapters: 0,
  })
  const channels: [string, ReturnType<typeof peer>, boolean][] = [
    ["c1", peer("alice"), false],
    ["c2", peer("bob"), false],
    ["l1", peer("east", true), true],
    ["l2", peer("west", true), true],
  ]
  let model: Model = base
  for (const [id, info, relayLink] of channels) {
    model = {
      ...model,
      channels: model.channels.set(id, { id, peer: info, relayLink, docs: I.Set(), rooms: I.Set() }),
    }
  }
  for (const doc of options.docs ?? []) model = { ...model, docs: model.docs.set(doc.id, doc) }
  return model
}

const ready = (id: string, synced: string[]): DocModel => ({
  ...newDoc(id, true, false),
  status: "ready",
  storage: "found",
  hasContent: true,
  synced: I.Set(synced),
})

const received = (channelId: string, message: Extract<Msg, { type: "conn/received" }>["message"]): Msg => ({
  type: "conn/received",
  channelId,
  message,
  now: 0,
})

const sends = (commands: readonly Command[]) =>
  commands.filter((c) => c.type === "send" || c.type === "import")

describe("relay links", () => {
  it("an update from a client goes to the document's other clients and to every link", () => {
    const [, commands] = update(
      received("c1", { type: "doc-update", docId: "d", data: bytes }),
      relay({ docs: [ready("d", ["c1", "c2"])] }),
    )
    expect(sends(commands)).toEqual([
      { type: "import", docId: "d", data: bytes, from: "c1", relayTo: ["c2", "l1", "l2"] },
    ])
  })

  it("an update from a link goes to clients only, and the link is never acknowledged", () => {
    const [next, commands] = update(
      received("l1", { type: "doc-update", docId: "d", data: bytes }),
      relay({ durable: true, docs: [ready("d", ["c1"])] }),
    )
    expect(sends(commands)).toEqual([
      { type: "import", docId: "d", data: bytes, from: "l1", relayTo: ["c1"] },
    ])
    expect(next.docs.get("d")?.save.unacked.size).toBe(0)
  })

  it("an update from a link for a document not in memory is appended to storage without loading it", () => {
    const [next, commands] = update(received("l1", { type: "doc-update", docId: "d", data: bytes }), relay())
    expect(commands).toEqual([{ type: "store-update", docId: "d", data: bytes }])
    expect(next.docs.has("d")).toBe(false)
  })

  it("a document a client brings into memory is asked of every link once storage answered", () => {
    const [asked] = update(
      received("c1", { type: "sync-request", docId: "d", version: new Uint8Array([0]) }),
      relay(),
    )
    const [, commands] = update(
      {
        type: "storage/loaded",
        docId: "d",
        found: true,
        snapshotBytes: 1,
        updateBytes: 0,
        mergedUnsaved: false,
      },
      asked,
    )
    expect(commands).toContainEqual({ type: "request-sync", to: ["l1", "l2"], docId: "d" })
  })

  describe("a document this instance's storage lacks", () => {
    const missing = {
      type: "storage/loaded",
      docId: "d",
      found: false,
      snapshotBytes: 0,
      updateBytes: 0,
      mergedUnsaved: false,
    } as const
    const asked = () => {
      const [waiting] = update(
        received("c1", { type: "sync-request", docId: "d", version: new Uint8Array([0]), id: 3 }),
        relay(),
      )
      return update(missing, waiting)
    }
    const unavailableTo = (to: string) => (c: Command) =>
      c.type === "send" && c.to.includes(to) && c.message.type === "doc-unavailable"

    it("is asked of every link before the client hears anything", () => {
      const [next, commands] = asked()
      expect(commands).toContainEqual({ type: "request-sync", to: ["l1", "l2"], docId: "d" })
      expect(commands.some(unavailableTo("c1"))).toBe(false)
      expect(next.docs.get("d")?.status).toBe("loading")
    })

    it("is answered as soon as a link sent it; what another link sends later is passed on", () => {
      const [first] = asked()
      const response = {
        type: "sync-response",
        docId: "d",
        version: new Uint8Array([1]),
        data: bytes,
      } as const
      const [second, afterOne] = update(received("l1", response), first)
      expect(afterOne).toContainEqual({
        type: "answer-sync",
        to: "c1",
        docId: "d",
        theirVersion: new Uint8Array([0]),
        ref: 3,
      })
      const [, afterTwo] = update(received("l2", response), second)
      expect(afterTwo).toContainEqual({
        type: "import",
        docId: "d",
        data: bytes,
        from: "l2",
        relayTo: ["c1"],
      })
    })

    it("is unavailable to the client only when no link has it", () => {
      const [first] = asked()
      const [second] = update(received("l1", { type: "doc-unavailable", docId: "d" }), first)
      const [, commands] = update(received("l2", { type: "doc-unavailable", docId: "d" }), second)
      expect(commands.some(unavailableTo("c1"))).toBe(true)
    })

    it("a second client asking meanwhile waits too", () => {
      const [first] = asked()
      const [second, meanwhile] = update(
        received("c2", { type: "sync-request", docId: "d", version: new Uint8Array([0]) }),
        first,
      )
      expect(meanwhile.some(unavailableTo("c2"))).toBe(false)
      const [third] = update(received("l1", { type: "doc-unavailable", docId: "d" }), second)
      const [, commands] = update(received("l2", { type: "doc-unavailable", docId: "d" }), third)
      expect(commands.some(unavailableTo("c1"))).toBe(true)
      expect(commands.some(unavailableTo("c2"))).toBe(true)
    })

    it("a link that goes away while awaited no longer holds the answer", () => {
      const [first] = asked()
      const [second] = update(received("l1", { type: "doc-unavailable", docId: "d" }), first)
      const [, commands] = update(
        { type: "conn/closed", channelId: "l2", clean: false, now: 0 } as Msg,
        second,
      )
      expect(commands.some(unavailableTo("c1"))).toBe(true)
    })
  })

  it("a sync request from a link is answered without subscribing the link, and the document may leave memory", () => {
    const [next, commands] = update(
      received("l1", { type: "sync-request", docId: "d", version: new Uint8Array([0]), id: 7 }),
      relay({ docs: [ready("d", [])] }),
    )
    expect(commands).toEqual([
      { type: "answer-sync", to: "l1", docId: "d", theirVersion: new Uint8Array([0]), ref: 7 },
      { type: "schedule", id: "evict:d", delay: 60_000, message: { type: "timer/evict", docId: "d" } },
    ])
    expect(next.docs.get("d")?.synced.size).toBe(0)
  })

  it("a deletion from a client reaches every link, even for a document not in memory", () => {
    const [, commands] = update(received("c1", { type: "doc-delete", docId: "d" }), relay())
    expect(commands).toContainEqual({
      type: "send",
      to: ["l1", "l2"],
      message: { type: "doc-delete", docId: "d" },
    })
  })

  it("a room join over a link follows the room: no member, a snapshot of this instance's clients", () => {
    const [joined] = update(
      received("c1", { type: "room-join", roomId: "r", session: "alice-s", seq: 1, presence: null }),
      relay(),
    )
    const [next, commands] = update(
      received("l1", { type: "room-join", roomId: "r", session: "east-s", seq: 1, presence: null, id: 3 }),
      joined,
    )
    const room = next.rooms.get("r")
    expect(room?.members.keySeq().toArray()).toEqual(["alice"])
    expect(room?.followers.has("l1")).toBe(true)
    const snapshot = commands.find((c) => c.type === "room/send-snapshot")
    expect(snapshot).toMatchObject({ to: "l1", ref: 3, members: [{ peerId: "alice" }] })
  })

  it("a relay's first client in a room makes it follow the room on every link", () => {
    const [, commands] = update(
      received("c1", { type: "room-join", roomId: "r", session: "alice-s", seq: 1, presence: null }),
      relay(),
    )
    expect(commands).toContainEqual({ type: "room/send-join", roomId: "r", to: ["l1", "l2"], seq: 1 })
  })

  it("a broadcast with ack is counted by every instance: the client hears the sum once all answered", () => {
    let model = relay()
    for (const [channel, session] of [
      ["c1", "alice-s"],
      ["c2", "bob-s"],
    ] as const) {
      ;[model] = update(
        received(channel, { type: "room-join", roomId: "r", session, seq: 1, presence: null }),
        model,
      )
    }
    for (const link of ["l1", "l2"]) {
      ;[model] = update(
        received(link, { type: "room-join", roomId: "r", session: "x", seq: 1, presence: null }),
        model,
      )
    }
    const broadcast = {
      type: "room-broadcast" as const,
      roomId: "r",
      from: "alice",
      session: "alice-s",
      seq: 2,
    }
    let commands: readonly Command[]
    ;[model, commands] = update(received("c1", { ...broadcast, event: "e", payload: 1, ack: 9 }), model)
    const toLinks = commands.find((c) => c.type === "send" && c.to.includes("l1"))
    expect(toLinks).toMatchObject({ to: ["l1", "l2"], message: { ack: 1 } })
    ;[model, commands] = update(received("l1", { type: "room-broadcast-ack", ack: 1, delivered: 3 }), model)
    expect(commands).toEqual([])
    ;[model, commands] = update(received("l2", { type: "room-broadcast-ack", ack: 1, delivered: 2 }), model)
    expect(commands).toEqual([
      { type: "send", to: ["c1"], message: { type: "room-broadcast-ack", ack: 9, delivered: 6 } },
    ])
  })

  it("a link that closes takes its instance's members with it at once, and tells only clients", () => {
    let model = relay()
    ;[model] = update(
      received("c1", { type: "room-join", roomId: "r", session: "alice-s", seq: 1, presence: null }),
      model,
    )
    ;[model] = update(
      received("l1", {
        type: "room-member-joined",
        roomId: "r",
        member: { peerId: "carol", session: "carol-s", seq: 1, identity: {}, joinedAt: 0, presence: null },
      }),
      model,
    )
    expect(model.rooms.get("r")?.members.has("carol")).toBe(true)
    const [next, commands] = update({ type: "conn/closed", channelId: "l1", clean: false, now: 1 }, model)
    expect(next.rooms.get("r")?.members.has("carol")).toBe(false)
    expect(commands).toContainEqual({
      type: "send",
      to: ["c1"],
      message: { type: "room-leave", roomId: "r", peerId: "carol", session: "carol-s", seq: 1 },
    })
  })
})
