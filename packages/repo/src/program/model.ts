import * as I from "immutable"
import type { ChannelId, DocId, PeerInfo } from "../types.js"

/**
 * Everything the synchronizer knows, as plain immutable data. Loro documents, presence values and
 * sockets live in the runtime; the model holds only what decisions are made from.
 */
export interface Model {
  readonly self: PeerInfo
  readonly config: ProgramConfig
  readonly hasStorage: boolean
  /** Adapters still making their first attempt to reach peers. */
  readonly adaptersStarting: number
  readonly channels: I.Map<ChannelId, ChannelModel>
  readonly docs: I.Map<DocId, DocModel>
  /** Documents deleted during this run: later updates for them are ignored. */
  readonly deleted: I.Set<DocId>
}

export interface ProgramConfig {
  /** How long changes collect before one storage write (ms). */
  readonly saveDelay: number
  /** How long a failed storage write waits before it is tried again (ms). */
  readonly saveRetryDelay: number
}

export interface ChannelModel {
  readonly id: ChannelId
  /** The far end, once its `hello` arrived. Until then the channel is still handshaking. */
  readonly peer: PeerInfo | null
  /** Documents this channel takes part in, so closing it touches only those. */
  readonly docs: I.Set<DocId>
}

export type DocStatus = "loading" | "ready" | "unavailable" | "deleted"

export interface DocModel {
  readonly id: DocId
  readonly status: DocStatus
  /** Opened by this repo's application: requested from every channel. */
  readonly wanted: boolean
  /** Known to hold content (from storage, a peer or a local change). */
  readonly hasContent: boolean
  /**
   * What storage said: being read, had it, had nothing (or there is no storage), or could not be
   * read, in which case nothing is written over what it holds.
   */
  readonly storage: "reading" | "found" | "empty" | "failed"
  /** Channels exchanging live updates of this document, both ways. */
  readonly synced: I.Set<ChannelId>
  /** Channels asked for the document that have not answered yet. */
  readonly awaiting: I.Set<ChannelId>
  /** Requests (with the asker's version) that arrived while storage was being read. */
  readonly deferred: I.Map<ChannelId, Uint8Array>
  readonly save: SaveState
}

export interface SaveState {
  /** Changes not yet handed to storage. */
  readonly dirty: boolean
  readonly scheduled: boolean
  readonly writing: boolean
  /** The next write must be a snapshot (storage may lack what memory has). */
  readonly compactNext: boolean
  /** Bytes of updates stored since the last snapshot. */
  readonly updateBytes: number
  readonly snapshotBytes: number
}

export const defaultProgramConfig: ProgramConfig = {
  saveDelay: 100,
  saveRetryDelay: 1000,
}

export function initialModel(options: {
  self: PeerInfo
  hasStorage: boolean
  adapters: number
  config?: Partial<ProgramConfig>
}): Model {
  return {
    self: options.self,
    config: { ...defaultProgramConfig, ...options.config },
    hasStorage: options.hasStorage,
    adaptersStarting: options.adapters,
    channels: I.Map(),
    docs: I.Map(),
    deleted: I.Set(),
  }
}

export function newDoc(id: DocId, hasStorage: boolean, wanted: boolean): DocModel {
  return {
    id,
    status: "loading",
    wanted,
    hasContent: false,
    storage: hasStorage ? "reading" : "empty",
    synced: I.Set(),
    awaiting: I.Set(),
    deferred: I.Map(),
    save: {
      dirty: false,
      scheduled: false,
      writing: false,
      compactNext: false,
      updateBytes: 0,
      snapshotBytes: 0,
    },
  }
}
