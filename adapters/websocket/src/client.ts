import { getLogger } from "@logtape/logtape"
import {
  CloseCodes,
  closeCodeFor,
  defaultFrameLimits,
  encodeMessage,
  errorCodeFor,
  FrameDecoder,
  type FrameLimits,
  isPermanentClose,
} from "@tandem/protocol"
import type { Channel, ErrorCode, NetworkAdapter, NetworkEvents, PeerMessage } from "@tandem/repo"
import { EventEmitter } from "eventemitter3"
import { type BackoffOptions, backoffDelay, defaultBackoff } from "./backoff.js"

const log = getLogger(["tandem", "websocket", "client"])

export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed"

/**
 * The part of the WebSocket API the adapter uses: the browser's and `ws`'s both have it. Handler
 * parameters are `any` because the two declare their event types differently.
 */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onopen: ((event: any) => void) | null
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onmessage: ((event: any) => void) | null
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onclose: ((event: any) => void) | null
  // biome-ignore lint/suspicious/noExplicitAny: see above
  onerror: ((event: any) => void) | null
}

export type WebSocketFactory = new (url: string) => WebSocketLike

export interface WebSocketClientOptions {
  /** The relay's address, or a function asked before each attempt (to move to another relay). */
  url: string | (() => string)
  /** The WebSocket class: the browser's by default; in Node 20, pass `WebSocket` from `ws`. */
  WebSocket?: WebSocketFactory
  reconnect?: Partial<BackoffOptions>
  frames?: Partial<FrameLimits>
  /** An attempt that is not open after this long is abandoned and retried (ms, default 10 s). */
  connectTimeout?: number
  /**
   * Credentials for a relay that authenticates. Called before every connection attempt, and again
   * over the open connection before the relay's deadline for the token (see `refreshBefore`). A
   * throw counts as a failed attempt (retried with backoff).
   */
  getToken?: () => string | Promise<string>
  /** Fresh credentials are sent this long before the current ones expire, or at half their life if that is later (ms, default 30 s). */
  refreshBefore?: number
}

/** Why the adapter stopped for good: a permanent close (unauthorized, forbidden, bad protocol…). */
export interface ConnectionError {
  code: ErrorCode
  closeCode: number
  message: string
}

interface ClientEvents {
  state: [ConnectionState]
  error: [ConnectionError]
}

/**
 * Connects a repo to a relay over WebSocket, in browsers and in Node. It reconnects by itself
 * (exponential backoff with full jitter; at once when a browser comes back online) until a
 * permanent close or `stop()`; the repo rejoins its rooms and resyncs its documents on each new
 * connection.
 */
export class WebSocketClientAdapter implements NetworkAdapter {
  readonly kind = "websocket"
  readonly #options: WebSocketClientOptions
  readonly #backoff: BackoffOptions
  readonly #limits: FrameLimits
  readonly #emitter = new EventEmitter<ClientEvents>()
  #state: ConnectionState = "closed"
  #events: NetworkEvents | null = null
  #socket: WebSocketLike | null = null
  #channel: Channel | null = null
  #failures = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #stopped = false
  #firstAttempt: (() => void) | null = null
  #refreshTimer: ReturnType<typeof setTimeout> | undefined
  readonly #online = () => this.reconnectNow()

  constructor(options: WebSocketClientOptions) {
    this.#options = options
    this.#backoff = { ...defaultBackoff, ...options.reconnect }
    this.#limits = { ...defaultFrameLimits, ...options.frames }
  }

  get state(): ConnectionState {
    return this.#state
  }

  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): () => void {
    this.#emitter.on(event, listener as never)
    return () => {
      this.#emitter.off(event, listener as never)
    }
  }

  start(events: NetworkEvents): Promise<void> {
    this.#events = events
    this.#stopped = false
    globalThis.addEventListener?.("online", this.#online)
    return new Promise((resolve) => {
      this.#firstAttempt = resolve
      this.#connect("connecting")
    })
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    clearTimeout(this.#refreshTimer)
    globalThis.removeEventListener?.("online", this.#online)
    this.#socket?.close(CloseCodes.NORMAL, "client stopped")
    this.#dropChannel(true)
    this.#setState("closed")
    this.#settleFirstAttempt()
  }

  /** Skips the backoff wait and reconnects now (browsers do it when they come back online). */
  reconnectNow(): void {
    if (this.#stopped || this.#state !== "reconnecting") return
    clearTimeout(this.#timer)
    this.#failures = 0
    this.#connect("reconnecting")
  }

  #connect(state: "connecting" | "reconnecting"): void {
    this.#setState(state)
    const { getToken } = this.#options
    if (!getToken) return this.#open(null)
    let attempt: Promise<string>
    try {
      attempt = Promise.resolve(getToken())
    } catch (error) {
      attempt = Promise.reject(error)
    }
    attempt.then(
      (token) => {
        if (!this.#stopped && this.#state === state && !this.#socket) this.#open(token)
      },
      (error: unknown) => {
        if (this.#stopped) return
        log.warn("getToken failed: {error}", { error })
        this.#retry()
      },
    )
  }

  #open(token: string | null): void {
    const WebSocketClass = this.#options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketFactory)
    if (!WebSocketClass)
      throw new Error("no WebSocket class: pass the `ws` package's WebSocket as `WebSocket`")
    const { url: address } = this.#options
    const url = typeof address === "function" ? address() : address
    let socket: WebSocketLike
    try {
      socket = new WebSocketClass(url)
    } catch (error) {
      log.error("cannot open {url}: {error}", { url, error })
      return this.#retry()
    }
    // Node's `ws` hands over its own Buffer without a copy; browsers ignore the unknown value.
    socket.binaryType = "nodebuffer"
    if (socket.binaryType !== "nodebuffer") socket.binaryType = "arraybuffer"
    this.#socket = socket
    const decoder = new FrameDecoder(this.#limits)
    // A handshake lost in a black hole would otherwise wait forever.
    const timeout = setTimeout(() => {
      if (socket !== this.#socket || socket.readyState !== 0) return
      socket.close()
      this.#socket = null
      this.#closed(1006, "connect timeout")
    }, this.#options.connectTimeout ?? 10_000)
    socket.onopen = () => {
      clearTimeout(timeout)
      // Credentials go first, before the repo's hello: nothing else is read until they are checked.
      if (token !== null) this.#sendNow(socket, { type: "auth", token })
      this.#opened(socket)
    }
    socket.onmessage = ({ data }: { data: ArrayBuffer | Uint8Array }) => {
      if (socket !== this.#socket || !this.#channel) return
      const decoded = decoder.push(data instanceof Uint8Array ? data : new Uint8Array(data))
      if (decoded.kind === "message" && decoded.message.type === "auth-ok") {
        this.#scheduleRefresh(socket, decoded.message.expiresIn)
      } else if (decoded.kind === "message") this.#events?.received(this.#channel, decoded.message)
      else if (decoded.kind === "invalid") log.warn("dropped a malformed message: {reason}", decoded)
      else if (decoded.kind === "fatal") socket.close(closeCodeFor(decoded.code), decoded.reason)
    }
    socket.onerror = () => {}
    socket.onclose = ({ code, reason }: { code: number; reason: string }) => {
      clearTimeout(timeout)
      if (socket !== this.#socket) return
      this.#socket = null
      this.#closed(code, reason)
    }
  }

  #sendNow(socket: WebSocketLike, message: PeerMessage): void {
    if (socket.readyState !== 1) return
    for (const frame of encodeMessage(message, this.#limits.maxFrameBytes)) socket.send(frame)
  }

  /** The relay accepted the credentials until `expiresIn` ms from now: fresh ones go out before. */
  #scheduleRefresh(socket: WebSocketLike, expiresIn: number | undefined): void {
    clearTimeout(this.#refreshTimer)
    const { getToken } = this.#options
    if (expiresIn === undefined || !getToken) return
    const before = this.#options.refreshBefore ?? 30_000
    const delay = Math.max(expiresIn - before, expiresIn / 2)
    this.#refreshTimer = setTimeout(async () => {
      let token: string
      try {
        token = await getToken()
      } catch (error) {
        // The relay closes with TOKEN_EXPIRED when the old token runs out; the reconnect asks again.
        log.warn("getToken failed while refreshing: {error}", { error })
        return
      }
      if (socket === this.#socket) this.#sendNow(socket, { type: "auth", token })
    }, delay)
  }

  #opened(socket: WebSocketLike): void {
    if (socket !== this.#socket) return
    this.#failures = 0
    const frameLimit = this.#limits.maxFrameBytes
    const channel: Channel = {
      send: (message: PeerMessage) => {
        if (socket.readyState !== 1) return
        for (const frame of encodeMessage(message, frameLimit)) socket.send(frame)
      },
      close: (clean, code, reason) => {
        const closeCode = clean ? CloseCodes.NORMAL : code ? closeCodeFor(code) : CloseCodes.GOING_AWAY
        socket.close(closeCode, reason)
        // Do not wait for the close handshake: the far end may be gone (that may be why we close).
        if (socket !== this.#socket) return
        this.#socket = null
        this.#closed(closeCode, reason ?? "")
      },
    }
    this.#channel = channel
    this.#setState("open")
    this.#events?.opened(channel)
    this.#settleFirstAttempt()
  }

  #closed(code: number, reason: string): void {
    clearTimeout(this.#refreshTimer)
    this.#dropChannel(code === CloseCodes.NORMAL)
    if (this.#stopped) return
    if (isPermanentClose(code)) {
      const error = {
        code: errorCodeFor(code) ?? "INTERNAL",
        closeCode: code,
        message: reason || `closed with ${code}`,
      }
      log.error("connection refused for good ({closeCode}): {message}", { ...error })
      this.#setState("closed")
      this.#emitter.emit("error", error)
      this.#settleFirstAttempt()
      return
    }
    this.#retry()
  }

  #retry(): void {
    this.#settleFirstAttempt()
    if (this.#failures >= this.#backoff.maxAttempts) {
      this.#setState("closed")
      this.#emitter.emit("error", {
        code: "DISCONNECTED",
        closeCode: 0,
        message: `gave up after ${this.#failures} attempts`,
      })
      return
    }
    const delay = backoffDelay(this.#failures++, this.#backoff)
    this.#setState("reconnecting")
    this.#timer = setTimeout(() => this.#connect("reconnecting"), delay)
  }

  #dropChannel(clean: boolean): void {
    const channel = this.#channel
    if (!channel) return
    this.#channel = null
    this.#events?.closed(channel, { clean })
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return
    this.#state = state
    this.#emitter.emit("state", state)
  }

  #settleFirstAttempt(): void {
    this.#firstAttempt?.()
    this.#firstAttempt = null
  }
}
