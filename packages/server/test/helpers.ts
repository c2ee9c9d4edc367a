import { WebSocketClientAdapter } from "@tandem/adapter-websocket"
import { encodeMessage, FrameDecoder } from "@tandem/protocol"
import { type Json, type PeerMessage, Repo, type RepoOptions, type Room } from "@tandem/repo"
import { WebSocket } from "ws"

export interface Client {
  repo: Repo
  adapter: WebSocketClientAdapter
}

/** A repo connected to a relay the way an application connects one, with quick retries for tests. */
export function connect(url: string, options: RepoOptions = {}): Client {
  const adapter = new WebSocketClientAdapter({
    url,
    WebSocket,
    reconnect: { initialDelay: 20, maxDelay: 200 },
    connectTimeout: 500,
  })
  const repo = new Repo({ ...options, network: [adapter] })
  return { repo, adapter }
}

/** Resolves once the adapter reaches `state`. */
export function until(
  adapter: WebSocketClientAdapter,
  state: WebSocketClientAdapter["state"],
): Promise<void> {
  if (adapter.state === state) return Promise.resolve()
  return new Promise((resolve) => {
    const stop = adapter.on("state", (now) => {
      if (now !== state) return
      stop()
      resolve()
    })
  })
}

/** A raw WebSocket that speaks the protocol by hand: for tests that misbehave on purpose. */
export class RawClient {
  readonly received: PeerMessage[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  readonly #decoder = new FrameDecoder()
  readonly #waiters: (() => void)[] = []

  private constructor(readonly socket: WebSocket) {
    socket.binaryType = "nodebuffer"
    socket.on("message", (data: Buffer) => {
      const decoded = this.#decoder.push(new Uint8Array(data))
      if (decoded.kind === "message") this.received.push(decoded.message)
      for (const wake of this.#waiters.splice(0)) wake()
    })
    this.closed = new Promise((resolve) => {
      socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() })
        for (const wake of this.#waiters.splice(0)) wake()
      })
    })
  }

  static async open(url: string, protocols?: string[]): Promise<RawClient> {
    const socket = new WebSocket(url, protocols)
    // Listening before the socket opens: a relay may speak first (an `auth-ok` for header credentials).
    const client = new RawClient(socket)
    await new Promise((resolve, reject) => {
      socket.once("open", resolve)
      socket.once("error", reject)
    })
    return client
  }

  send(message: PeerMessage): void {
    for (const frame of encodeMessage(message)) this.socket.send(frame)
  }

  sendBytes(frame: Uint8Array): void {
    this.socket.send(frame)
  }

  hello(peerId: string, extra: Partial<PeerMessage> = {}): void {
    this.send({
      type: "hello",
      protocol: 1,
      peerId,
      session: `${peerId}-session`,
      identity: {},
      relay: false,
      ...extra,
    } as PeerMessage)
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN
  }

  /** Resolves once a received message matches (or the socket closed). */
  async next(matches: (message: PeerMessage) => boolean): Promise<PeerMessage | null> {
    for (;;) {
      const found = this.received.find(matches)
      if (found) {
        this.received.splice(this.received.indexOf(found), 1)
        return found
      }
      if (this.socket.readyState >= WebSocket.CLOSING) return null
      await new Promise<void>((resolve) => this.#waiters.push(resolve))
    }
  }

  close(): void {
    this.socket.terminate()
  }
}

/** Resolves once the room lists `count` members, waking on membership events only. */
export async function untilMembers<P extends Json>(room: Room<P>, count: number): Promise<void> {
  while (room.getMembers().length !== count) {
    await new Promise<void>((resolve) => {
      const stops = [room.on("member-joined", done), room.on("member-left", done), room.on("sync", done)]
      function done() {
        for (const stop of stops) stop()
        resolve()
      }
    })
  }
}
