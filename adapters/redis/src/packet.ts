import { fromWire, toWire } from "@tandem/protocol"
import type { PeerMessage } from "@tandem/repo"
import { Encoder } from "cbor-x"

// What instances say to each other through Redis, in CBOR with the wire protocol's message table:
// data packets `[peerId, epoch, message]` carry a repo message from one instance, control packets
// `[kind, peerId, epoch]` carry the service's membership. Everything read from Redis is decoded
// and validated here; anything else (another program's keys, garbage) decodes to null.

export type ControlKind = "announce" | "answer" | "leave"

export type Packet =
  | { kind: "data"; peerId: string; epoch: string; message: PeerMessage }
  | { kind: ControlKind; peerId: string; epoch: string }

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false })
const controlKinds: ReadonlySet<string> = new Set<ControlKind>(["announce", "answer", "leave"])

export function encodeData(peerId: string, epoch: string, message: PeerMessage): Buffer {
  return cbor.encode([peerId, epoch, toWire(message)])
}

export function encodeControl(kind: ControlKind, peerId: string, epoch: string): Buffer {
  return cbor.encode([kind, peerId, epoch])
}

export function decodePacket(bytes: Uint8Array): Packet | null {
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    return null
  }
  if (!Array.isArray(value) || value.length !== 3) return null
  const [first, second, third] = value as unknown[]
  if (typeof first !== "string" || typeof second !== "string") return null
  if (Array.isArray(third)) {
    const parsed = fromWire(third)
    if (!parsed.ok) return null
    return { kind: "data", peerId: first, epoch: second, message: parsed.message }
  }
  if (typeof third !== "string" || !controlKinds.has(first)) return null
  return { kind: first as ControlKind, peerId: second, epoch: third }
}
