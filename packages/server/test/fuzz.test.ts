import { encodeMessage, FrameDecoder, toWire } from "@tandem/protocol"
import { MemoryStorage, type PeerMessage, PROTOCOL_VERSION, Repo } from "@tandem/repo"
import { createServer } from "@tandem/server"
import { Encoder } from "cbor-x"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { connect, RawClient } from "./helpers.js"

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
const frame = (body: Uint8Array, kind = 0) => Uint8Array.from([PROTOCOL_VERSION, kind, ...body])

/** Valid messages, to mutate and to send as they are. */
const validMessage: fc.Arbitrary<PeerMessage> = fc.oneof(
  fc.record({ type: fc.constant("ping" as const) }),
  fc.record({
    type: fc.constant("sync-request" as const),
    docId: fc.string({ maxLength: 8 }),
    version: fc.uint8Array({ maxLength: 16 }),
    id: fc.nat(),
  }),
  fc.record({
    type: fc.constant("doc-update" as const),
    docId: fc.string({ maxLength: 8 }),
    data: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({
    type: fc.constant("room-join" as const),
    roomId: fc.string({ maxLength: 8 }),
    session: fc.string({ minLength: 1, maxLength: 8 }),
    seq: fc.nat(),
    presence: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<never>,
    id: fc.nat(),
  }),
  fc.record({
    type: fc.constant("room-presence" as const),
    roomId: fc.string({ maxLength: 8 }),
    peerId: fc.string({ minLength: 1, maxLength: 8 }),
    session: fc.string({ minLength: 1, maxLength: 8 }),
    seq: fc.nat(),
    presence: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<never>,
  }),
  fc.record({
    type: fc.constant("room-broadcast" as const),
    roomId: fc.string({ maxLength: 8 }),
    from: fc.string({ minLength: 1, maxLength: 8 }),
    session: fc.string({ minLength: 1, maxLength: 8 }),
    seq: fc.nat(),
    event: fc.string({ minLength: 1, maxLength: 8 }),
    payload: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<never>,
    ack: fc.nat(),
  }),
  fc.record({
    type: fc.constant("room-leave" as const),
    roomId: fc.string({ maxLength: 8 }),
    peerId: fc.string({ minLength: 1, maxLength: 8 }),
    session: fc.string({ minLength: 1, maxLength: 8 }),
    seq: fc.nat(),
  }),
  fc.record({ type: fc.constant("doc-delete" as const), docId: fc.string({ maxLength: 8 }) }),
) as fc.Arbitrary<PeerMessage>

/** Frames that are well framed but carry no valid message: each must be answered with INVALID_MESSAGE. */
const invalidFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => frame(bytes)),
  fc.anything({ maxDepth: 3 }).map((value) => frame(cbor.encode(value))),
  fc.tuple(validMessage, fc.nat(), fc.nat(255)).map(([message, at, byte]) => {
    const body = cbor.encode(toWire(message))
    const mutated = Uint8Array.from(body)
    mutated[at % mutated.length] = byte
    return frame(mutated)
  }),
  fc.tuple(validMessage, fc.nat()).map(([message, cut]) => {
    const body = cbor.encode(toWire(message))
    return frame(body.subarray(0, cut % body.length))
  }),
  fc.tuple(validMessage, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([message, tail]) => {
    const body = cbor.encode(toWire(message))
    return frame(Uint8Array.from([...body, ...tail]))
  }),
)

/** Frames whose framing itself is broken: the connection must be closed. */
const fatalFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constant(Uint8Array.from([PROTOCOL_VERSION])),
  fc.integer({ min: 2, max: 255 }).map((kind) => Uint8Array.from([PROTOCOL_VERSION, kind, 1, 2])),
  fc.integer({ min: PROTOCOL_VERSION + 1, max: 255 }).map((version) => Uint8Array.from([version, 0, 0x80])),
  fc
    .uint8Array({ minLength: 12, maxLength: 12 })
    .map((header) => Uint8Array.from([PROTOCOL_VERSION, 1, ...header, 9])),
)

const classify = (bytes: Uint8Array) => new FrameDecoder().push(bytes).kind

describe("bad input", () => {
  it("100,000 random and mutated frames: every bad frame is answered, nothing crashes, others carry on, storage is intact", async () => {
    const storage = new MemoryStorage()
    const seed = new Repo({ storage, saveDelay: 0 })
    seed.get("precious").change((doc) => doc.getText("t").insert(0, "do not touch"))
    await seed.shutdown()
    const before = JSON.stringify(await storage.load("precious"), (_, v) =>
      v instanceof Uint8Array ? [...v] : v,
    )

    const server = await createServer({
      port: 0,
      host: "127.0.0.1",
      storage,
      limits: { messagesPerSecond: 1e9, burst: 1e9 },
      // The fuzzers never say hello: on a loaded machine the run outlasts the default 10 s.
      auth: { handshakeTimeout: 600_000 },
    })
    const a = connect(server.url, { peerId: "a" })
    const b = connect(server.url, { peerId: "b" })
    try {
      const live = a.repo.get("live")
      const seen = b.repo.get("live")
      a.repo.joinRoom("calm", { presence: { n: 0 } })
      const watcher = b.repo.joinRoom("calm")

      const invalid = fc
        .sample(invalidFrame, { numRuns: 95_000, seed: 42 })
        .filter((f) => classify(f) === "invalid")
      const fatal = fc.sample(fatalFrame, { numRuns: 2_000, seed: 43 }).filter((f) => classify(f) === "fatal")
      const valid = fc.sample(validMessage, { numRuns: 18_000, seed: 44 })
      expect(invalid.length + fatal.length + valid.length).toBeGreaterThanOrEqual(100_000)

      let edits = 0
      const edit = () => {
        live.change((doc) => doc.getText("t").insert(0, "x"))
        a.repo.getRoom("calm")?.setPresence({ n: ++edits })
      }

      // Well-framed garbage: exactly one INVALID_MESSAGE per frame, and the connection stays open.
      const fuzzers = await Promise.all([0, 1, 2, 3].map(() => RawClient.open(server.url)))
      const chunks = 200
      for (let start = 0; start < invalid.length; start += chunks) {
        const part = invalid.slice(start, start + chunks)
        await Promise.all(
          fuzzers.map(async (fuzzer, f) => {
            const mine = part.filter((_, i) => i % fuzzers.length === f)
            for (const bytes of mine) fuzzer.sendBytes(bytes)
            for (let i = 0; i < mine.length; i++) {
              const error = await fuzzer.next((m) => m.type === "error")
              expect(error).toMatchObject({ type: "error", code: "INVALID_MESSAGE" })
            }
          }),
        )
        edit()
      }
      for (const fuzzer of fuzzers) expect(fuzzer.isOpen).toBe(true)

      // Broken framing: that connection, and only that one, is closed.
      for (const [i, bytes] of fatal.entries()) {
        const fuzzer = await RawClient.open(server.url)
        fuzzer.sendBytes(bytes)
        const { code } = await fuzzer.closed
        expect(code).toBeGreaterThanOrEqual(4000)
        if (i % 100 === 0) edit()
      }

      // Valid messages of every kind in any order, after a handshake: the relay stays up.
      for (const [f, fuzzer] of fuzzers.entries()) fuzzer.hello(`fuzzer-${f}`)
      for (const [i, message] of valid.entries()) {
        const fuzzer = fuzzers[i % fuzzers.length] as RawClient
        if (fuzzer.isOpen) for (const bytes of encodeMessage(message)) fuzzer.sendBytes(bytes)
        if (i % 1000 === 0) edit()
      }
      for (const fuzzer of fuzzers) fuzzer.close()

      // The legitimate clients saw everything, undisturbed.
      edit()
      while (seen.doc.getText("t").length < edits) {
        await new Promise<void>((resolve) => {
          const stop = seen.on("change", () => {
            stop()
            resolve()
          })
        })
      }
      expect(seen.doc.getText("t").toString()).toBe("x".repeat(edits))
      while (
        watcher
          .getMembers()
          .find((m) => m.peerId === "a")
          ?.presence?.valueOf() === undefined ||
        (watcher.getMembers().find((m) => m.peerId === "a")?.presence as { n: number }).n !== edits
      ) {
        await new Promise<void>((resolve) => {
          const stop = watcher.on("member-updated", () => {
            stop()
            resolve()
          })
        })
      }
      const after = JSON.stringify(await storage.load("precious"), (_, v) =>
        v instanceof Uint8Array ? [...v] : v,
      )
      expect(after).toBe(before)
      expect((await fetch(`http://127.0.0.1:${server.port}/healthz`)).status).toBe(200)
    } finally {
      await Promise.all([a.repo.shutdown(), b.repo.shutdown()])
      await server.close()
    }
  }, 120_000)
})
