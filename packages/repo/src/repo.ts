import { EventEmitter } from "eventemitter3"
import type { Container } from "loro-crdt"
import type { NetworkAdapter } from "./adapters/network.js"
import type { StorageAdapter } from "./adapters/storage.js"
import { DocHandle } from "./docs/doc-handle.js"
import { randomId } from "./ids.js"
import type { RepoEvent } from "./program/commands.js"
import type { ReportedError } from "./program/messages.js"
import { initialModel, type ProgramConfig } from "./program/model.js"
import { defaultKeepalive, type KeepaliveOptions } from "./runtime/keepalive.js"
import { Runtime } from "./runtime/runtime.js"
import type { DocId, Identity, PeerId, PeerInfo } from "./types.js"

export interface RepoOptions {
  /** This repo's id among its peers. Random by default; give each running repo its own. */
  peerId?: PeerId
  /** Who is behind this repo. A relay that authenticates replaces it with what credentials prove. */
  identity?: Identity
  network?: NetworkAdapter[]
  storage?: StorageAdapter
  /**
   * Forward documents and room traffic between channels. Set it on a repo other peers reach only
   * through it: a server, or a hub in tests. Peers that all connect to each other do not relay.
   */
  relay?: boolean
  /** How long changes collect before one storage write (ms, default 100). */
  saveDelay?: number
  /**
   * Pings silent channels and closes those silent past the timeout (default 15 s / 30 s).
   * `false` leaves liveness to the adapters.
   */
  keepalive?: Partial<KeepaliveOptions> | false
}

export interface RepoEvents {
  "doc-created": [{ docId: DocId }]
  "doc-deleted": [{ docId: DocId; remote: boolean }]
  "peer-connected": [{ peer: PeerInfo }]
  "peer-disconnected": [{ peer: PeerInfo }]
  error: [ReportedError]
}

/**
 * The entry point: documents that sync through network adapters and persist through storage.
 * Events are forward-only: read the current state first, then subscribe.
 */
export class Repo {
  readonly peerId: PeerId
  readonly identity: Identity
  /** Random per running repo: tells this run apart from another run with the same `peerId`. */
  readonly session: string
  readonly #runtime: Runtime
  readonly #handles = new Map<DocId, DocHandle>()
  readonly #events = new EventEmitter<RepoEvents>()
  readonly #peers = new Map<string, PeerInfo>()

  constructor(options: RepoOptions = {}) {
    this.peerId = options.peerId ?? `peer-${randomId(8)}`
    this.identity = options.identity ?? {}
    this.session = randomId(8)
    const network = options.network ?? []
    const config: Partial<ProgramConfig> =
      options.saveDelay === undefined ? {} : { saveDelay: options.saveDelay }
    this.#runtime = new Runtime({
      model: initialModel({
        self: {
          peerId: this.peerId,
          session: this.session,
          identity: this.identity,
          relay: options.relay ?? false,
        },
        hasStorage: options.storage !== undefined,
        adapters: network.length,
        config,
      }),
      network,
      storage: options.storage,
      keepalive: options.keepalive === false ? false : { ...defaultKeepalive, ...options.keepalive },
      onEvent: (event) => this.#onEvent(event),
    })
    this.#runtime.start()
  }

  /** The handle of a document: the same handle for the same id, created (and loaded) on first use. */
  get<T extends Record<string, Container> = Record<string, Container>>(docId: DocId): DocHandle<T> {
    let handle = this.#handles.get(docId)
    if (!handle) {
      const doc = this.#runtime.docs.ensure(docId)
      handle = new DocHandle(docId, doc, () => this.#runtime.docs.importingFrom)
      this.#handles.set(docId, handle)
      this.#runtime.dispatch({ type: "doc/open", docId })
      const status = this.#runtime.model.docs.get(docId)?.status
      if (status) handle.setStatus(status)
    }
    return handle as unknown as DocHandle<T>
  }

  /** Whether this repo holds the document in memory (opened here, or kept for peers). */
  has(docId: DocId): boolean {
    return this.#runtime.model.docs.has(docId)
  }

  getDocIds(): DocId[] {
    return [...this.#runtime.model.docs.keys()]
  }

  /** Removes the document from memory and storage, and tells the peers that sync it. */
  async delete(docId: DocId): Promise<void> {
    this.#runtime.dispatch({ type: "doc/delete", docId })
    await this.#runtime.flush()
  }

  /** Resolves once every change made so far is in storage. */
  flush(): Promise<void> {
    return this.#runtime.flush()
  }

  /** Writes what is pending, closes every channel and stops every timer. */
  shutdown(): Promise<void> {
    return this.#runtime.shutdown()
  }

  /** Peers connected right now (one per established channel). */
  getPeers(): PeerInfo[] {
    return [...this.#peers.values()]
  }

  on<K extends keyof RepoEvents>(event: K, listener: (...args: RepoEvents[K]) => void): () => void {
    this.#events.on(event, listener as never)
    return () => {
      this.#events.off(event, listener as never)
    }
  }

  #onEvent(event: RepoEvent): void {
    switch (event.type) {
      case "doc-status": {
        const handle = this.#handles.get(event.docId)
        handle?.setStatus(event.status)
        if (event.status === "deleted") this.#handles.delete(event.docId)
        return
      }
      case "doc-created":
        this.#events.emit("doc-created", { docId: event.docId })
        return
      case "doc-deleted":
        this.#events.emit("doc-deleted", { docId: event.docId, remote: event.remote })
        return
      case "peer-connected":
        this.#peers.set(event.channelId, event.peer)
        this.#events.emit("peer-connected", { peer: event.peer })
        return
      case "peer-disconnected":
        this.#peers.delete(event.channelId)
        this.#events.emit("peer-disconnected", { peer: event.peer })
        return
      case "error":
        this.#events.emit("error", event.error)
        return
    }
  }
}
