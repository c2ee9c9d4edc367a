import { afterEach, describe, expect, it } from "vitest"
import type { Channel, ChannelClosed, NetworkAdapter, NetworkEvents } from "../adapters/network.js"
import type { PeerMessage } from "../peer-message.js"
import { Repo } from "../repo.js"

/** Two adapters that, once both are started, have exactly one channel between them. */
export interface NetworkPair {
  a: NetworkAdapter
  b: NetworkAdapter
  /** Stops whatever the pair needs besides the adapters (a server, a bridge). */
  teardown?: () => Promise<void>
}

/** Records what an adapter reports, with a way to wait for it. */
class Recorder implements NetworkEvents {
  readonly channels: Channel[] = []
  readonly messages: PeerMessage[] = []
  readonly closes: ChannelClosed[] = []
  readonly #waiters: (() => void)[] = []

  opened(channel: Channel): void {
    this.channels.push(channel)
    this.#wake()
  }
  received(_channel: Channel, message: PeerMessage): void {
    this.messages.push(message)
    this.#wake()
  }
  closed(_channel: Channel, how: ChannelClosed): void {
    this.closes.push(how)
    this.#wake()
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve))
  }

  #wake(): void {
    for (const resolve of this.#waiters.splice(0)) resolve()
  }
}

const samples: PeerMessage[] = [
  { type: "ping" },
  {
    type: "hello",
    protocol: 1,
    peerId: "p-ü-🦊",
    session: "s",
    identity: { userId: "u", name: "Zoë", nested: { list: [1, "two", null, true] } },
    relay: false,
  },
  { type: "sync-request", docId: "d", version: new Uint8Array([0]) },
  {
    type: "sync-response",
    docId: "d",
    version: new Uint8Array([1, 2]),
    data: new Uint8Array(Array.from({ length: 256 }, (_, i) => i)),
  },
  { type: "doc-update", docId: "d", data: new Uint8Array(0) },
  {
    type: "room-broadcast",
    roomId: "r",
    from: "p",
    session: "s",
    seq: 3,
    event: "cursor",
    payload: { x: 1.5, y: -2, tags: ["a"] },
    ack: 7,
  },
  { type: "error", code: "INVALID_MESSAGE", message: "bad", ref: 7 },
]

/**
 * The behaviour every network adapter must have. `pair` builds two connected adapters, fresh for
 * each test.
 */
export function networkConformance(name: string, pair: () => Promise<NetworkPair>): void {
  describe(`network conformance: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = []
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
    })

    async function connected() {
      const { a, b, teardown } = await pair()
      const left = new Recorder()
      const right = new Recorder()
      cleanups.push(async () => {
        await a.stop()
        await b.stop()
        await teardown?.()
      })
      await Promise.all([a.start(left), b.start(right)])
      await left.until(() => left.channels.length === 1)
      await right.until(() => right.channels.length === 1)
      return { a, b, left, right }
    }

    it("opens one channel on each side", async () => {
      const { left, right } = await connected()
      expect(left.channels).toHaveLength(1)
      expect(right.channels).toHaveLength(1)
    })

    it("delivers every kind of message intact and in order, both ways", async () => {
      const { left, right } = await connected()
      for (const message of samples) left.channels[0]?.send(message)
      for (const message of [...samples].reverse()) right.channels[0]?.send(message)
      await right.until(() => right.messages.length === samples.length)
      await left.until(() => left.messages.length === samples.length)
      expect(right.messages).toEqual(samples)
      expect(left.messages).toEqual([...samples].reverse())
    })

    it("delivers a large message", async () => {
      const { left, right } = await connected()
      const data = new Uint8Array(4 * 1024 * 1024)
      for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff
      left.channels[0]?.send({ type: "doc-update", docId: "big", data })
      await right.until(() => right.messages.length === 1)
      const received = right.messages[0]
      expect(received?.type === "doc-update" && received.docId).toBe("big")
      // Compared byte by byte here: a deep equality of 4 MB takes seconds.
      const got = received?.type === "doc-update" ? received.data : new Uint8Array(0)
      expect(got.byteLength).toBe(data.byteLength)
      expect(got.findIndex((byte, i) => byte !== data[i])).toBe(-1)
    })

    it("tells the far end about a clean close", async () => {
      const { left, right } = await connected()
      left.channels[0]?.close(true)
      await right.until(() => right.closes.length === 1)
      expect(right.closes[0]?.clean).toBe(true)
    })

    it("tells the far end about an abrupt close", async () => {
      const { left, right } = await connected()
      left.channels[0]?.close(false)
      await right.until(() => right.closes.length === 1)
      expect(right.closes[0]?.clean).toBe(false)
    })

    it("closes its channels when stopped", async () => {
      const { a, right } = await connected()
      await a.stop()
      await right.until(() => right.closes.length === 1)
      expect(right.closes).toHaveLength(1)
    })

    it("syncs two repos", async () => {
      const { a, b, teardown } = await pair()
      const left = new Repo({ network: [a] })
      const right = new Repo({ network: [b] })
      cleanups.push(async () => {
        await left.shutdown()
        await right.shutdown()
        await teardown?.()
      })
      left.get("doc").change((doc) => doc.getText("t").insert(0, "over the wire"))
      const handle = right.get("doc")
      await until(handle, () => handle.doc.getText("t").toString() === "over the wire")
      expect(handle.doc.getText("t").toString()).toBe("over the wire")
    })
  })
}

async function until(
  handle: { on(event: "change", listener: () => void): () => void },
  condition: () => boolean,
): Promise<void> {
  while (!condition()) {
    await new Promise<void>((resolve) => {
      const stop = handle.on("change", () => {
        stop()
        resolve()
      })
    })
  }
}
