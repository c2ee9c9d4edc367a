import type { PeerMessage } from "@tandem/repo"
import { describe, expect, it } from "vitest"
import { compareStreamIds, serviceKeys } from "../src/keys.js"
import { OrderedSender } from "../src/ordered-sender.js"
import { decodePacket, encodeControl, encodeData } from "../src/packet.js"

describe("packets", () => {
  it("a data packet carries the sender, its epoch and a message, validated on the way in", () => {
    const message: PeerMessage = { type: "doc-update", docId: "d", data: new Uint8Array([1, 2, 3]) }
    const packet = decodePacket(encodeData("i1", "e1", message))
    expect(packet).toEqual({ kind: "data", peerId: "i1", epoch: "e1", message })
  })

  it("control packets announce, answer and leave", () => {
    for (const kind of ["announce", "answer", "leave"] as const) {
      expect(decodePacket(encodeControl(kind, "i1", "e1"))).toEqual({ kind, peerId: "i1", epoch: "e1" })
    }
  })

  it.each([
    ["bytes that are not CBOR", Buffer.from([0xff, 0xfe])],
    ["a string", Buffer.from([0x63, 0x61, 0x62, 0x63])],
    ["an array of the wrong length", encodeControl("announce", "a", "b").subarray(1)],
    ["an unknown control kind", Buffer.from([0x83, 0x63, 0x62, 0x61, 0x64, 0x61, 0x61, 0x61, 0x62])],
    ["a message that fails validation", Buffer.from([0x83, 0x61, 0x61, 0x61, 0x62, 0x82, 0x0d, 0x01])],
  ])("%s decodes to null", (_, bytes) => {
    expect(decodePacket(bytes)).toBeNull()
  })
})

describe("keys", () => {
  it("every key of a service shares one hash tag, so the layout works on Redis Cluster", () => {
    const keys = serviceKeys("prod")
    const all = [
      keys.instance("a"),
      keys.updates,
      keys.cursor("a"),
      keys.control,
      keys.inbox("a"),
      keys.room("lobby"),
    ]
    for (const key of all) expect(key.match(/\{(.*?)\}/)?.[1]).toBe("prod")
    expect(new Set(all).size).toBe(all.length)
  })

  it("stream ids order by time, then sequence", () => {
    expect(compareStreamIds("1-0", "2-0")).toBeLessThan(0)
    expect(compareStreamIds("5-10", "5-9")).toBeGreaterThan(0)
    expect(compareStreamIds("10-0", "9-99")).toBeGreaterThan(0)
    expect(compareStreamIds("7-1", "7-1")).toBe(0)
  })
})

describe("ordered sends", () => {
  it("sends wait behind a barrier and keep their order; without one they run at once", async () => {
    const sender = new OrderedSender()
    const sent: number[] = []
    sender.send(() => sent.push(1))
    expect(sent).toEqual([1])
    let open!: () => void
    sender.barrier(
      new Promise<void>((resolve) => {
        open = resolve
      }),
    )
    sender.send(() => sent.push(2))
    sender.send(() => sent.push(3))
    expect(sent).toEqual([1])
    open()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(sent).toEqual([1, 2, 3])
    sender.send(() => sent.push(4))
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(sent).toEqual([1, 2, 3, 4])
  })
})
