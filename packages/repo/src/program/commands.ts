import type { PeerMessage } from "../peer-message.js"
import type { ChannelId, DocId, PeerInfo } from "../types.js"
import type { Msg, ReportedError } from "./messages.js"
import type { DocStatus } from "./model.js"

/** What the program asks the runtime to do. Plain data: tests compare them with `toEqual`. */
export type Command =
  | { type: "send"; to: readonly ChannelId[]; message: PeerMessage }
  | { type: "close"; channelId: ChannelId }
  /** Ask for the document, stating this repo's version. */
  | { type: "request-sync"; to: readonly ChannelId[]; docId: DocId }
  /** Answer a request: a snapshot if they have nothing, else what they lack, and our version. */
  | { type: "answer-sync"; to: ChannelId; docId: DocId; theirVersion: Uint8Array }
  /** Send what the far end lacks, if anything, as a live update. */
  | { type: "send-missing"; to: ChannelId; docId: DocId; theirVersion: Uint8Array | null }
  /** Import bytes; if they brought something new, pass it on to `relayTo`. */
  | { type: "import"; docId: DocId; data: Uint8Array; from: ChannelId; relayTo: readonly ChannelId[] }
  | { type: "load"; docId: DocId }
  | { type: "save"; docId: DocId; compact: boolean }
  | { type: "remove-stored"; docId: DocId }
  /** Forget the Loro document: it was deleted. */
  | { type: "drop-doc"; docId: DocId }
  | { type: "schedule"; id: string; delay: number; message: Msg }
  | { type: "cancel"; id: string }
  | { type: "emit"; event: RepoEvent }

/** What the application hears, through `Repo`, handles and rooms. */
export type RepoEvent =
  | { type: "doc-created"; docId: DocId }
  | { type: "doc-deleted"; docId: DocId; remote: boolean }
  | { type: "doc-status"; docId: DocId; status: DocStatus }
  | { type: "peer-connected"; channelId: ChannelId; peer: PeerInfo }
  | { type: "peer-disconnected"; channelId: ChannelId; peer: PeerInfo }
  | { type: "error"; error: ReportedError }
