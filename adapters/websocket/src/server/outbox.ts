import type { Socket } from "node:net"
import { encodeMessageParts } from "@tandem/protocol"
import type { PeerMessage } from "@tandem/repo"
import type { WebSocket } from "ws"

/** A message ready for the socket: its WebSocket frames as the buffers to write, in order. */
interface WireMessage {
  chunks: Uint8Array[]
  /** Bytes of the protocol's frames (WebSocket headers not counted), for metrics. */
  bytes: number
}

// Frames this small are copied behind their WebSocket header into one buffer; larger ones are
// written as their pieces (a snapshot shared by every joiner is never copied).
const JOIN_BELOW = 16 * 1024

/**
 * Writes messages to WebSocket connections. A message sent to many connections (a room's
 * presence, a document's update) is encoded and framed once and the same bytes go to each; a
 * connection's writes during one turn of the event loop leave in one system call (the socket is
 * corked on its first write and uncorked once the turn's work is done), not one per message.
 */
export class Outbox {
  readonly #maxFrameBytes: number
  readonly #wire = new WeakMap<PeerMessage, WireMessage>()
  readonly #corked = new Set<Socket>()
  #flushScheduled = false
  readonly #flush = () => {
    this.#flushScheduled = false
    for (const socket of this.#corked) socket.uncork()
    this.#corked.clear()
  }

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes
  }

  /** Queues `message` on `ws` (which must be open) and returns the bytes it takes. */
  send(ws: WebSocket, message: PeerMessage): number {
    const wire = this.#encode(message)
    // ws keeps its socket private; writing to it directly keeps ws's own frames (pings, the
    // close) in order with ours, since both go through the same stream.
    const socket = (ws as unknown as { _socket: Socket | null })._socket
    if (!socket || socket.destroyed) return 0
    if (!this.#corked.has(socket)) {
      socket.cork()
      this.#corked.add(socket)
      if (!this.#flushScheduled) {
        this.#flushScheduled = true
        setImmediate(this.#flush)
      }
    }
    for (const chunk of wire.chunks) socket.write(chunk)
    return wire.bytes
  }

  #encode(message: PeerMessage): WireMessage {
    const cached = this.#wire.get(message)
    if (cached) return cached
    const chunks: Uint8Array[] = []
    let bytes = 0
    for (const parts of encodeMessageParts(message, this.#maxFrameBytes)) {
      let length = 0
      for (const part of parts) length += part.byteLength
      bytes += length
      const header = binaryFrameHeader(length)
      if (length < JOIN_BELOW) chunks.push(Buffer.concat([header, ...parts], header.byteLength + length))
      else chunks.push(header, ...parts)
    }
    const wire = { chunks, bytes }
    this.#wire.set(message, wire)
    return wire
  }
}

/** The header of a final, unmasked binary WebSocket frame (RFC 6455 §5.2) of `length` bytes. */
export function binaryFrameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x82, length])
  if (length < 0x10000) return Buffer.from([0x82, 126, length >>> 8, length & 0xff])
  const header = Buffer.alloc(10)
  header[0] = 0x82
  header[1] = 127
  header.writeUIntBE(length, 4, 6)
  return header
}
