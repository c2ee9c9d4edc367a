import type { ErrorCode } from "../errors.js"
import type { PeerMessage } from "../peer-message.js"

/**
 * One connection to one peer. The adapter that opened it owns it; the repo only sends on it
 * and asks it to close. The repo gives each channel its own id, so adapters need none.
 */
export interface Channel {
  /**
   * The far end is another instance of the same relay service (a full mesh, as the Redis relay
   * builds): traffic that came over one link is never passed on to another, since every instance
   * hears every other directly, and links are not acknowledged for document writes.
   */
  readonly relayLink?: boolean
  /** `false`: the adapter watches this channel's liveness itself; the repo's keepalive leaves it alone. */
  readonly keepalive?: boolean
  send(message: PeerMessage): void
  /**
   * Closes the connection. `clean` says whether the far end should treat it as a goodbye; `code`
   * says why when the repo closes it for a reason (a refused handshake, a dead connection).
   */
  close(clean: boolean, code?: ErrorCode, reason?: string): void
}

export interface ChannelClosed {
  /** A goodbye (the far end left on purpose), as opposed to a lost connection. */
  clean: boolean
  reason?: string
}

/** How an adapter tells the repo what happens on its connections. */
export interface NetworkEvents {
  opened(channel: Channel): void
  received(channel: Channel, message: PeerMessage): void
  closed(channel: Channel, how: ChannelClosed): void
  /**
   * Messages on this channel may have been lost (the adapter saw a gap): sync every document and
   * room in use on it again, without closing it.
   */
  resync?(channel: Channel): void
}

/**
 * A network adapter yields channels to peers. `start` resolves once the first attempt to reach
 * its peers has finished (connected or failed): until then the repo does not call a document
 * unavailable, since a peer that has it may be about to arrive.
 */
export interface NetworkAdapter {
  readonly kind: string
  start(events: NetworkEvents): Promise<void>
  /** Closes every channel cleanly and stops reconnecting. */
  stop(): Promise<void>
}
