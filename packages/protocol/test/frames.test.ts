import {
  defaultFrameLimits,
  encodeMessage,
  encodeMessageParts,
  FrameDecoder,
  messageTable,
  toWire,
} from "@tandem/protocol"
import { type PeerMessage, PROTOCOL_VERSION } from "@tandem/repo"
import { Encoder } from "cbor-x"
import fc from "fast-check"
import { describe, expect, it } from "vitest"

const id = fc.string({ minLength: 1, maxLength: 40 })
const uint = fc.nat({ max: 2 ** 40 })
const bytes = fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8Array(b))
// A key named __proto__ is renamed by the decoder (a guard against prototype pollution).
const json: fc.Arbitrary<unknown> = fc
  .jsonValue({ maxDepth: 4 })
  .map((v) => JSON.parse(JSON.stringify(v)))
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'))
const identity = fc.record({ userId: id, name: id }, { requiredKeys: [] })
const member = fc.record(
  { peerId: id, session: id, seq: uint, userId: id, identity, joinedAt: uint, presence: json },
  { requiredKeys: ["peerId", "session", "seq", "identity", "joinedAt", "presence"] },
)
const code = fc.constantFrom("INVALID_MESSAGE", "FORBIDDEN", "ROOM_FULL", "RATE_LIMITED" as const)

/** Any message of the protocol. */
const message: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({
    type: fc.constant("hello"),
    protocol: uint,
    peerId: id,
    session: id,
    identity,
    relay: fc.boolean(),
  }),
  fc.constant({ type: "ping" } as const),
  fc.record({ type: fc.constant("auth"), token: fc.string({ minLength: 1, maxLength: 200 }) }),
  fc.record({ type: fc.constant("auth-ok"), userId: id, expiresIn: uint }, { requiredKeys: ["type"] }),
  fc.record(
    { type: fc.constant("sync-request"), docId: fc.string(), version: bytes, id: uint },
    { requiredKeys: ["type", "docId", "version"] },
  ),
  fc.record(
    { type: fc.constant("sync-response"), docId: fc.string(), version: bytes, data: bytes, ref: uint },
    { requiredKeys: ["type", "docId", "version", "data"] },
  ),
  fc.record({ type: fc.constant("doc-unavailable"), docId: fc.string() }),
  fc.record({ type: fc.constant("doc-update"), docId: fc.string(), data: bytes }),
  fc.record({ type: fc.constant("doc-delete"), docId: fc.string() }),
  fc.record(
    { type: fc.constant("room-join"), roomId: fc.string(), session: id, seq: uint, presence: json, id: uint },
    { requiredKeys: ["type", "roomId", "session", "seq", "presence"] },
  ),
  fc.record({
    type: fc.constant("room-snapshot"),
    roomId: fc.string(),
    members: fc.array(member, { maxLength: 4 }),
  }),
  fc.record({ type: fc.constant("room-member-joined"), roomId: fc.string(), member }),
  fc.record({
    type: fc.constant("room-presence"),
    roomId: fc.string(),
    peerId: id,
    session: id,
    seq: uint,
    presence: json,
  }),
  fc.record({ type: fc.constant("room-leave"), roomId: fc.string(), peerId: id, session: id, seq: uint }),
  fc.record(
    {
      type: fc.constant("room-broadcast"),
      roomId: fc.string(),
      from: id,
      session: id,
      seq: uint,
      event: id,
      payload: json,
      ack: uint,
    },
    { requiredKeys: ["type", "roomId", "from", "session", "seq", "event", "payload"] },
  ),
  fc.record({ type: fc.constant("room-broadcast-ack"), ack: uint, delivered: uint }),
  fc.record(
    {
      type: fc.constant("error"),
      code,
      message: fc.string(),
      ref: uint,
      docId: fc.string(),
      roomId: fc.string(),
    },
    { requiredKeys: ["type", "code", "message"] },
  ),
) as fc.Arbitrary<PeerMessage>

function decodeAll(frames: Uint8Array[], decoder = new FrameDecoder()) {
  const results = frames.map((frame) => decoder.push(frame))
  return results.at(-1)
}

describe("frames", () => {
  it("every message type is in the table", () => {
    const codes = Object.values(messageTable).map((entry) => entry.code)
    expect(new Set(codes).size).toBe(codes.length)
  })

  // Decoding what was encoded gives back the same message, whatever it is.
  it("round-trips every message", () => {
    fc.assert(
      fc.property(message, (original) => {
        const decoded = decodeAll(encodeMessage(original))
        expect(decoded).toEqual({ kind: "message", message: original })
      }),
      { numRuns: 2000 },
    )
  })

  it("fragments a 20 MB document through 1 MB frames and reassembles it", () => {
    const data = new Uint8Array(20 * 1024 * 1024)
    for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff
    const frames = encodeMessage({ type: "doc-update", docId: "big", data }, 1024 * 1024)
    expect(frames.length).toBe(21)
    for (const frame of frames) expect(frame.byteLength).toBeLessThanOrEqual(1024 * 1024)
    const decoder = new FrameDecoder()
    for (const frame of frames.slice(0, -1)) expect(decoder.push(frame)).toEqual({ kind: "partial" })
    const last = decoder.push(frames.at(-1) as Uint8Array)
    expect(last.kind).toBe("message")
    const received = last.kind === "message" && last.message.type === "doc-update" ? last.message.data : null
    expect(received?.byteLength).toBe(data.byteLength)
    expect(received?.findIndex((byte, i) => byte !== data[i])).toBe(-1)
  })

  it("refuses a fragmented message over the reassembly limit before buffering it", () => {
    const frames = encodeMessage({ type: "doc-update", docId: "d", data: new Uint8Array(3000) }, 1000)
    const decoder = new FrameDecoder({ maxFrameBytes: 1000, maxMessageBytes: 2000, maxPartialMessages: 4 })
    expect(decoder.push(frames[0] as Uint8Array)).toMatchObject({ kind: "fatal", code: "MESSAGE_TOO_LARGE" })
  })

  it("refuses fragments out of order and too many streams at once", () => {
    const frames = encodeMessage({ type: "doc-update", docId: "d", data: new Uint8Array(3000) }, 1000)
    expect(new FrameDecoder().push(frames[1] as Uint8Array)).toMatchObject({
      kind: "fatal",
      code: "INVALID_MESSAGE",
    })
    const decoder = new FrameDecoder({ maxFrameBytes: 1000, maxMessageBytes: 1e6, maxPartialMessages: 1 })
    decoder.push(frames[0] as Uint8Array)
    const other = encodeMessage({ type: "doc-update", docId: "e", data: new Uint8Array(3000) }, 1000)
    expect(decoder.push(other[0] as Uint8Array)).toMatchObject({ kind: "fatal", code: "INVALID_MESSAGE" })
  })

  it("refuses a frame over the frame limit and a protocol version it does not speak", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100, maxMessageBytes: 1000, maxPartialMessages: 1 })
    expect(decoder.push(new Uint8Array(101))).toMatchObject({ kind: "fatal", code: "MESSAGE_TOO_LARGE" })
    const [frame] = encodeMessage({ type: "ping" })
    const future = Uint8Array.from(frame as Uint8Array)
    future[0] = PROTOCOL_VERSION + 1
    expect(decoder.push(future)).toMatchObject({
      kind: "fatal",
      code: "UNSUPPORTED_PROTOCOL",
      reason: expect.stringContaining(`speaks ${PROTOCOL_VERSION}`),
    })
  })

  it("answers a well-framed but malformed message as invalid, naming its request when it can", () => {
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
    const frame = (wire: unknown) => {
      const body = cbor.encode(wire)
      return Uint8Array.from([PROTOCOL_VERSION, 0, ...body])
    }
    const decoder = new FrameDecoder()
    expect(decoder.push(frame([99]))).toMatchObject({
      kind: "invalid",
      reason: expect.stringContaining("unknown"),
    })
    expect(decoder.push(frame({ not: "an array" }))).toMatchObject({ kind: "invalid" })
    expect(decoder.push(frame([10, "doc", "not bytes", 7]))).toEqual({
      kind: "invalid",
      reason: "sync-request.version is not a valid bytes",
      ref: 7,
    })
    expect(decoder.push(frame([10, "doc", "not bytes", -10]))).toEqual({
      kind: "invalid",
      reason: "sync-request.version is not a valid bytes",
    })
    // Byte strings, or nesting past the depth limit, are not JSON.
    expect(decoder.push(frame([23, "r", "p", "s", 1, { x: new Uint8Array([1]) }]))).toMatchObject({
      kind: "invalid",
    })
    let deep: unknown = 1
    for (let i = 0; i < 40; i++) deep = [deep]
    expect(decoder.push(frame([23, "r", "p", "s", 1, deep]))).toMatchObject({ kind: "invalid" })
    expect(decoder.push(Uint8Array.from([PROTOCOL_VERSION, 0, 0xff, 0x00]))).toMatchObject({
      kind: "invalid",
    })
  })

  // No byte string makes the decoder throw: it answers message, partial, invalid or fatal.
  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (frame) => {
        const result = new FrameDecoder().push(frame)
        expect(["message", "partial", "invalid", "fatal"]).toContain(result.kind)
      }),
      { numRuns: 5000 },
    )
  })

  // A frame built from pieces is byte for byte the frame of a plain encoding of the whole message.
  it("builds frames around a large byte field without copying it, the same bytes as a plain encoding", () => {
    const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
    fc.assert(
      fc.property(
        fc.integer({ min: 16 * 1024, max: 200_000 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.constantFrom(1000, 64 * 1024, 1024 * 1024),
        (size, ref, maxFrameBytes) => {
          const data = new Uint8Array(size).map((_, i) => i % 251)
          const message: PeerMessage = {
            type: "sync-response",
            docId: "doc",
            version: new Uint8Array([1, 2, 3]),
            data,
            ...(ref !== undefined && { ref }),
          }
          const parts = encodeMessageParts(message, maxFrameBytes)
          const joined = parts.map(concat)
          const decoder = new FrameDecoder({ ...defaultFrameLimits, maxFrameBytes })
          const decoded = joined.map((frame) => decoder.push(frame)).at(-1)
          if (decoded?.kind !== "message" || decoded.message.type !== "sync-response")
            throw new Error("no message")
          expect(Buffer.from(decoded.message.data).equals(data)).toBe(true)
          expect({ ...decoded.message, data: null }).toEqual({ ...message, data: null })
          // No frame holds a copy of the snapshot: its pieces are views of `data` itself.
          const shared = parts.flat().filter((part) => part.buffer === data.buffer)
          expect(shared.reduce((n, part) => n + part.byteLength, 0)).toBe(size)
          const headerBytes = parts.length === 1 ? 2 : 14
          const body = concat(joined.map((frame) => frame.subarray(headerBytes)))
          expect(Buffer.from(body).equals(cbor.encode(toWire(message)))).toBe(true)
        },
      ),
      { numRuns: 25 },
    )
  })

  it("encodes a message sent to many channels once, and passes on a received frame as it came", () => {
    const presence: PeerMessage = {
      type: "room-presence",
      roomId: "r",
      peerId: "p",
      session: "s",
      seq: 1,
      presence: { x: 1 },
    }
    expect(encodeMessage(presence)).toBe(encodeMessage(presence))
    const [frame] = encodeMessage({ ...presence })
    const decoded = new FrameDecoder().push(frame as Uint8Array)
    if (decoded.kind !== "message") throw new Error("expected a message")
    expect(encodeMessage(decoded.message)[0]).toBe(frame)
  })
})

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}
