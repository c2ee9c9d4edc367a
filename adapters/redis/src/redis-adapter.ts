import { randomBytes } from "node:crypto"
import { getLogger } from "@logtape/logtape"
import {
  type Channel,
  type Hello,
  type NetworkAdapter,
  type NetworkEvents,
  type PeerMessage,
  PROTOCOL_VERSION,
} from "@tandem/repo"
import { Redis, type RedisOptions } from "ioredis"
import { InstanceRegistry } from "./instances.js"
import { type ServiceKeys, serviceKeys } from "./keys.js"
import { OrderedSender } from "./ordered-sender.js"
import { type ControlKind, decodePacket, encodeControl, encodeData } from "./packet.js"
import { RoomChannels } from "./room-channels.js"
import { UpdateStream } from "./update-stream.js"

const log = getLogger(["tandem", "redis"])

export interface RedisRelayOptions {
  /** `redis://host:port`, as ioredis takes it. */
  url: string
  /** Instances with the same service name (and Redis) form one service (default "tandem"). */
  service?: string
  /** This instance's id: the relay repo's `peerId`. Stable across restarts of the same instance. */
  instanceId: string
  /** An instance whose liveness key is this old is dead (ms, default 12 s). */
  instanceTtlMs?: number
  /** How often the liveness key is renewed and the stream cursor saved (ms, default TTL / 2.4, 5 s). */
  heartbeatMs?: number
  /** How often the other instances' liveness keys are checked (ms, default 1 s). */
  livenessCheckMs?: number
  /** Stream entries kept, roughly (default 100,000). */
  streamMaxLen?: number
  /** More ioredis options (TLS, password, …). */
  redis?: RedisOptions
}

export interface RedisRelayStats {
  /** The connection to Redis is up. */
  connected: boolean
  /** Instances of the service this one sees alive, itself included. */
  instances: number
  /** Entries in the update stream, at the last heartbeat. */
  streamLength: number
  /** How far behind the stream this instance reads (ms). */
  lagMs: number
  /** Times entries were missing from the stream (trimmed or lost) and a full sync was needed. */
  gaps: number
  /** Entries and messages read from Redis that were not Tandem packets (ignored). */
  garbage: number
}

/** A channel to another instance of the service, carried by Redis. */
class Link implements Channel {
  readonly relayLink = true
  readonly keepalive = false
  open = true

  constructor(
    private readonly adapter: RedisRelayAdapter,
    readonly peerId: string,
    readonly epoch: string,
    /** The stream itself, for entries of instances that are gone: it answers nothing. */
    readonly history: boolean,
  ) {}

  send(message: PeerMessage): void {
    if (this.open) this.adapter.route(this, message)
  }

  close(): void {
    this.open = false
    this.adapter.forget(this)
  }
}

/**
 * The Redis relay: makes several relay instances one service. Each other instance appears to the
 * repo as one channel (a relay link). Document updates and deletions travel on a Redis stream;
 * room traffic on one pub/sub channel per room; everything addressed to one instance (sync
 * requests and answers, room snapshots, acks) on that instance's inbox channel.
 */
export class RedisRelayAdapter implements NetworkAdapter {
  readonly kind = "redis"
  readonly instanceId: string
  /** Random per boot: tells this run of the instance from an earlier one with the same id. */
  readonly epoch = randomBytes(8).toString("hex")
  readonly #keys: ServiceKeys
  readonly #options: Required<Omit<RedisRelayOptions, "redis">>
  readonly #main: Redis
  readonly #subscriber: Redis
  readonly #reader: Redis
  readonly #registry: InstanceRegistry
  readonly #stream: UpdateStream
  readonly #rooms: RoomChannels
  readonly #sender = new OrderedSender()
  readonly #links = new Map<string, Link>()
  readonly #history: Link
  /** Messages already sent to the stream or a room channel: the repo sends one to every link. */
  readonly #published = new WeakSet<PeerMessage>()
  #events: NetworkEvents | null = null
  #timers: ReturnType<typeof setInterval>[] = []
  #stopped = false
  #joined = false
  /** Until then, a missing liveness key may only mean Redis lost its data and instances re-register. */
  #judgeAfter = 0
  #joining: Promise<void> | null = null
  #started: Promise<void>
  #resolveStarted!: () => void
  #streamLength = 0
  #gaps = 0
  #garbage = 0

  constructor(options: RedisRelayOptions) {
    const ttl = options.instanceTtlMs ?? 12_000
    this.#options = {
      url: options.url,
      service: options.service ?? "tandem",
      instanceId: options.instanceId,
      instanceTtlMs: ttl,
      heartbeatMs: options.heartbeatMs ?? Math.max(50, Math.round(ttl / 2.4)),
      livenessCheckMs: options.livenessCheckMs ?? Math.min(1000, Math.max(50, Math.round(ttl / 4))),
      streamMaxLen: options.streamMaxLen ?? 100_000,
    }
    this.instanceId = options.instanceId
    this.#keys = serviceKeys(this.#options.service)
    const redisOptions: RedisOptions = {
      lazyConnect: true,
      protocol: 2,
      // Commands wait for Redis to come back instead of failing after a number of retries.
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 1000),
      ...options.redis,
    }
    this.#main = new Redis(options.url, redisOptions)
    this.#subscriber = new Redis(options.url, redisOptions)
    this.#reader = new Redis(options.url, redisOptions)
    for (const connection of [this.#main, this.#subscriber, this.#reader]) {
      // ioredis reports every failed attempt; the state is in `stats` and the log below.
      connection.on("error", () => {})
    }
    this.#registry = new InstanceRegistry(this.#main, this.#keys, this.instanceId, this.epoch, ttl)
    this.#stream = new UpdateStream(this.#main, this.#reader, {
      key: this.#keys.updates,
      maxLen: this.#options.streamMaxLen,
      blockMs: 1000,
      onEntry: (_id, packet) => this.#streamEntry(packet),
      onError: (error) => log.debug("stream: {error}", { error }),
    })
    this.#rooms = new RoomChannels(this.#subscriber)
    this.#history = new Link(this, `stream:${this.#options.service}`, "history", true)
    this.#started = new Promise((resolve) => {
      this.#resolveStarted = resolve
    })
  }

  get stats(): RedisRelayStats {
    const connected = this.#main.status === "ready"
    return {
      connected,
      instances: (connected ? 1 : 0) + this.#links.size,
      streamLength: this.#streamLength,
      lagMs: this.#stream.lagMs,
      gaps: this.#gaps,
      garbage: this.#garbage,
    }
  }

  /** Resolves once this instance joined the service (Redis reached, other instances linked). */
  whenStarted(): Promise<void> {
    return this.#started
  }

  /** Resolves once this instance has read every stream entry that exists now. */
  async whenCaughtUp(): Promise<void> {
    await this.#started
    await this.#stream.whenCaughtUp()
  }

  async start(events: NetworkEvents): Promise<void> {
    this.#events = events
    this.#openLink(this.#history)
    this.#subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => this.#pubsubMessage(message))
    this.#main.on("ready", () => void this.#join())
    // Pub/sub delivers at most once: whatever was published while the subscriber was away is lost,
    // so everything in use syncs again over every link when it is back.
    this.#subscriber.on("ready", () => {
      if (this.#joined) this.#resyncLinks()
    })
    await Promise.allSettled([this.#subscriber.connect(), this.#reader.connect(), this.#main.connect()])
    // Until Redis answers, the relay serves its own clients; it joins the service when it can.
    if (this.#main.status === "ready") await this.#join()
    const { heartbeatMs, livenessCheckMs } = this.#options
    this.#timers.push(setInterval(() => void this.#heartbeat(), heartbeatMs))
    this.#timers.push(setInterval(() => void this.#checkLiveness(), livenessCheckMs))
    for (const timer of this.#timers) timer.unref()
  }

  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    for (const timer of this.#timers) clearInterval(timer)
    this.#stream.stop()
    if (this.#main.status === "ready") {
      // Tell the others at once rather than letting the liveness key expire.
      await withTimeout(
        Promise.all([
          this.#main.publish(this.#keys.control, encodeControl("leave", this.instanceId, this.epoch)),
          this.#registry.remove(),
          this.#main.set(this.#keys.cursor(this.instanceId), this.#stream.lastId),
        ]),
        1000,
      ).catch(() => {})
    }
    for (const link of [...this.#links.values(), this.#history]) link.open = false
    this.#links.clear()
    this.#events = null
    for (const connection of [this.#main, this.#subscriber, this.#reader]) connection.disconnect()
    this.#resolveStarted()
  }

  /** @internal The repo sends `message` to the instance at the far end of `link`. */
  route(link: Link, message: PeerMessage): void {
    switch (message.type) {
      case "hello":
      case "ping":
      case "pong":
        return
      case "doc-update":
      case "doc-delete":
        return this.#publishOnce(message, () => this.#stream.append(this.#packet(message)))
      case "room-member-joined":
      case "room-presence":
      case "room-broadcast": {
        if (link.history && message.type === "room-broadcast" && message.ack !== undefined) {
          this.#answer(link, { type: "room-broadcast-ack", ack: message.ack, delivered: 0 })
        }
        return this.#publishOnce(message, () => this.#publish(this.#keys.room(message.roomId), message))
      }
      case "room-leave":
        return this.#publishOnce(message, () => {
          const channel = this.#keys.room(message.roomId)
          this.#publish(channel, message)
          // This instance stops following the room: nothing more to hear on its channel.
          if (message.peerId === this.instanceId) this.#sender.send(() => this.#rooms.unsubscribe(channel))
        })
      case "room-join": {
        const subscribed = this.#rooms.subscribe(this.#keys.room(message.roomId))
        if (subscribed) this.#sender.barrier(subscribed)
        if (link.history) return
        return this.#publish(this.#keys.inbox(link.peerId), message)
      }
      default:
        if (link.history) {
          if (message.type === "sync-request") {
            this.#answer(link, {
              type: "doc-unavailable",
              docId: message.docId,
              ...(message.id !== undefined && { ref: message.id }),
            })
          }
          return
        }
        return this.#publish(this.#keys.inbox(link.peerId), message)
    }
  }

  /** @internal The repo closed a link (it shuts down, or refused the link). */
  forget(link: Link): void {
    if (this.#links.get(link.peerId) === link) this.#links.delete(link.peerId)
  }

  #packet(message: PeerMessage): Buffer {
    return encodeData(this.instanceId, this.epoch, message)
  }

  #publishOnce(message: PeerMessage, publish: () => void): void {
    if (this.#published.has(message)) return
    this.#published.add(message)
    this.#sender.send(publish)
  }

  #publish(channel: string, message: PeerMessage): void {
    const packet = this.#packet(message)
    this.#sender.send(() => {
      this.#main.publish(channel, packet).catch(() => {})
    })
  }

  #control(kind: ControlKind): Promise<unknown> {
    return this.#main.publish(this.#keys.control, encodeControl(kind, this.instanceId, this.epoch))
  }

  /** A reply the history link makes for the stream, which cannot answer. */
  #answer(link: Link, message: PeerMessage): void {
    queueMicrotask(() => {
      if (link.open) this.#events?.received(link, message)
    })
  }

  // --- joining the service ---

  /** On the first connection and on every reconnection to Redis. */
  #join(): Promise<void> {
    this.#joining ??= this.#joinOnce().finally(() => {
      this.#joining = null
    })
    return this.#joining
  }

  async #joinOnce(): Promise<void> {
    if (this.#stopped) return
    this.#judgeAfter = Date.now() + this.#options.instanceTtlMs
    try {
      const first = !this.#joined
      const known = await this.#registry.beat()
      await this.#subscriber.subscribe(this.#keys.control, this.#keys.inbox(this.instanceId))
      const cursor = first ? await this.#main.get(this.#keys.cursor(this.instanceId)) : this.#stream.lastId
      const gap = await this.#stream.resume(cursor)
      await this.#control("announce")
      for (const [peerId, epoch] of await this.#registry.others()) this.#instanceSeen(peerId, epoch)
      this.#stream.start()
      this.#streamLength = await this.#stream.length()
      this.#joined = true
      if (gap) {
        this.#gaps++
        log.warn("entries after {cursor} are gone from the update stream: syncing with every instance", {
          cursor,
        })
      }
      // Taken for dead meanwhile, or entries lost: everything in use is synced again.
      if (!first && (!known || gap)) this.#resyncLinks()
      if (first) {
        log.info("instance {instanceId} joined the service {service} ({instances} instances)", {
          instanceId: this.instanceId,
          service: this.#options.service,
          instances: this.#links.size + 1,
        })
      } else log.info("back in the service {service}", { service: this.#options.service })
    } catch (error) {
      log.warn("could not join the service yet: {error}", { error })
    } finally {
      this.#resolveStarted()
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#stopped || this.#main.status !== "ready" || !this.#joined) return
    try {
      const known = await this.#registry.beat()
      if (!known) {
        // The key had expired: the others dropped this instance and its members. Come back.
        log.warn("this instance's liveness key had expired: announcing it again")
        await this.#control("announce")
        this.#resyncLinks()
      }
      await this.#main.set(this.#keys.cursor(this.instanceId), this.#stream.lastId)
      this.#streamLength = await this.#stream.length()
      for (const [peerId, epoch] of await this.#registry.others()) this.#instanceSeen(peerId, epoch)
    } catch (error) {
      log.debug("heartbeat failed: {error}", { error })
    }
  }

  async #checkLiveness(): Promise<void> {
    if (this.#stopped || this.#main.status !== "ready" || this.#links.size === 0) return
    const links = [...this.#links.values()]
    let epochs: (string | null)[]
    try {
      epochs = await this.#registry.epochsOf(links.map((link) => link.peerId))
    } catch {
      return // Redis is away: nobody is declared dead on no evidence.
    }
    const settling = Date.now() < this.#judgeAfter
    for (const [index, link] of links.entries()) {
      if (epochs[index] === link.epoch || this.#links.get(link.peerId) !== link) continue
      // Right after (re)connecting, only a new epoch is proof: a missing key may be Redis restarted empty.
      if (settling && epochs[index] === null) continue
      log.info("instance {peerId} is gone: its members leave", { peerId: link.peerId })
      this.#closeLink(link, false)
    }
  }

  // --- links ---

  #instanceSeen(peerId: string, epoch: string): void {
    if (peerId === this.instanceId || this.#stopped) return
    const existing = this.#links.get(peerId)
    if (existing?.epoch === epoch) return
    if (existing) {
      log.info("instance {peerId} restarted: its earlier run's members leave", { peerId })
      this.#closeLink(existing, false)
    }
    // Make sure it knows this instance before anything arrives on the new link (it may have
    // missed the announcement): published first, so it is heard first.
    this.#control("answer").catch(() => {})
    this.#openLink(new Link(this, peerId, epoch, false))
  }

  #openLink(link: Link): void {
    const events = this.#events
    if (!events) return
    if (!link.history) this.#links.set(link.peerId, link)
    events.opened(link)
    const hello: Hello = {
      type: "hello",
      protocol: PROTOCOL_VERSION,
      peerId: link.peerId,
      session: link.epoch,
      identity: {},
      relay: true,
    }
    // The far end's hello is known from its liveness key: no round trip through Redis.
    events.received(link, hello)
  }

  #closeLink(link: Link, clean: boolean): void {
    link.open = false
    this.forget(link)
    this.#events?.closed(link, { clean })
  }

  /** Every document and room in use syncs again with every instance, over the links as they are. */
  #resyncLinks(): void {
    for (const link of this.#links.values()) this.#events?.resync?.(link)
  }

  // --- what arrives ---

  #pubsubMessage(payload: Buffer): void {
    const packet = decodePacket(payload)
    if (!packet) {
      this.#garbage++
      return
    }
    if (packet.peerId === this.instanceId) return
    switch (packet.kind) {
      case "announce":
        if (this.#links.get(packet.peerId)?.epoch === packet.epoch) return
        return this.#instanceSeen(packet.peerId, packet.epoch)
      case "answer":
        return this.#instanceSeen(packet.peerId, packet.epoch)
      case "leave": {
        const link = this.#links.get(packet.peerId)
        if (link?.epoch === packet.epoch) this.#closeLink(link, true)
        return
      }
      case "data": {
        const link = this.#links.get(packet.peerId)
        if (link?.epoch === packet.epoch && link.open) this.#events?.received(link, packet.message)
        return
      }
    }
  }

  #streamEntry(bytes: Buffer): void {
    const packet = decodePacket(bytes)
    if (!packet || packet.kind !== "data") {
      this.#garbage++
      return
    }
    if (packet.peerId === this.instanceId && packet.epoch === this.epoch) return
    const { message } = packet
    if (message.type !== "doc-update" && message.type !== "doc-delete") {
      this.#garbage++
      return
    }
    // From a live instance through its link (a gap it can fill); from one that is gone, as history.
    const link = this.#links.get(packet.peerId)
    const via = link?.epoch === packet.epoch && link.open ? link : this.#history
    if (via.open) this.#events?.received(via, message)
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error("timed out")), ms).unref()),
  ])
}
