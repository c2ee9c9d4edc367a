import { performance } from "node:perf_hooks"
import { getLogger } from "@logtape/logtape"
import type { ServerChannel } from "@tandem/adapter-websocket/server"
import type {
  Channel,
  ChannelClosed,
  ErrorCode,
  Hello,
  NetworkAdapter,
  NetworkEvents,
  PeerMessage,
} from "@tandem/repo"
import type { AccessRequest, Action, Verdict } from "../access/authorize.js"
import { tokenFromProtocols } from "../auth/identify.js"
import { AuthError, type AuthRequest, type ConnectionIdentity, memberIdentity } from "../auth/identity.js"

const log = getLogger(["tandem", "server", "gate"])

/** A connection as the server's API and events show it. */
export interface ConnectionInfo {
  readonly id: string
  readonly ip: string
  readonly identity: ConnectionIdentity
  /** The client repo's peer id, once its hello arrived. */
  readonly peerId: string | undefined
  readonly connectedAt: number
}

export interface GateListener {
  connected(connection: ConnectionInfo): void
  disconnected(connection: ConnectionInfo): void
  /** An error code the gate refused something with. */
  refused(code: ErrorCode): void
  /** From a sync request arriving to its answer leaving (seconds). */
  syncAnswered(seconds: number): void
  /** From a document update, presence or broadcast arriving to its last copy leaving (seconds). */
  fannedOut(kind: FanoutKind, seconds: number): void
  /** Any message the relay sends a client (counts errors the repo answers with). */
  sent(message: PeerMessage): void
}

export interface GateOptions {
  inner: NetworkAdapter
  identify(request: AuthRequest): Promise<ConnectionIdentity>
  policy(request: AccessRequest): Promise<Verdict>
  handshakeTimeout: number
  listener: GateListener
}

interface RoomTrack {
  session: string
  seq: number
}

interface Connection {
  readonly id: string
  readonly raw: ServerChannel
  /** What the repo holds: sends pass through the gate's read check. */
  readonly face: Channel
  readonly connectedAt: number
  phase: "handshake" | "open" | "closed"
  identity: ConnectionIdentity | null
  hello: Hello | null
  peerId: string | undefined
  /** Documents this connection may read and asked for: the relay sends it only these. */
  readonly readable: Set<string>
  readonly rooms: Map<string, RoomTrack>
  /** Decisions are kept for the life of the credentials: a refresh asks again. */
  decisions: Map<string, Promise<Verdict>>
  queue: Promise<void>
  handshakeTimer: ReturnType<typeof setTimeout> | undefined
  expiryTimer: ReturnType<typeof setTimeout> | undefined
  readonly pendingSyncs: Map<string, number>
}

/**
 * The relay's edge: it authenticates each connection before the repo hears of it, binds the
 * identity to it, and checks every document and room operation against the access policy. The
 * repo behind it stays a plain relay: it sees only what was allowed, and sends a connection only
 * the documents it may read.
 */
export class AccessGate implements NetworkAdapter {
  readonly kind = "access-gate"
  readonly #options: GateOptions
  readonly #connections = new Map<Channel, Connection>()
  #fanout: Fanout | null = null
  #repo: NetworkEvents | null = null
  #nextId = 0

  constructor(options: GateOptions) {
    this.#options = options
  }

  /** Authenticated connections (the handshake done). */
  connections(): ConnectionInfo[] {
    return [...this.#connections.values()].filter((c) => c.phase === "open").map(info)
  }

  start(events: NetworkEvents): Promise<void> {
    this.#repo = events
    return this.#options.inner.start({
      opened: (channel) => this.#opened(channel as ServerChannel),
      received: (channel, message) => this.#received(channel, message),
      closed: (channel, how) => this.#closed(channel, how),
    })
  }

  stop(): Promise<void> {
    return this.#options.inner.stop()
  }

  /**
   * Closes every connection of `userId`. Permanent by default (`FORBIDDEN`: the client stops);
   * with `permanent: false` it is `TOKEN_EXPIRED`, so the client reconnects with a fresh token.
   */
  disconnectUser(userId: string, options: { permanent?: boolean; reason?: string } = {}): number {
    let count = 0
    for (const connection of this.#connections.values()) {
      if (connection.phase === "closed" || connection.identity?.userId !== userId) continue
      const code = options.permanent === false ? "TOKEN_EXPIRED" : "FORBIDDEN"
      this.#end(connection, code, options.reason ?? "disconnected by the server")
      count++
    }
    return count
  }

  // --- connections ---

  #opened(raw: ServerChannel): void {
    const connection: Connection = {
      id: `c${++this.#nextId}`,
      raw,
      face: {
        send: (message) => this.#send(connection, message),
        close: (clean, code, reason) => raw.close(clean, code, reason),
      },
      connectedAt: Date.now(),
      phase: "handshake",
      identity: null,
      hello: null,
      peerId: undefined,
      readable: new Set(),
      rooms: new Map(),
      decisions: new Map(),
      queue: Promise.resolve(),
      handshakeTimer: undefined,
      expiryTimer: undefined,
      pendingSyncs: new Map(),
    }
    this.#connections.set(raw, connection)
    connection.handshakeTimer = setTimeout(() => {
      if (connection.phase === "handshake") this.#end(connection, "TIMEOUT", "no handshake in time")
    }, this.#options.handshakeTimeout)
    connection.handshakeTimer.unref?.()
    const token = tokenFromProtocols(headerValue(raw.request.headers["sec-websocket-protocol"]))
    if (token !== null) this.#enqueue(connection, () => this.#authenticate(connection, token))
  }

  #received(channel: Channel, message: PeerMessage): void {
    const connection = this.#connections.get(channel)
    if (!connection) return
    this.#enqueue(connection, () => this.#handle(connection, message))
  }

  #closed(channel: Channel, how: ChannelClosed): void {
    const connection = this.#connections.get(channel)
    if (!connection) return
    // After everything it sent: the repo hears of the close in order.
    this.#enqueue(connection, async () => {
      const wasOpen = connection.phase === "open" && connection.hello !== null
      connection.phase = "closed"
      clearTimeout(connection.handshakeTimer)
      clearTimeout(connection.expiryTimer)
      this.#connections.delete(channel)
      if (wasOpen) this.#repo?.closed(connection.face, how)
      if (connection.identity) this.#options.listener.disconnected(info(connection))
    })
  }

  /** Messages of one connection are handled one at a time, in order, even when a check waits. */
  #enqueue(connection: Connection, work: () => Promise<void>): void {
    connection.queue = connection.queue.then(work).catch((error: unknown) => {
      log.error("a connection's message failed: {error}", { error })
      this.#end(connection, "INTERNAL", "the relay failed")
    })
  }

  async #handle(connection: Connection, message: PeerMessage): Promise<void> {
    if (connection.phase === "closed") return
    if (message.type === "auth") return this.#authenticate(connection, message.token)
    if (connection.phase === "handshake") return this.#handshake(connection, message)
    return this.#checked(connection, message)
  }

  // --- authentication ---

  async #authenticate(connection: Connection, token: string | null): Promise<void> {
    const { raw } = connection
    let identity: ConnectionIdentity
    try {
      identity = await this.#options.identify({
        token,
        headers: raw.request.headers,
        url: raw.request.url,
        ip: raw.ip,
      })
    } catch (error) {
      const refused =
        error instanceof AuthError ? error : new AuthError("UNAUTHORIZED", "invalid credentials")
      if (!(error instanceof AuthError)) log.warn("authenticate threw: {error}", { error })
      return this.#end(connection, refused.code, refused.message)
    }
    if (connection.phase === "closed") return
    if (identity.expiresAt !== undefined && identity.expiresAt <= Date.now()) {
      return this.#end(connection, "TOKEN_EXPIRED", "the token expired")
    }
    const previous = connection.identity
    if (previous && previous.userId !== identity.userId) {
      return this.#end(connection, "UNAUTHORIZED", "a refreshed token must be for the same user")
    }
    connection.identity = identity
    connection.decisions = new Map()
    this.#watchExpiry(connection)
    if (identity.userId !== undefined) {
      raw.send({
        type: "auth-ok",
        userId: identity.userId,
        ...(identity.expiresAt !== undefined && { expiresIn: Math.max(0, identity.expiresAt - Date.now()) }),
      })
    }
    if (previous) return this.#recheck(connection)
    raw.trust()
    if (connection.hello) await this.#establish(connection)
  }

  #watchExpiry(connection: Connection): void {
    clearTimeout(connection.expiryTimer)
    const expiresAt = connection.identity?.expiresAt
    if (expiresAt === undefined) return
    // Timers cannot wait past 2^31 ms; a token valid that long is checked again on refresh.
    const delay = Math.min(expiresAt - Date.now(), 2 ** 31 - 1)
    connection.expiryTimer = setTimeout(() => {
      this.#end(connection, "TOKEN_EXPIRED", "the token expired without a refresh")
    }, delay)
    connection.expiryTimer.unref?.()
  }

  async #handshake(connection: Connection, message: PeerMessage): Promise<void> {
    if (message.type !== "hello" || connection.hello) {
      return this.#end(connection, "UNAUTHORIZED", "only the handshake before authentication")
    }
    connection.hello = message
    connection.peerId = message.peerId
    // No `auth` came first: the connection is anonymous, or authenticated by headers alone.
    if (!connection.identity) return this.#authenticate(connection, null)
    return this.#establish(connection)
  }

  async #establish(connection: Connection): Promise<void> {
    const hello = connection.hello as Hello
    const identity = connection.identity as ConnectionIdentity
    clearTimeout(connection.handshakeTimer)
    connection.phase = "open"
    this.#options.listener.connected(info(connection))
    this.#repo?.opened(connection.face)
    this.#repo?.received(connection.face, { ...hello, identity: memberIdentity(hello.identity, identity) })
  }

  // --- authorization ---

  #decide(connection: Connection, action: Action, name: string): Promise<Verdict> {
    const key = `${action}\u0000${name}`
    let verdict = connection.decisions.get(key)
    if (!verdict) {
      const identity = connection.identity as ConnectionIdentity
      const request = (
        action.startsWith("doc:") ? { identity, action, docId: name } : { identity, action, roomId: name }
      ) as AccessRequest
      verdict = this.#options.policy(request)
      connection.decisions.set(key, verdict)
    }
    return verdict
  }

  async #checked(connection: Connection, message: PeerMessage): Promise<void> {
    switch (message.type) {
      case "hello": {
        const identity = connection.identity as ConnectionIdentity
        return this.#pass(connection, { ...message, identity: memberIdentity(message.identity, identity) })
      }
      case "sync-request": {
        const verdict = await this.#decide(connection, "doc:read", message.docId)
        // A denied read looks exactly like a document that does not exist.
        if (!verdict.allow) {
          this.#options.listener.refused("FORBIDDEN")
          const ref = message.id
          return connection.raw.send({
            type: "doc-unavailable",
            docId: message.docId,
            ...(ref !== undefined && { ref }),
          })
        }
        connection.readable.add(message.docId)
        connection.pendingSyncs.set(message.docId, performance.now())
        return this.#pass(connection, message)
      }
      case "doc-update":
      case "sync-response": {
        const verdict = await this.#decide(connection, "doc:write", message.docId)
        if (!verdict.allow) return this.#refuse(connection, verdict.reason, { docId: message.docId })
        return this.#pass(connection, message)
      }
      case "doc-delete": {
        const verdict = await this.#decide(connection, "doc:delete", message.docId)
        if (!verdict.allow) return this.#refuse(connection, verdict.reason, { docId: message.docId })
        return this.#pass(connection, message)
      }
      case "doc-close":
        connection.readable.delete(message.docId)
        return this.#pass(connection, message)
      case "room-join": {
        const ref = message.id
        const join = await this.#decide(connection, "room:join", message.roomId)
        if (!join.allow) return this.#refuse(connection, join.reason, { roomId: message.roomId, ref })
        const presence = await this.#decide(connection, "room:presence", message.roomId)
        connection.rooms.set(message.roomId, { session: message.session, seq: message.seq })
        // A member who may not show presence is listed with none.
        return this.#pass(connection, presence.allow ? message : { ...message, presence: null })
      }
      case "room-presence": {
        const track = connection.rooms.get(message.roomId)
        if (track) {
          const verdict = await this.#decide(connection, "room:presence", message.roomId)
          if (!verdict.allow) return this.#refuse(connection, verdict.reason, { roomId: message.roomId })
          track.seq = Math.max(track.seq, message.seq)
        }
        return this.#pass(connection, message)
      }
      case "room-broadcast": {
        const track = connection.rooms.get(message.roomId)
        if (track) {
          const verdict = await this.#decide(connection, "room:broadcast", message.roomId)
          if (!verdict.allow) {
            return this.#refuse(connection, verdict.reason, { roomId: message.roomId, ref: message.ack })
          }
        }
        return this.#pass(connection, message)
      }
      case "room-leave":
        connection.rooms.delete(message.roomId)
        return this.#pass(connection, message)
      default:
        return this.#pass(connection, message)
    }
  }

  /** After a refresh: what the new credentials no longer allow is dropped. */
  async #recheck(connection: Connection): Promise<void> {
    for (const docId of [...connection.readable]) {
      const verdict = await this.#decide(connection, "doc:read", docId)
      if (verdict.allow || connection.phase !== "open") continue
      connection.readable.delete(docId)
      this.#pass(connection, { type: "doc-close", docId })
      this.#refuse(connection, `access to ${docId} was revoked`, { docId })
    }
    for (const [roomId, track] of [...connection.rooms]) {
      const verdict = await this.#decide(connection, "room:join", roomId)
      if (verdict.allow || connection.phase !== "open") continue
      connection.rooms.delete(roomId)
      const peerId = connection.peerId as string
      this.#pass(connection, { type: "room-leave", roomId, peerId, session: track.session, seq: track.seq })
      this.#refuse(connection, `access to ${roomId} was revoked`, { roomId })
    }
  }

  #pass(connection: Connection, message: PeerMessage): void {
    if (connection.phase !== "open") return
    const kind = message.type
    if (kind !== "doc-update" && kind !== "room-presence" && kind !== "room-broadcast") {
      this.#repo?.received(connection.face, message)
      return
    }
    // The repo relays synchronously: every copy has left when `received` returns.
    const fanout = { from: connection, kind, startedAt: performance.now(), lastSentAt: -1 }
    this.#fanout = fanout
    try {
      this.#repo?.received(connection.face, message)
    } finally {
      this.#fanout = null
    }
    if (fanout.lastSentAt >= 0) {
      this.#options.listener.fannedOut(kind, (fanout.lastSentAt - fanout.startedAt) / 1000)
    }
  }

  #refuse(
    connection: Connection,
    reason: string,
    about: { docId?: string; roomId?: string; ref?: number | undefined },
  ): void {
    this.#options.listener.refused("FORBIDDEN")
    connection.raw.send({
      type: "error",
      code: "FORBIDDEN",
      message: reason,
      ...(about.ref !== undefined && { ref: about.ref }),
      ...(about.docId !== undefined && { docId: about.docId }),
      ...(about.roomId !== undefined && { roomId: about.roomId }),
    })
  }

  #end(connection: Connection, code: ErrorCode, reason: string): void {
    if (connection.phase === "closed") return
    // The adapter counts the close by its code.
    connection.raw.end(code, reason)
  }

  // --- what the relay sends ---

  #send(connection: Connection, message: PeerMessage): void {
    if (message.type === "doc-update" || message.type === "sync-response") {
      if (!connection.readable.has(message.docId)) return
    }
    if (message.type === "sync-response" || message.type === "doc-unavailable") {
      const since = connection.pendingSyncs.get(message.docId)
      if (since !== undefined) {
        connection.pendingSyncs.delete(message.docId)
        this.#options.listener.syncAnswered((performance.now() - since) / 1000)
      }
    }
    const fanout = this.#fanout
    if (fanout && fanout.from !== connection && message.type === fanout.kind) {
      fanout.lastSentAt = performance.now()
    }
    this.#options.listener.sent(message)
    connection.raw.send(message)
  }
}

type FanoutKind = "doc-update" | "room-presence" | "room-broadcast"

interface Fanout {
  from: Connection
  kind: FanoutKind
  startedAt: number
  lastSentAt: number
}

function info(connection: Connection): ConnectionInfo {
  return {
    id: connection.id,
    ip: connection.raw.ip,
    identity: connection.identity as ConnectionIdentity,
    peerId: connection.peerId,
    connectedAt: connection.connectedAt,
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value
}
