import { crc32 } from "node:zlib"

/** What precedes a record's payload: its length (u32) and a CRC-32 of the length and the payload. */
export const RECORD_OVERHEAD = 8
export const MAX_PAYLOAD_BYTES = 0xffff_ffff

export type RecordRead =
  | { kind: "record"; payload: Uint8Array; end: number }
  /** The bytes stop before the record does: a write cut short by a crash. */
  | { kind: "torn" }
  /** The checksum does not match: a torn write that left old bytes behind, or damage. */
  | { kind: "corrupt" }

/** A copy of `payload` framed as a record, so a caller's later change to its buffer cannot reach it. */
export function encodeRecord(payload: Uint8Array): Uint8Array {
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`a record holds at most 4 GiB; this one has ${payload.byteLength} bytes`)
  }
  const record = new Uint8Array(RECORD_OVERHEAD + payload.byteLength)
  const view = new DataView(record.buffer)
  view.setUint32(0, payload.byteLength)
  record.set(payload, RECORD_OVERHEAD)
  view.setUint32(4, checksum(record.subarray(0, 4), payload))
  return record
}

/** Reads the record that starts at `offset`. */
export function readRecord(bytes: Uint8Array, offset: number): RecordRead {
  if (offset + RECORD_OVERHEAD > bytes.byteLength) return { kind: "torn" }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = offset + RECORD_OVERHEAD + view.getUint32(offset)
  if (end > bytes.byteLength) return { kind: "torn" }
  const payload = bytes.subarray(offset + RECORD_OVERHEAD, end)
  const expected = checksum(bytes.subarray(offset, offset + 4), payload)
  if (view.getUint32(offset + 4) !== expected) return { kind: "corrupt" }
  return { kind: "record", payload, end }
}

// The length is covered too: a damaged length would otherwise frame the wrong bytes as a payload.
function checksum(length: Uint8Array, payload: Uint8Array): number {
  return crc32(payload, crc32(length))
}
