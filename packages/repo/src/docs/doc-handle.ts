import { EventEmitter } from "eventemitter3"
import type { Container, LoroDoc, LoroEventBatch } from "loro-crdt"
import { TandemError } from "../errors.js"
import type { DocStatus } from "../program/model.js"
import type { DocId, PeerId } from "../types.js"

export type { DocStatus }

export interface DocChange {
  /** The change was made in this repo (a commit), not imported from a peer. */
  local: boolean
  /** For a local change: the origin given to `change` or `commit`. */
  origin: string | undefined
  /** For a remote change: the peer whose bytes brought it. */
  from: PeerId | undefined
  /** Loro's own event, with the diff of every container that changed. */
  batch: LoroEventBatch
}

/** Whether this repo's own changes are safe on a durable peer (a relay with durable storage). */
export type SyncStatus = "saving" | "saved"

interface HandleEvents {
  change: [DocChange]
  status: [DocStatus]
  "sync-status": [SyncStatus]
}

/** What a handle needs from its repo. */
export interface HandleHost {
  /** The peer whose bytes are being imported right now, if any. */
  importingFrom(): PeerId | undefined
  /** Every change made here is acknowledged by a durable peer. */
  acknowledged(): boolean
  /** The application listens for changes from now on: loading should favour building events. */
  watching(): void
  close(): void
}

export interface WhenReadyOptions {
  /** Give up after this many milliseconds (rejects with `TIMEOUT`). */
  timeout?: number
  signal?: AbortSignal
}

/**
 * One document of a repo. The handle and its `doc` exist at once, before anything is loaded:
 * edits made while loading merge with what storage and peers bring.
 */
export class DocHandle<T extends Record<string, Container> = Record<string, Container>> {
  readonly #events = new EventEmitter<HandleEvents>()
  #status: DocStatus = "loading"
  #syncStatus: SyncStatus = "saved"
  #unsubscribeDoc: (() => void) | null = null
  readonly #unsubscribeLocal: () => void

  constructor(
    readonly docId: DocId,
    readonly doc: LoroDoc<T>,
    private readonly host: HandleHost,
  ) {
    this.#unsubscribeLocal = doc.subscribeLocalUpdates(() => this.#setSyncStatus("saving"))
  }

  /** `loading` until storage or a peer answered; then `ready` or `unavailable`; at the end `deleted` or `closed`. */
  get status(): DocStatus {
    return this.#status
  }

  /** `saved` once every change made here is acknowledged by a durable peer, else `saving`. */
  get syncStatus(): SyncStatus {
    return this.#syncStatus
  }

  /** Writes what is pending, stops syncing the document and frees it. `repo.get` opens it again. */
  close(): void {
    this.host.close()
  }

  /** Runs `fn` on the document and commits what it did as one change. */
  change(fn: (doc: LoroDoc<T>) => void, options: { origin?: string; message?: string } = {}): void {
    if (this.#status === "deleted") {
      throw new TandemError("DOC_DELETED", `document ${this.docId} was deleted`)
    }
    if (this.#status === "closed") {
      throw new TandemError("DOC_CLOSED", `document ${this.docId} was closed: get it from the repo again`)
    }
    fn(this.doc)
    this.doc.commit(options)
  }

  /** Listens for changes, local and remote. Returns the function that stops listening. */
  on(event: "change", listener: (change: DocChange) => void): () => void
  on(event: "status", listener: (status: DocStatus) => void): () => void
  on(event: "sync-status", listener: (status: SyncStatus) => void): () => void
  on(event: keyof HandleEvents, listener: (arg: never) => void): () => void {
    if (event === "change") this.#watchDoc()
    this.#events.on(event, listener as never)
    return () => {
      this.#events.off(event, listener as never)
    }
  }

  /**
   * Resolves with `ready` once the document came from storage or a peer, or with `unavailable`
   * when neither storage nor any connected peer has it. A brand-new document is `unavailable`
   * until the first change makes it `ready`.
   */
  whenReady(options: WhenReadyOptions = {}): Promise<"ready" | "unavailable"> {
    const settled = this.#settled()
    if (settled) return settled
    return new Promise((resolve, reject) => {
      const { timeout, signal } = options
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = () => {
        stop()
        clearTimeout(timer)
        signal?.removeEventListener("abort", aborted)
      }
      const stop = this.on("status", () => {
        const result = this.#settled()
        if (!result) return
        done()
        result.then(resolve, reject)
      })
      const aborted = () => {
        done()
        reject(new TandemError("ABORTED", `waiting for ${this.docId} was aborted`))
      }
      if (signal?.aborted) return aborted()
      signal?.addEventListener("abort", aborted, { once: true })
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          done()
          reject(new TandemError("TIMEOUT", `${this.docId} was not ready after ${timeout} ms`))
        }, timeout)
      }
    })
  }

  /**
   * Resolves once every change made here so far is acknowledged by a durable peer: it survives a
   * crash of that peer. Rejects at the timeout (`TIMEOUT`) or when aborted (`ABORTED`).
   */
  whenAcknowledged(options: WhenReadyOptions = {}): Promise<void> {
    if (this.#syncStatus === "saved") return Promise.resolve()
    return new Promise((resolve, reject) => {
      const { timeout, signal } = options
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = () => {
        stop()
        clearTimeout(timer)
        signal?.removeEventListener("abort", aborted)
      }
      const stop = this.on("sync-status", (status) => {
        if (status !== "saved") return
        done()
        resolve()
      })
      const aborted = () => {
        done()
        reject(new TandemError("ABORTED", `waiting for ${this.docId} to be acknowledged was aborted`))
      }
      if (signal?.aborted) return aborted()
      signal?.addEventListener("abort", aborted, { once: true })
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          done()
          reject(new TandemError("TIMEOUT", `${this.docId} was not acknowledged after ${timeout} ms`))
        }, timeout)
      }
    })
  }

  /** @internal The repo reports status changes here. */
  setStatus(status: DocStatus): void {
    if (status === this.#status) return
    this.#status = status
    if (status === "deleted" || status === "closed") {
      this.#unwatchDoc()
      this.#unsubscribeLocal()
    }
    this.#events.emit("status", status)
  }

  /** @internal The repo reports acknowledgements here. */
  acknowledgementsChanged(): void {
    if (this.host.acknowledged()) this.#setSyncStatus("saved")
  }

  #setSyncStatus(status: SyncStatus): void {
    if (status === this.#syncStatus) return
    // A local change already acknowledged (it can happen within one import) stays saved.
    if (status === "saving" && this.host.acknowledged()) return
    this.#syncStatus = status
    this.#events.emit("sync-status", status)
  }

  #settled(): Promise<"ready" | "unavailable"> | null {
    switch (this.#status) {
      case "ready":
      case "unavailable":
        return Promise.resolve(this.#status)
      case "deleted":
        return Promise.reject(new TandemError("DOC_DELETED", `document ${this.docId} was deleted`))
      case "closed":
        return Promise.reject(new TandemError("DOC_CLOSED", `document ${this.docId} was closed`))
      case "loading":
        return null
    }
  }

  // Loro computes event diffs only while someone subscribes, so subscribe only when asked to.
  #watchDoc(): void {
    if (this.#unsubscribeDoc) return
    this.host.watching()
    this.#unsubscribeDoc = this.doc.subscribe((batch) => {
      const local = batch.by === "local"
      this.#events.emit("change", {
        local,
        origin: local ? batch.origin || undefined : undefined,
        from: local ? undefined : this.host.importingFrom(),
        batch,
      })
    })
  }

  #unwatchDoc(): void {
    this.#unsubscribeDoc?.()
    this.#unsubscribeDoc = null
  }
}
