import { createServer as createHttpServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { getLogger } from "@logtape/logtape"
import type { RedisRelayAdapter } from "@tandem/adapter-redis"
import { type ServerLimits, WebSocketServerAdapter } from "@tandem/adapter-websocket/server"
import { CloseCodes, type FrameLimits } from "@tandem/protocol"
import {
  type KeepaliveOptions,
  MemoryStorage,
  type NetworkAdapter,
  Repo,
  type StorageAdapter,
} from "@tandem/repo"
import { type RedisServiceOptions, redisRelay } from "./redis.js"

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
}

export interface RelayLimits extends ServerLimits {
  /** Joins past this many members are refused with `ROOM_FULL` (default 1000). */
  maxMembersPerRoom: number
  /** A connection's joins past this many rooms are refused with `TOO_MANY_ROOMS` (default 100). */
  maxRoomsPerConnection: number
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
  /** Closes every connection (clients reconnect elsewhere), writes what is pending, stops. */
  close(): Promise<void>
}

/** Starts a relay: a repo with `relay: true` that clients reach over WebSocket. */
export async function createServer(options: ServerOptions = {}): Promise<TandemServer> {
  const http = createHttpServer((request, response) => {
    if (request.url === "/healthz") {
      response.writeHead(200, { "content-type": "text/plain" }).end("ok\n")
      return
    }
    response.writeHead(426, { "content-type": "text/plain" }).end("connect with a WebSocket\n")
  })
  const limits = options.limits ?? {}
  const network = new WebSocketServerAdapter({
    server: http,
    ...(options.path !== undefined && { path: options.path }),
    ...(options.frames && { frames: options.frames }),
    limits,
  })
  if (!options.storage) {
    log.warn("documents are kept in memory only: they are lost when this relay stops")
  }
  const redis = options.redis ? redisRelay(options.redis, options.peerId) : null
  const peerId = redis?.instanceId ?? options.peerId
  const adapters: NetworkAdapter[] = redis ? [network, redis] : [network]
  const repo = new Repo({
    ...(peerId !== undefined && { peerId }),
    relay: true,
    network: adapters,
    storage: options.storage ?? new MemoryStorage(),
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

  let closing: Promise<void> | null = null
  return {
    repo,
    http,
    port,
    url: `ws://${host.includes(":") ? `[${host}]` : host}:${port}`,
    get connections() {
      return network.connections
    },
    redis,
    close() {
      closing ??= (async () => {
        await network.stop(CloseCodes.GOING_AWAY, "relay stopping")
        await repo.shutdown()
        http.closeAllConnections()
        await new Promise<void>((resolve) => http.close(() => resolve()))
      })()
      return closing
    },
  }
}
