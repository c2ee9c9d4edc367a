import type { IncomingMessage, Server } from "node:http"
import type { Duplex } from "node:stream"
import { getLogger } from "@logtape/logtape"
import {
  CloseCodes,
  closeCodeFor,
  defaultFrameLimits,
  encodedSize,
  FrameDecoder,
  type FrameLimits,
} from "@tandem/protocol"
import type { Channel, ErrorCode, NetworkAdapter, NetworkEvents, PeerMessage } from "@tandem/repo"
import { type RawData, type WebSocket, WebSocketServer } from "ws"
import { Outbox } from "./outbox.js"
import { TokenBucket } from "./token-bucket.js"

const log = getLogger(["tandem", "websocket", "server"])

export interface ServerLimits {
  /** Messages per second per connection, and the burst allowed above it. */
  messagesPerSecond: number
  burst: number
  /** A connection kept over its rate this long is closed as abusive (`RATE_LIMITED`, ms). */
  throttledBeforeClose: number
  /** Frames a throttled connection may have waiting; past it, it is closed as abusive. */
  maxQueuedFrames: number
  /** Largest presence value a client may send (bytes as encoded): `PRESENCE_TOO_LARGE`. */
  maxPresenceBytes: number
  /** Largest broadcast payload (bytes as encoded): `MESSAGE_TOO_LARGE`. */
  maxBroadcastBytes: number
  /** Open connections per client IP address; more are refused during the upgrade. */
  maxConnectionsPerIp: number
  /** Bytes queued for a client that does not read; past it the client is disconnected. */
  maxBufferedBytes: number
}

export const defaultServerLimits: ServerLimits = {
  messagesPerSecond: 200,
  burst: 400,
  throttledBeforeClose: 10_000,
  maxQueuedFrames: 10_000,
  maxPresenceBytes: 4 * 1024,
  maxBroadcastBytes: 64 * 1024,
  maxConnectionsPerIp: 1000,
  maxBufferedBytes: 64 * 1024 * 1024,
}

export interface WebSocketServerAdapterOptions {
  /** The HTTP server whose upgrades this adapter takes (it shares the port with HTTP endpoints). */
  server: Server
  /** Only upgrades to this path are taken (default: any path). */
  path?: string
  frames?: Partial<FrameLimits>
  limits?: Partial<ServerLimits>
  /**
   * Connections start untrusted: at most `handshakeMessages` messages of `handshakeBytes` in all
   * are read until `channel.trust()` is called (after the handshake was authenticated); past
   * either, the connection is closed with `UNAUTHORIZED`. Default: trusted at once.
   */
  untrusted?: { handshakeBytes: number; handshakeMessages: number }
  /** Told about every message in and out, for metrics. */
  observer?: TrafficObserver
}

export interface TrafficObserver {
  received(type: PeerMessage["type"], bytes: number): void
  sent(type: PeerMessage["type"], bytes: number, channels: number): void
  refused(code: ErrorCode): void
}

/**
 * What a connection's HTTP request said. Only this is kept: the `IncomingMessage` itself (a stream
 * with its state and raw headers) would stay in memory for the connection's whole life.
 */
export interface ChannelRequest {
  readonly headers: IncomingMessage["headers"]
  readonly url: string
}

/** A connection as the server side sees it: the HTTP request it came with, and trust. */
export interface ServerChannel extends Channel {
  readonly request: ChannelRequest
  readonly ip: string
  /** Lifts the handshake limits: the connection is authenticated. */
  trust(): void
  /** Closes with the close code of `code` (or `normal` for a goodbye). */
  end(code: ErrorCode | "normal", reason: string): void
}

/**
 * The server side of WebSocket connections: one channel per client. Everything a client sends is
 * checked here, at the edge, before the repo sees it: framing, size, rate, shape. A bad message
 * gets an error with a code and is dropped; a broken frame closes that connection only.
 */
export class WebSocketServerAdapter implements NetworkAdapter {
  readonly kind = "websocket-server"
  readonly #options: WebSocketServerAdapterOptions
  readonly #limits: ServerLimits
  readonly #frames: FrameLimits
  readonly #sockets = new Set<WebSocket>()
  readonly #perIp = new Map<string, number>()
  readonly #outbox: Outbox
  #wss: WebSocketServer | null = null
  #events: NetworkEvents | null = null
  readonly #upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.#onUpgrade(request, socket, head)

  constructor(options: WebSocketServerAdapterOptions) {
    this.#options = options
    this.#limits = { ...defaultServerLimits, ...options.limits }
    this.#frames = { ...defaultFrameLimits, ...options.frames }
    this.#outbox = new Outbox(this.#frames.maxFrameBytes)
  }

  /** Connections open right now. */
  get connections(): number {
    return this.#sockets.size
  }

  async start(events: NetworkEvents): Promise<void> {
    this.#events = events
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#frames.maxFrameBytes,
      perMessageDeflate: false,
      // Clients that carry a token in `Sec-WebSocket-Protocol` offer `tandem` beside it: the
      // answer names `tandem` only, never echoing the token.
      handleProtocols: (protocols) => (protocols.has("tandem") ? "tandem" : false),
    })
    this.#options.server.on("upgrade", this.#upgrade)
  }

  /** Closes every connection with `code` (a goodbye by default) and stops taking new ones. */
  async stop(code: number = CloseCodes.GOING_AWAY, reason = "server stopping"): Promise<void> {
    this.#options.server.off("upgrade", this.#upgrade)
    const closed = [...this.#sockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once("close", () => resolve())
          socket.close(code, reason)
          // A client that does not answer the close handshake is cut off.
          setTimeout(() => socket.terminate(), 1000).unref()
        }),
    )
    await Promise.all(closed)
    this.#wss?.close()
    this.#wss = null
  }

  #onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.#wss
    if (!wss) return
    if (this.#options.path && new URL(request.url ?? "/", "http://x").pathname !== this.#options.path) return
    const ip = request.socket.remoteAddress ?? "unknown"
    const open = this.#perIp.get(ip) ?? 0
    if (open >= this.#limits.maxConnectionsPerIp) {
      socket.end("HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
      return
    }
    this.#perIp.set(ip, open + 1)
    wss.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, ip, request))
  }

  #accept(ws: WebSocket, ip: string, request: IncomingMessage): void {
    const events = this.#events
    if (!events) return ws.close(CloseCodes.GOING_AWAY, "server stopping")
    this.#sockets.add(ws)
    const limits = this.#limits
    const outbox = this.#outbox
    const { untrusted } = this.#options
    const observer = this.#options.observer
    // Until trusted, a connection may send one small message: its handshake.
    let decoder = untrusted
      ? new FrameDecoder({
          ...this.#frames,
          maxFrameBytes: untrusted.handshakeBytes,
          maxMessageBytes: untrusted.handshakeBytes,
        })
      : new FrameDecoder(this.#frames)
    let trusted = !untrusted
    let handshakeMessages = 0
    let handshakeBytes = 0
    const bucket = new TokenBucket(limits.messagesPerSecond, limits.burst, Date.now())
    let closed = false

    const send = (message: PeerMessage) => {
      if (ws.readyState !== 1) return
      if (ws.bufferedAmount > limits.maxBufferedBytes) {
        log.warn("closing a connection that stopped reading ({bytes} bytes queued)", {
          bytes: ws.bufferedAmount,
        })
        ws.close(CloseCodes.SLOW_CONSUMER, "too far behind")
        return
      }
      const bytes = outbox.send(ws, message)
      observer?.sent(message.type, bytes, 1)
    }
    const sendError = (code: ErrorCode, message: string, ref?: number, extra: Partial<PeerMessage> = {}) => {
      observer?.refused(code)
      send({ type: "error", code, message, ...(ref !== undefined && { ref }), ...extra } as PeerMessage)
    }
    const channel: ServerChannel = {
      request: { headers: request.headers, url: request.url ?? "/" },
      ip,
      send,
      close: (clean, code, reason) => {
        // A dead connection gets no close handshake: it could not answer one.
        if (code === "TIMEOUT") return ws.terminate()
        ws.close(clean ? CloseCodes.NORMAL : code ? closeCodeFor(code) : CloseCodes.GOING_AWAY, reason)
      },
      trust: () => {
        if (trusted) return
        trusted = true
        decoder = new FrameDecoder(this.#frames)
      },
      end: (code, reason) => {
        if (code !== "normal") observer?.refused(code)
        ws.close(code === "normal" ? CloseCodes.NORMAL : closeCodeFor(code), reason)
      },
    }

    const handle = (data: RawData) => {
      const bytes = toBytes(data)
      const decoded = decoder.push(bytes)
      switch (decoded.kind) {
        case "partial":
          return
        case "invalid":
          return sendError("INVALID_MESSAGE", decoded.reason, decoded.ref)
        case "fatal":
          observer?.refused(decoded.code)
          return ws.close(closeCodeFor(decoded.code), decoded.reason)
        case "message": {
          const refusal = this.#overLimit(decoded.message)
          if (refusal)
            return sendError(refusal.code, refusal.message, refusal.ref, { roomId: refusal.roomId })
          // A client is never a relay: it may speak only for itself, whatever its hello claims.
          const message =
            decoded.message.type === "hello" ? { ...decoded.message, relay: false } : decoded.message
          observer?.received(message.type, bytes.byteLength)
          return events.received(channel, message)
        }
      }
    }

    // Over its rate, a connection is slowed down, not cut short: frames wait here and reading
    // pauses, so TCP pushes back on the client and nothing it sent is lost. Only a connection kept
    // over its rate for long is closed as abusive.
    const inbox: RawData[] = []
    // When the connection was first held back in this spell, and last held back: a spell ends
    // after a second without being held back.
    let throttledSince: number | null = null
    let throttledAt = 0
    let resumeTimer: ReturnType<typeof setTimeout> | undefined
    const pump = () => {
      resumeTimer = undefined
      while (inbox.length > 0 && !closed && bucket.take(Date.now())) handle(inbox.shift() as RawData)
      if (closed) return
      const now = Date.now()
      if (inbox.length === 0) {
        if (ws.isPaused) ws.resume()
        return
      }
      if (throttledSince === null || now - throttledAt > 1000) {
        throttledSince = now
        sendError("RATE_LIMITED", `over ${limits.messagesPerSecond} messages a second: slowed down`)
      }
      throttledAt = now
      if (now - throttledSince > limits.throttledBeforeClose || inbox.length > limits.maxQueuedFrames) {
        inbox.length = 0
        // Read again, or the client's answer to the close waits behind its own flood.
        if (ws.isPaused) ws.resume()
        ws.close(CloseCodes.RATE_LIMITED, "sustained message flood")
        setTimeout(() => ws.terminate(), 1000).unref()
        return
      }
      if (!ws.isPaused) ws.pause()
      resumeTimer = setTimeout(pump, Math.ceil(1000 / limits.messagesPerSecond))
    }

    ws.on("message", (data, isBinary) => {
      if (closed || ws.readyState !== 1) return
      if (!isBinary) return ws.close(CloseCodes.INVALID_MESSAGE, "frames are binary")
      if (!trusted && untrusted) {
        handshakeBytes += toBytes(data).byteLength
        if (++handshakeMessages > untrusted.handshakeMessages || handshakeBytes > untrusted.handshakeBytes) {
          observer?.refused("UNAUTHORIZED")
          return ws.close(CloseCodes.UNAUTHORIZED, "only the handshake before authentication")
        }
      }
      inbox.push(data)
      if (inbox.length === 1 && resumeTimer === undefined) pump()
    })
    ws.on("close", (code) => {
      closed = true
      clearTimeout(resumeTimer)
      this.#sockets.delete(ws)
      const left = (this.#perIp.get(ip) ?? 1) - 1
      if (left > 0) this.#perIp.set(ip, left)
      else this.#perIp.delete(ip)
      events.closed(channel, { clean: code === CloseCodes.NORMAL })
    })
    ws.on("error", (error) => log.debug("connection error: {error}", { error }))
    events.opened(channel)
  }

  #overLimit(
    message: PeerMessage,
  ): { code: ErrorCode; message: string; ref?: number; roomId: string } | null {
    const { maxPresenceBytes, maxBroadcastBytes } = this.#limits
    if (message.type === "room-join" || message.type === "room-presence") {
      const size = encodedSize(message.presence)
      if (size > maxPresenceBytes) {
        return {
          code: "PRESENCE_TOO_LARGE",
          message: `presence of ${size} bytes is over the limit of ${maxPresenceBytes}`,
          roomId: message.roomId,
          ...(message.type === "room-join" && message.id !== undefined && { ref: message.id }),
        }
      }
    }
    if (message.type === "room-broadcast") {
      const size = encodedSize(message.payload)
      if (size > maxBroadcastBytes) {
        return {
          code: "MESSAGE_TOO_LARGE",
          message: `a broadcast payload of ${size} bytes is over the limit of ${maxBroadcastBytes}`,
          roomId: message.roomId,
          ...(message.ack !== undefined && { ref: message.ack }),
        }
      }
    }
    return null
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data as Buffer[]))
  return new Uint8Array(data as ArrayBuffer)
}
