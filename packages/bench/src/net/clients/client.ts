import type { PresenceValue } from "../content.js"

/** One bench client: a user's tab, connected to the server under test. */
export interface ClientSpec {
  /** Client index, unique in the run: the sender id stamped into what it sends. */
  id: number
  /** The server this client connects to, when not the session's one (a cluster of instances). */
  url?: string
  /** The room this client is in. */
  room: string
  /**
   * The id of the room's document in this system (what the server's prepare returned). Yjs and
   * Automerge presence rides on a document, so their clients open it even for presence alone.
   */
  channel: string
  /** Join the room with presence. */
  presence: boolean
  /** Open the room's document and follow its text. Without presence or a document the client only connects. */
  doc: boolean
}

export interface ClientEvents {
  /** Another member's presence arrived. */
  presence(value: PresenceValue): void
  /** Text another client inserted into the document arrived. */
  inserted(text: string): void
}

export interface NetClient {
  /**
   * Resolves once the client is usable: connected (and its handshake done), in its room and with
   * its document synced, as far as the spec asks for them.
   */
  ready: Promise<void>
  /** Characters of text in the client's copy of the document. */
  textLength(): number
  setPresence(value: PresenceValue): void
  /** Appends text to the document. */
  append(text: string): void
  close(): Promise<void>
}

export interface ClientDriver {
  connect(url: string, spec: ClientSpec, events: ClientEvents): NetClient
}
