/** Identifiers and plain value types shared by every part of the repo. */

export type DocId = string
export type RoomId = string
/** One running repo (a tab, a process, a server instance). */
export type PeerId = string
/** One connection between two peers, unique within a repo. */
export type ChannelId = string

/** A JSON value: what presence, broadcast payloads and identities are made of. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/**
 * Who a peer says it is. A relay that authenticates connections replaces what the client
 * claims with what its credentials prove, so `userId` can be trusted wherever it is shown.
 */
export interface Identity {
  userId?: string
  name?: string
  [key: string]: Json | undefined
}

/** What one side of a channel learns about the other in the handshake. */
export interface PeerInfo {
  peerId: PeerId
  /** Random per running repo: tells a restarted peer with the same `peerId` from its old self. */
  session: string
  identity: Identity
  /** The far end forwards documents and room traffic between its channels. */
  relay: boolean
}
