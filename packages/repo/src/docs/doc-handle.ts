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

interface HandleEvents {
  change: [DocChange]
  status: [DocStatus]
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
  #unsubscribeDoc: (() => void) | null = null

  constructor(
    readonly docId: DocId,
    readonly doc: LoroDoc<T>,
    private readonly importingFrom: () => PeerId | undefined,
  ) {}

  /** `loading` until storage or a peer answered; then `ready`, `unavailable` or `deleted`. */
  get status(): DocStatus {
    return this.#status
  }

  /** Runs `fn` on the document and commits what it did as one change. */
  change(fn: (doc: LoroDoc<T>) => void, options: { origin?: string; message?: string } = {}): void {
    if (this.#status === "deleted") {
      throw new TandemError("DOC_DELETED", `document ${this.docId} was deleted`)
    }
    fn(this.doc)
    this.doc.commit(options)
  }

  /** Listens for changes, local and remote. Returns the function that stops listening. */
  on(event: "change", listener: (change: DocChange) => void): () => void
  on(event: "status", listener: (status: DocStatus) => void): () => void
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

  /** @internal The repo reports status changes here. */
  setStatus(status: DocStatus): void {
    if (status === this.#status) return
    this.#status = status
    if (status === "deleted") this.#unwatchDoc()
    this.#events.emit("status", status)
  }

  #settled(): Promise<"ready" | "unavailable"> | null {
    switch (this.#status) {
      case "ready":
      case "unavailable":
        return Promise.resolve(this.#status)
      case "deleted":
        return Promise.reject(new TandemError("DOC_DELETED", `document ${this.docId} was deleted`))
      case "loading":
        return null
    }
  }

  // Loro computes event diffs only while someone subscribes, so subscribe only when asked to.
  #watchDoc(): void {
    if (this.#unsubscribeDoc) return
    this.#unsubscribeDoc = this.doc.subscribe((batch) => {
      const local = batch.by === "local"
      this.#events.emit("change", {
        local,
        origin: local ? batch.origin || undefined : undefined,
        from: local ? undefined : this.importingFrom(),
        batch,
      })
    })
  }

  #unwatchDoc(): void {
    this.#unsubscribeDoc?.()
    this.#unsubscribeDoc = null
  }
}
