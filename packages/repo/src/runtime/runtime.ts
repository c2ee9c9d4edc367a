import type { Channel, NetworkAdapter, NetworkEvents } from "../adapters/network.js"
import type { StorageAdapter } from "../adapters/storage.js"
import type { ErrorCode } from "../errors.js"
import { logger } from "../log.js"
import type { PeerMessage } from "../peer-message.js"
import type { Command, RepoEvent } from "../program/commands.js"
import type { Msg } from "../program/messages.js"
import type { Model } from "../program/model.js"
import { update } from "../program/update.js"
import type { ChannelId, DocId } from "../types.js"
import { DocStore } from "./doc-store.js"
import { Keepalive, type KeepaliveOptions } from "./keepalive.js"
import { jsonEqual, PresenceStore } from "./presence-store.js"
import { StorageQueue } from "./storage-queue.js"

const log = logger("runtime")

export interface RuntimeOptions {
  model: Model
  network: readonly NetworkAdapter[]
  storage: StorageAdapter | undefined
  keepalive: KeepaliveOptions | false
  onEvent: (event: RepoEvent) => void
  /** The wall clock (ms). Each repo reads only its own: peers' clocks may disagree. */
  clock: () => number
}

/**
 * Runs the synchronizer: a queue of messages, `update`, and an interpreter for the commands it
 * returns. Everything with an effect (sockets, storage, timers, Loro) happens here.
 */
export class Runtime {
  model: Model
  readonly docs: DocStore
  readonly presence = new PresenceStore()
  readonly #queue: Msg[] = []
  #draining = false
  #stopped = false
  readonly #channels = new Map<ChannelId, Channel>()
  readonly #channelIds = new WeakMap<Channel, ChannelId>()
  #nextChannel = 0
  #nextRequest = 0
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  readonly #storageQueue = new StorageQueue()
  readonly #keepalive: Keepalive | null
  /** Imports waiting for the end of the current task, by document: each document imports them in one batch. */
  readonly #imports = new Map<DocId, ImportCommand[]>()
  /** Channels whose adapter watches their liveness: the keepalive never pings or closes them. */
  readonly #unwatched = new Set<ChannelId>()

  constructor(private readonly options: RuntimeOptions) {
    this.model = options.model
    this.docs = new DocStore((docId, data) => this.dispatch({ type: "doc/local-change", docId, data }))
    this.#keepalive = options.keepalive
      ? new Keepalive(
          options.keepalive,
          (channelId) => this.#send([channelId], { type: "ping" }),
          (channelId) => {
            log.info("closing channel {channelId}: silent past the keepalive timeout", { channelId })
            this.#closeChannel(channelId, false, "TIMEOUT", "silent past the keepalive timeout")
          },
          options.clock,
        )
      : null
  }

  start(): void {
    const events: NetworkEvents = {
      opened: (channel) => {
        if (this.#stopped) return channel.close(true)
        const channelId = `c${++this.#nextChannel}`
        this.#channels.set(channelId, channel)
        this.#channelIds.set(channel, channelId)
        if (channel.keepalive === false) this.#unwatched.add(channelId)
        else this.#keepalive?.heard(channelId)
        this.dispatch({ type: "conn/opened", channelId, ...(channel.relayLink && { relayLink: true }) })
      },
      received: (channel, message) => {
        const channelId = this.#channelIds.get(channel)
        if (channelId === undefined || !this.#channels.has(channelId)) return
        if (!this.#unwatched.has(channelId)) this.#keepalive?.heard(channelId)
        this.dispatch({ type: "conn/received", channelId, message, now: this.options.clock() })
      },
      closed: (channel, how) => {
        const channelId = this.#channelIds.get(channel)
        if (channelId === undefined || !this.#channels.delete(channelId)) return
        this.#unwatched.delete(channelId)
        this.#keepalive?.forget(channelId)
        this.dispatch({ type: "conn/closed", channelId, clean: how.clean, now: this.options.clock() })
      },
      resync: (channel) => {
        const channelId = this.#channelIds.get(channel)
        if (channelId !== undefined && this.#channels.has(channelId))
          this.dispatch({ type: "conn/resync", channelId })
      },
    }
    for (const adapter of this.options.network) {
      adapter.start(events).then(
        () => this.dispatch({ type: "net/adapter-started" }),
        (error: unknown) => {
          log.error("network adapter {kind} failed to start: {error}", { kind: adapter.kind, error })
          this.dispatch({ type: "net/adapter-started" })
        },
      )
    }
  }

  dispatch(msg: Msg): void {
    if (this.#stopped) return
    this.#queue.push(msg)
    if (this.#draining) return
    this.#draining = true
    try {
      // Messages that commands dispatch while this loop runs are handled in order, after it.
      for (let i = 0; i < this.#queue.length; i++) {
        const next = this.#queue[i] as Msg
        const [model, commands] = update(next, this.model)
        this.model = model
        for (const command of commands) this.#execute(command)
      }
    } finally {
      this.#queue.length = 0
      this.#draining = false
    }
  }

  /** Writes every pending change and waits until storage has them. */
  async flush(): Promise<void> {
    for (;;) {
      this.dispatch({ type: "repo/flush" })
      await this.#storageQueue.idle()
      const pending = this.model.docs.some((doc) => doc.save.dirty || doc.save.writing)
      if (!pending || this.#stopped) return
    }
  }

  async shutdown(): Promise<void> {
    if (this.#stopped) return
    await this.flush()
    this.#stopped = true
    this.#keepalive?.stop()
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
    await Promise.allSettled(this.options.network.map((adapter) => adapter.stop()))
    for (const channel of this.#channels.values()) channel.close(true)
    this.#channels.clear()
    await this.#storageQueue.idle()
    await this.options.storage?.close?.()
    this.docs.dropAll()
    this.presence.freeAll()
  }

  #execute(command: Command): void {
    switch (command.type) {
      case "send":
        return this.#send(command.to, command.message)
      case "close":
        return this.#closeChannel(command.channelId, false, command.code, command.reason)
      case "request-sync": {
        const version = this.docs.version(command.docId)
        for (const to of command.to) {
          this.#send([to], { type: "sync-request", docId: command.docId, version, id: ++this.#nextRequest })
        }
        return
      }
      case "answer-sync": {
        const { docId, ref } = command
        // The answer must hold every update imported before it was asked for.
        this.#importQueued(docId)
        const answer = this.docs.answer(docId, command.theirVersion)
        if (!answer) return this.#invalid(command.to, `bad version vector for ${docId}`, ref)
        const reply = ref === undefined ? answer : { ...answer, ref }
        return this.#send([command.to], { type: "sync-response", docId, ...reply })
      }
      case "send-missing": {
        const data = this.docs.missing(command.docId, command.theirVersion)
        if (data) this.#send([command.to], { type: "doc-update", docId: command.docId, data })
        return
      }
      case "import": {
        const queued = this.#imports.get(command.docId)
        if (queued) return void queued.push(command)
        // The first import of a document in a task runs at once (a relay's fan-out stays
        // synchronous); those that follow it in the same task are imported together after it.
        this.#imports.set(command.docId, [])
        queueMicrotask(() => this.#importQueued(command.docId))
        return this.#importNow(command.docId, [command])
      }
      case "store-update": {
        const { storage } = this.options
        const { docId, data } = command
        if (!storage) return
        this.#storageQueue.run(docId, async () => {
          try {
            await storage.append(docId, data)
          } catch (error) {
            log.error("storing a relayed update of {docId} failed: {error}", { docId, error })
          }
        })
        return
      }
      case "load":
        return this.#load(command.docId)
      case "save":
        return this.#save(command.docId, command.compact)
      case "remove-stored":
        return this.#remove(command.docId)
      case "send-ack": {
        const version = this.docs.savedVersion(command.docId)
        if (version) this.#send(command.to, { type: "doc-ack", docId: command.docId, version })
        return
      }
      case "record-ack":
        if (this.docs.recordAck(command.docId, command.version)) {
          this.#emit({ type: "doc-acked", docId: command.docId })
        }
        return
      case "drop-doc":
        return this.docs.drop(command.docId)
      case "schedule": {
        const { id, delay, message } = command
        clearTimeout(this.#timers.get(id))
        this.#timers.set(
          id,
          setTimeout(() => {
            this.#timers.delete(id)
            this.dispatch(this.#stamp(message))
          }, delay),
        )
        return
      }
      case "cancel":
        clearTimeout(this.#timers.get(command.id))
        this.#timers.delete(command.id)
        return
      case "emit":
        return this.#emit(command.event)
      case "presence/set": {
        const { roomId, peerId, presence } = command
        const previous = this.presence.set(roomId, peerId, presence)
        if (command.announce && !jsonEqual(previous, presence)) {
          this.#emit({ type: "room-member-updated", roomId, peerId, previous, current: presence })
        }
        return
      }
      case "presence/delete":
        return this.presence.delete(command.roomId, command.peerId)
      case "presence/send": {
        const { self } = this.model
        return this.#send(command.to, {
          type: "room-presence",
          roomId: command.roomId,
          peerId: self.peerId,
          session: self.session,
          seq: command.seq,
          presence: this.presence.get(command.roomId, self.peerId) ?? null,
        })
      }
      case "room/send-join": {
        const presence = this.presence.get(command.roomId, this.model.self.peerId) ?? null
        const { session } = this.model.self
        for (const to of command.to) {
          const id = ++this.#nextRequest
          this.#send([to], {
            type: "room-join",
            roomId: command.roomId,
            session,
            seq: command.seq,
            presence,
            id,
          })
        }
        return
      }
      case "room/send-snapshot": {
        const { roomId } = command
        const members = command.members.map(({ userId, ...member }) => ({
          ...member,
          ...(userId !== undefined && { userId }),
          presence: this.presence.get(roomId, member.peerId) ?? null,
        }))
        const ref = command.ref === undefined ? {} : { ref: command.ref }
        return this.#send([command.to], { type: "room-snapshot", roomId, members, ...ref })
      }
      case "room/free":
        return this.presence.free(command.roomId)
    }
  }

  /** Imports every update that arrived for the document during this task, in one Loro call. */
  #importQueued(docId: DocId): void {
    const batch = this.#imports.get(docId) ?? []
    this.#imports.delete(docId)
    if (batch.length > 0) this.#importNow(docId, batch)
  }

  #importNow(docId: DocId, batch: readonly ImportCommand[]): void {
    if (this.#stopped || !this.model.docs.has(docId)) return
    const sources = new Set(batch.map((command) => command.from))
    const [only] = sources.size === 1 ? sources : []
    const from = only === undefined ? undefined : this.model.channels.get(only)?.peer?.peerId
    const outcome = this.docs.importBatch(
      docId,
      batch.map((command) => command.data),
      from,
      batch.some((command) => command.relayTo.length > 0),
    )
    if (outcome.relay) this.#relayBatch(docId, batch, outcome.relay, sources)
    for (const [index, command] of batch.entries()) {
      this.dispatch({
        type: "doc/imported",
        docId,
        from: command.from,
        applied: outcome.applied,
        pending: outcome.pending,
        invalid: outcome.invalid || outcome.invalidAt.has(index),
      })
    }
  }

  /**
   * Passes on what a batch brought: channels that sent nothing in it get all of it at once; a
   * channel that sent part of it gets the other parts meant for it, never its own bytes back.
   */
  #relayBatch(
    docId: DocId,
    batch: readonly ImportCommand[],
    relay: Uint8Array,
    sources: Set<ChannelId>,
  ): void {
    const targets = new Set(batch.flatMap((command) => command.relayTo))
    const whole = [...targets].filter((id) => !sources.has(id))
    if (whole.length > 0) this.#send(whole, { type: "doc-update", docId, data: relay })
    for (const source of sources) {
      if (!targets.has(source)) continue
      for (const command of batch) {
        if (command.from === source || !command.relayTo.includes(source)) continue
        this.#send([source], { type: "doc-update", docId, data: command.data })
      }
    }
  }

  #send(to: readonly ChannelId[], message: PeerMessage): void {
    for (const channelId of to) this.#channels.get(channelId)?.send(message)
  }

  /** Timer messages that carry a time get the time they fired. */
  #stamp(message: Msg): Msg {
    return "now" in message ? { ...message, now: this.options.clock() } : message
  }

  #invalid(to: ChannelId, message: string, ref?: number): void {
    this.#send([to], { type: "error", code: "INVALID_MESSAGE", message, ...(ref !== undefined && { ref }) })
  }

  #closeChannel(channelId: ChannelId, clean: boolean, code?: ErrorCode, reason?: string): void {
    const channel = this.#channels.get(channelId)
    if (!channel) return
    this.#channels.delete(channelId)
    this.#keepalive?.forget(channelId)
    channel.close(clean, code, reason)
    this.dispatch({ type: "conn/closed", channelId, clean, now: this.options.clock() })
  }

  #emit(event: RepoEvent): void {
    try {
      this.options.onEvent(event)
    } catch (error) {
      log.error("an event listener threw: {error}", { error })
    }
  }

  #load(docId: DocId): void {
    const { storage } = this.options
    if (!storage) return
    this.docs.ensure(docId)
    this.#storageQueue.run(docId, async () => {
      try {
        const stored = await storage.load(docId)
        if (!this.docs.has(docId)) return
        const outcome = this.docs.load(docId, stored)
        this.dispatch({ type: "storage/loaded", docId, found: stored !== undefined, ...outcome })
      } catch (error) {
        log.error("loading {docId} failed: {error}", { docId, error })
        this.dispatch({ type: "storage/failed", docId, operation: "load", error: describe(error) })
      }
    })
  }

  #save(docId: DocId, compact: boolean): void {
    const { storage } = this.options
    const write = this.docs.exportForSave(docId, compact)
    if (!storage || !write) return
    this.#storageQueue.run(docId, async () => {
      try {
        if (write.compacted) await storage.compact(docId, write.bytes)
        else if (write.bytes.byteLength > 0) await storage.append(docId, write.bytes)
        write.commit()
        this.dispatch({
          type: "storage/saved",
          docId,
          compacted: write.compacted,
          bytes: write.bytes.byteLength,
        })
      } catch (error) {
        log.error("saving {docId} failed: {error}", { docId, error })
        this.dispatch({ type: "storage/failed", docId, operation: "save", error: describe(error) })
      }
    })
  }

  #remove(docId: DocId): void {
    const { storage } = this.options
    if (!storage) return
    this.#storageQueue.run(docId, async () => {
      try {
        await storage.remove(docId)
      } catch (error) {
        this.dispatch({ type: "storage/failed", docId, operation: "remove", error: describe(error) })
      }
    })
  }
}

type ImportCommand = Extract<Command, { type: "import" }>

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
