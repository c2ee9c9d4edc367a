import { MIN_PROTOCOL_VERSION, type PeerMessage, PROTOCOL_VERSION } from "@tandem/repo"
import { Encoder } from "cbor-x"
import { fromWire, toWire } from "./schema.js"

// A frame is one WebSocket message: a version byte, a kind byte, then either a whole message
// (CBOR) or a fragment of one. Fragments carry a stream id, the message's total length and their
// offset, and arrive in order (the transport is ordered), so reassembly is a copy into place.

/** Every protocol version this code accepts: the current one and the one before it. */
export const SUPPORTED_VERSIONS: readonly number[] = Array.from(
  { length: PROTOCOL_VERSION - MIN_PROTOCOL_VERSION + 1 },
  (_, i) => MIN_PROTOCOL_VERSION + i,
)

const WHOLE = 0
const FRAGMENT = 1
const HEADER_BYTES = 2
const FRAGMENT_HEADER_BYTES = HEADER_BYTES + 12

export interface FrameLimits {
  /** Largest frame (one WebSocket message), header included; larger messages are fragmented. */
  maxFrameBytes: number
  /** Largest message after reassembly. */
  maxMessageBytes: number
  /** Fragmented messages that may be in flight at once on one connection. */
  maxPartialMessages: number
}

export const defaultFrameLimits: FrameLimits = {
  maxFrameBytes: 1024 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
  maxPartialMessages: 4,
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })

// The same message object sent to many channels (a relay's fan-out) is encoded once; a message
// decoded from a frame remembers that frame, so passing it on costs no encoding at all.
const encodings = new WeakMap<PeerMessage, Uint8Array[]>()
const partEncodings = new WeakMap<PeerMessage, FrameParts[]>()
let nextStream = 0

/**
 * A frame as the pieces that make it up, in order. A large byte field (a snapshot) is one of the
 * pieces as it is, never copied: a relay answering 150 joiners with the same snapshot writes the
 * same bytes 150 times and encodes only the few bytes around them for each.
 */
export type FrameParts = readonly Uint8Array[]

// Byte fields at least this large are referenced rather than copied into the encoding.
const SHARED_BYTES = 16 * 1024

/** The frames that carry `message`: one, or several fragments when it is larger than a frame. */
export function encodeMessage(
  message: PeerMessage,
  maxFrameBytes = defaultFrameLimits.maxFrameBytes,
): Uint8Array[] {
  const cached = encodings.get(message)
  if (cached?.every((frame) => frame.byteLength <= maxFrameBytes)) return cached
  const frames = encodeMessageParts(message, maxFrameBytes).map(joinParts)
  encodings.set(message, frames)
  return frames
}

/** The frames of `encodeMessage`, each as its pieces, for a writer that can gather them (writev). */
export function encodeMessageParts(
  message: PeerMessage,
  maxFrameBytes = defaultFrameLimits.maxFrameBytes,
): FrameParts[] {
  const cached = partEncodings.get(message)
  if (cached?.every((frame) => partsLength(frame) <= maxFrameBytes)) return cached
  const body = bodyParts(toWire(message))
  const size = partsLength(body)
  const frames = size + HEADER_BYTES <= maxFrameBytes ? [whole(body)] : fragments(body, size, maxFrameBytes)
  partEncodings.set(message, frames)
  return frames
}

/** The size of a value in this protocol's encoding: what limits on presence and payloads count. */
export function encodedSize(value: unknown): number {
  return cbor.encode(value).byteLength
}

/** The CBOR encoding of a wire array, as pieces: large byte fields by reference. */
function bodyParts(wire: unknown[]): Uint8Array[] {
  const large = wire.some((value) => value instanceof Uint8Array && value.byteLength >= SHARED_BYTES)
  // cbor-x reuses its buffer: what it returns is copied before the next encode.
  if (!large || wire.length >= 24) return [cbor.encode(wire).slice()]
  const parts: Uint8Array[] = []
  let small: Uint8Array[] = [Uint8Array.of(0x80 | wire.length)]
  for (const value of wire) {
    if (value instanceof Uint8Array && value.byteLength >= SHARED_BYTES) {
      small.push(byteStringHeader(value.byteLength))
      parts.push(joinParts(small), value)
      small = []
    } else small.push(cbor.encode(value).slice())
  }
  if (small.length > 0) parts.push(joinParts(small))
  return parts
}

function byteStringHeader(length: number): Uint8Array {
  if (length < 0x10000) return Uint8Array.of(0x59, length >>> 8, length & 0xff)
  return Uint8Array.of(0x5a, length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff)
}

function partsLength(parts: readonly Uint8Array[]): number {
  let length = 0
  for (const part of parts) length += part.byteLength
  return length
}

function joinParts(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const out = new Uint8Array(partsLength(parts))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.byteLength
  }
  return out
}

/** The pieces of `parts` that cover bytes [start, end). */
function sliceParts(parts: readonly Uint8Array[], start: number, end: number): Uint8Array[] {
  const out: Uint8Array[] = []
  let at = 0
  for (const part of parts) {
    const from = Math.max(start, at)
    const to = Math.min(end, at + part.byteLength)
    if (from < to) out.push(part.subarray(from - at, to - at))
    at += part.byteLength
    if (at >= end) break
  }
  return out
}

function whole(body: Uint8Array[]): FrameParts {
  const header = Uint8Array.of(PROTOCOL_VERSION, WHOLE)
  // Small frames are one piece: one buffer to write.
  return body.length === 1 ? [joinParts([header, ...body])] : [header, ...body]
}

function fragments(body: Uint8Array[], size: number, maxFrameBytes: number): FrameParts[] {
  const chunk = maxFrameBytes - FRAGMENT_HEADER_BYTES
  if (chunk <= 0) throw new RangeError(`a frame limit of ${maxFrameBytes} bytes leaves no room for data`)
  nextStream = (nextStream + 1) >>> 0
  const stream = nextStream
  const out: FrameParts[] = []
  for (let offset = 0; offset < size; offset += chunk) {
    const header = new Uint8Array(FRAGMENT_HEADER_BYTES)
    const view = new DataView(header.buffer)
    header[0] = PROTOCOL_VERSION
    header[1] = FRAGMENT
    view.setUint32(2, stream)
    view.setUint32(6, size)
    view.setUint32(10, offset)
    out.push([header, ...sliceParts(body, offset, Math.min(size, offset + chunk))])
  }
  return out
}

export type Decoded =
  | { kind: "message"; message: PeerMessage }
  /** A fragment was stored; the message is not complete yet. */
  | { kind: "partial" }
  /** The frame was well formed but its message is not: answer `INVALID_MESSAGE`, keep the connection. */
  | { kind: "invalid"; reason: string; ref?: number }
  /** The framing itself is broken or over a limit: close the connection with this code. */
  | { kind: "fatal"; code: "UNSUPPORTED_PROTOCOL" | "INVALID_MESSAGE" | "MESSAGE_TOO_LARGE"; reason: string }

/** Turns the frames of one connection back into messages, within its limits. */
export class FrameDecoder {
  readonly #partials = new Map<number, { body: Uint8Array; received: number }>()
  #buffered = 0

  constructor(private readonly limits: FrameLimits = defaultFrameLimits) {}

  push(frame: Uint8Array): Decoded {
    if (frame.byteLength < HEADER_BYTES)
      return fatal("INVALID_MESSAGE", "a frame has at least two header bytes")
    if (frame.byteLength > this.limits.maxFrameBytes) {
      return fatal("MESSAGE_TOO_LARGE", `a frame of ${frame.byteLength} bytes is over the limit`)
    }
    const version = frame[0] as number
    if (!SUPPORTED_VERSIONS.includes(version)) {
      return fatal(
        "UNSUPPORTED_PROTOCOL",
        `protocol ${version} is not supported; this peer speaks ${SUPPORTED_VERSIONS.join(" or ")}`,
      )
    }
    if (frame[1] === WHOLE) return this.#decode(frame, frame.subarray(HEADER_BYTES))
    if (frame[1] === FRAGMENT) return this.#fragment(frame)
    return fatal("INVALID_MESSAGE", `unknown frame kind ${frame[1]}`)
  }

  #fragment(frame: Uint8Array): Decoded {
    if (frame.byteLength < FRAGMENT_HEADER_BYTES)
      return fatal("INVALID_MESSAGE", "a fragment header is cut short")
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
    const stream = view.getUint32(2)
    const total = view.getUint32(6)
    const offset = view.getUint32(10)
    const data = frame.subarray(FRAGMENT_HEADER_BYTES)
    let partial = this.#partials.get(stream)
    if (!partial) {
      if (offset !== 0) return fatal("INVALID_MESSAGE", `stream ${stream} starts at offset ${offset}`)
      if (total > this.limits.maxMessageBytes) {
        return fatal("MESSAGE_TOO_LARGE", `a message of ${total} bytes is over the limit`)
      }
      if (this.#partials.size >= this.limits.maxPartialMessages) {
        return fatal("INVALID_MESSAGE", "too many fragmented messages in flight")
      }
      if (this.#buffered + total > this.limits.maxMessageBytes) {
        return fatal("MESSAGE_TOO_LARGE", "fragmented messages in flight are over the limit")
      }
      partial = { body: new Uint8Array(total), received: 0 }
      this.#partials.set(stream, partial)
      this.#buffered += total
    }
    if (
      offset !== partial.received ||
      total !== partial.body.byteLength ||
      offset + data.byteLength > total
    ) {
      return fatal("INVALID_MESSAGE", `fragment of stream ${stream} does not follow the previous one`)
    }
    partial.body.set(data, offset)
    partial.received += data.byteLength
    if (partial.received < total) return { kind: "partial" }
    this.#partials.delete(stream)
    this.#buffered -= total
    return this.#decode(null, partial.body)
  }

  #decode(frame: Uint8Array | null, body: Uint8Array): Decoded {
    let wire: unknown
    try {
      wire = cbor.decode(body)
    } catch (error) {
      return {
        kind: "invalid",
        reason: `not CBOR: ${error instanceof Error ? error.message : String(error)}`,
      }
    }
    const parsed = fromWire(wire)
    if (!parsed.ok) {
      return parsed.ref === undefined
        ? { kind: "invalid", reason: parsed.reason }
        : { kind: "invalid", reason: parsed.reason, ref: parsed.ref }
    }
    if (frame) {
      encodings.set(parsed.message, [frame])
      partEncodings.set(parsed.message, [[frame]])
    }
    return { kind: "message", message: parsed.message }
  }
}

function fatal(
  code: "UNSUPPORTED_PROTOCOL" | "INVALID_MESSAGE" | "MESSAGE_TOO_LARGE",
  reason: string,
): Decoded {
  return { kind: "fatal", code, reason }
}
