import { EventEmitter } from "node:events"
import { createServer as createHttpServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { getLogger } from "@logtape/logtape"
import type { RedisRelayAdapter } from "@tandem/adapter-redis"
import { type ServerLimits, WebSocketServerAdapter } from "@tandem/adapter-websocket/server"
import { CloseCodes, type FrameLimits } from "@tandem/protocol"
import {
  type Json,
  type KeepaliveOptions,
  MemoryStorage,
  Repo,
  type RoomMember,
  type StorageAdapter,
  TandemError,
} from "@tandem/repo"
import type { Registry } from "prom-client"
import { type AccessOptions, createPolicy } from "./access/authorize.js"
import { type AuthOptions, createIdentify } from "./auth/identify.js"
import { AccessGate, type ConnectionInfo } from "./gate/access-gate.js"
import { type ReadinessCheck, runChecks, storageCheck } from "./http/readiness.js"
import { httpHandler } from "./http/routes.js"
import { RelayMetrics } from "./metrics.js"
import { type RedisServiceOptions, redisRelay } from "./redis.js"
import { redisReadiness, registerRedisMetrics } from "./redis-metrics.js"

const log = getLogger(["tandem", "server"])

export interface ServerOptions {
  /** Port to listen on (default 4000; 0 picks a free one). */
  port?: number
  /** Address to listen on (default 0.0.0.0). */
  host?: string
  /** Where documents persist. Without it they live in memory and are lost when the relay stops. */
  storage?: StorageAdapter
  /** Only WebSocket upgrades to this path are taken (default: any). */
  path?: string
  frames?: Partial<FrameLimits>
  limits?: Partial<RelayLimits>
  keepalive?: Partial<KeepaliveOptions>
  rooms?: { reconnectGrace?: number; linger?: number }
  /** A document no client syncs leaves memory after this long (ms, default 60 s); storage keeps it. */
  evictAfter?: number
  /** This relay's peer id (default: random; with `redis`, the instance id). */
  peerId?: string
  /** Join other instances through Redis, as one service (see `@tandem/adapter-redis`). */
  redis?: RedisServiceOptions
  /** Who may connect. Without `jwt` or `authenticate` the relay is open: everyone is anonymous. */
  auth?: AuthOptions
  /** What each connection may do with documents and rooms (default: everything). */
  access?: AccessOptions
  /** Bearer token for the HTTP admin API under `/api/` (off without one). */
  adminToken?: string
  /** More checks for `GET /readyz`, beside `storage` (a Redis ping, say). */
  readinessChecks?: Record<string, ReadinessCheck>
  /** How long `drain()` and `close()` may take before giving up on stragglers (ms, default 10 s). */
  drainTimeout?: number
}

export interface RelayLimits extends ServerLimits {
  /** Joins past this many members are refused with `ROOM_FULL` (default 1000). */
  maxMembersPerRoom: number
  /** A connection's joins past this many rooms are refused with `TOO_MANY_ROOMS` (default 100). */
  maxRoomsPerConnection: number
}

export interface RoomSummary {
  roomId: string
  members: number
  users: number
}

export interface MemberSummary {
  peerId: string
  userId: string | undefined
  identity: RoomMember<Json>["identity"]
  presence: Json | undefined
  joinedAt: number
}

export interface ServerStats {
  connections: number
  rooms: number
  members: number
  documents: number
  uptimeSeconds: number
  draining: boolean
}

export interface ServerEvents {
  connection: [ConnectionInfo]
  disconnection: [ConnectionInfo]
  join: [{ roomId: string; member: MemberSummary }]
  leave: [{ roomId: string; member: MemberSummary }]
}

export interface TandemServer {
  /** The relay's own repo: it holds every document and room the relay serves. */
  readonly repo: Repo
  readonly http: Server
  readonly port: number
  /** `ws://host:port`, for clients on this machine. */
  readonly url: string
  /** Open WebSocket connections. */
  readonly connections: number
  /** The Redis relay, when the server is one instance of a service (`stats`, `whenCaughtUp`). */
  readonly redis: RedisRelayAdapter | null
  /** The Prometheus registry `GET /metrics` serves. */
  readonly metrics: Registry
  /** True once a drain began: `/readyz` answers 503 and no connection is taken. */
  readonly draining: boolean
  /** Rooms with their member counts, those whose id starts with `prefix` only when given. */
  listRooms(options?: { prefix?: string }): RoomSummary[]
  /** A room's members, or undefined when the relay holds no such room. */
  getMembers(roomId: string): MemberSummary[] | undefined
  getConnections(): ConnectionInfo[]
  stats(): ServerStats
  /** Sends a broadcast to everyone in the room, from the relay (`from` is `repo.peerId`); returns the recipients. */
  broadcast(roomId: string, event: string, payload: Json): number
  /** Closes every connection of a user; see `AccessGate.disconnectUser`. Returns how many. */
  disconnectUser(userId: string, options?: { permanent?: boolean; reason?: string }): number
  on<K extends keyof ServerEvents>(event: K, listener: (...args: ServerEvents[K]) => void): () => void
  /**
   * Stops taking connections, tells every client to reconnect elsewhere (`SERVER_DRAINING`),
   * writes what is pending, and stops. Rejects when it took longer than `drainTimeout`.
   */
  drain(): Promise<void>
  /** The same as `drain()`. */
  close(): Promise<void>
}

/** Starts a relay: a repo with `relay: true` that clients reach over WebSocket. */
export async function createServer(options: ServerOptions = {}): Promise<TandemServer> {
  const startedAt = Date.now()
  const limits = options.limits ?? {}
  const storage = options.storage ?? new MemoryStorage()
  let repo: Repo | null = null
  let draining = false
  const emitter = new EventEmitter()
  const readinessChecks = { storage: storageCheck(storage), ...options.readinessChecks }

  const authenticates = options.auth?.jwt !== undefined || options.auth?.authenticate !== undefined
  const http = createHttpServer()
  let gate: AccessGate | null = null
  const metrics: RelayMetrics = new RelayMetrics({
    repo: () => repo as Repo,
    connections: (): number => gate?.connections().length ?? 0,
  })
  const network = new WebSocketServerAdapter({
    server: http,
    ...(options.path !== undefined && { path: options.path }),
    ...(options.frames && { frames: options.frames }),
    limits,
    // An open relay has nothing to wait for; one that authenticates reads little until it knows who.
    ...(authenticates && {
      untrusted: { handshakeBytes: options.auth?.handshakeBytes ?? 16 * 1024, handshakeMessages: 32 },
    }),
    observer: metrics.traffic,
  })
  const identify = createIdentify(options.auth)
  if (!authenticates) {
    log.warn("no authentication configured: every connection is anonymous and may do anything")
  }
  const gated = new AccessGate({
    inner: network,
    identify,
    policy: createPolicy(options.access),
    handshakeTimeout: options.auth?.handshakeTimeout ?? 10_000,
    listener: {
      connected: (connection) => {
        metrics.connectionsTotal.inc()
        emitter.emit("connection", connection)
      },
      disconnected: (connection) => emitter.emit("disconnection", connection),
      refused: (code) => metrics.refused(code),
      syncAnswered: (seconds) => metrics.syncSeconds.observe(seconds),
      fannedOut: (type, seconds) => metrics.fanoutSeconds.observe({ type }, seconds),
      sent: (message) => metrics.errorSent(message),
    },
  })
  gate = gated
  if (!options.storage) {
    log.warn("documents are kept in memory only: they are lost when this relay stops")
  }
  const redis = options.redis ? redisRelay(options.redis, options.peerId) : null
  if (redis) registerRedisMetrics(metrics.registry, redis)
  const peerId = redis?.instanceId ?? options.peerId
  const relay = new Repo({
    ...(peerId !== undefined && { peerId }),
    relay: true,
    network: redis ? [gated, redis] : [gated],
    storage,
    ...(options.keepalive && { keepalive: options.keepalive }),
    saveDelay: 0,
    ...(options.evictAfter !== undefined && { evictAfter: options.evictAfter }),
    rooms: {
      maxMembers: limits.maxMembersPerRoom ?? 1000,
      maxRoomsPerChannel: limits.maxRoomsPerConnection ?? 100,
      ...(limits.maxPresenceBytes !== undefined && { maxPresenceBytes: limits.maxPresenceBytes }),
      ...(limits.maxBroadcastBytes !== undefined && { maxBroadcastBytes: limits.maxBroadcastBytes }),
      ...options.rooms,
    },
  })
  repo = relay
  relay.on("room-member-joined", ({ roomId, member }) =>
    emitter.emit("join", { roomId, member: summary(member) }),
  )
  relay.on("room-member-left", ({ roomId, member }) =>
    emitter.emit("leave", { roomId, member: summary(member) }),
  )

  const listRooms = (prefix?: string): RoomSummary[] =>
    relay
      .getRooms()
      .filter((room) => prefix === undefined || room.id.startsWith(prefix))
      .map((room) => ({ roomId: room.id, members: room.getMembers().length, users: room.getUsers().length }))
      .sort((a, b) => (a.roomId < b.roomId ? -1 : 1))
  const getMembers = (roomId: string) => relay.getRoom(roomId)?.getMembers().map(summary)
  const stats = (): ServerStats => {
    const rooms = relay.getRooms()
    return {
      connections: gated.connections().length,
      rooms: rooms.length,
      members: rooms.reduce((sum, room) => sum + room.getMembers().length, 0),
      documents: relay.getDocIds().length,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      draining,
    }
  }
  const broadcast = (roomId: string, event: string, payload: Json): number => {
    const room = relay.getRoom(roomId)
    if (!room) throw new TandemError("NOT_IN_ROOM", `no room ${roomId} on this relay`)
    relay.announce(roomId, event, payload)
    return room.getMembers().length
  }
  const disconnectUser = (userId: string, how: { permanent?: boolean; reason?: string } = {}) =>
    gated.disconnectUser(userId, how)

  http.on(
    "request",
    httpHandler({
      readiness: async () => {
        const readiness = await runChecks(readinessChecks, 2000)
        // Reported, never a reason to be unready: without Redis an instance serves its own clients.
        if (redis) readiness.checks.redis = redisReadiness(redis)
        return readiness
      },
      draining: () => draining,
      metrics: metrics.registry,
      adminToken: options.adminToken,
      listRooms,
      roomMembers: getMembers,
      stats,
      connections: () => gated.connections(),
      broadcast,
      disconnectUser,
    }),
  )

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject)
    http.listen(options.port ?? 4000, options.host ?? "0.0.0.0", () => {
      http.off("error", reject)
      resolve()
    })
  })
  const { port } = http.address() as AddressInfo
  const host =
    options.host && options.host !== "0.0.0.0" && options.host !== "::" ? options.host : "127.0.0.1"
  log.info("relay listening on port {port}", { port })

  const drainTimeout = options.drainTimeout ?? 10_000
  let drained: Promise<void> | null = null
  const drain = () => {
    drained ??= (async () => {
      draining = true
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`drain took longer than ${drainTimeout} ms`)), drainTimeout)
      })
      try {
        await Promise.race([drainSteps(), late])
      } finally {
        clearTimeout(timer)
        http.closeAllConnections()
      }
    })()
    return drained
  }
  const drainSteps = async () => {
    // No new TCP connections; requests on open keep-alive ones still see `/readyz` say draining.
    http.close()
    await network.stop(CloseCodes.SERVER_DRAINING, "relay draining: reconnect elsewhere")
    await relay.shutdown()
    http.closeAllConnections()
  }

  return {
    repo: relay,
    http,
    port,
    url: `ws://${host.includes(":") ? `[${host}]` : host}:${port}`,
    get connections() {
      return network.connections
    },
    redis,
    metrics: metrics.registry,
    get draining() {
      return draining
    },
    listRooms: (query = {}) => listRooms(query.prefix),
    getMembers,
    getConnections: () => gated.connections(),
    stats,
    broadcast,
    disconnectUser,
    on(event, listener) {
      emitter.on(event, listener as (...args: unknown[]) => void)
      return () => {
        emitter.off(event, listener as (...args: unknown[]) => void)
      }
    },
    drain,
    close: drain,
  }
}

function summary(member: RoomMember<Json>): MemberSummary {
  return {
    peerId: member.peerId,
    userId: member.userId,
    identity: member.identity,
    presence: member.presence,
    joinedAt: member.joinedAt,
  }
}
