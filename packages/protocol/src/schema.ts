import { type ErrorCode, isErrorCode, type MemberState, type PeerMessage } from "@tandem/repo"
import { isJson } from "./json.js"

// The message table: a type code and the fields, in wire order, for every message. A message
// travels as a CBOR array `[code, ...fields]`; absent optional fields are null, and trailing
// absent ones are left off. (A JSON field's null is a value, never an absence.) The same table encodes and validates, so the two cannot drift apart.

type Kind =
  | "docId"
  | "roomId"
  | "id"
  | "event"
  | "text"
  | "uint"
  | "bool"
  | "bytes"
  | "json"
  | "identity"
  | "member"
  | "members"
  | "code"
  | "token"

interface FieldSpec {
  name: string
  kind: Kind
  optional: boolean
}

type Types = PeerMessage["type"]

const field = (name: string, kind: Kind, optional = false): FieldSpec => ({ name, kind, optional })

/** Type codes are part of the protocol: never renumber one, only add. */
export const messageTable: Record<Types, { code: number; fields: FieldSpec[] }> = {
  hello: {
    code: 1,
    fields: [
      field("protocol", "uint"),
      field("peerId", "id"),
      field("session", "id"),
      field("identity", "identity"),
      field("relay", "bool"),
    ],
  },
  auth: { code: 4, fields: [field("token", "token")] },
  "auth-ok": { code: 5, fields: [field("userId", "id", true), field("expiresIn", "uint", true)] },
  ping: { code: 2, fields: [] },
  pong: { code: 3, fields: [] },
  "sync-request": {
    code: 10,
    fields: [field("docId", "docId"), field("version", "bytes"), field("id", "uint", true)],
  },
  "sync-response": {
    code: 11,
    fields: [
      field("docId", "docId"),
      field("version", "bytes"),
      field("data", "bytes"),
      field("ref", "uint", true),
    ],
  },
  "doc-unavailable": { code: 12, fields: [field("docId", "docId"), field("ref", "uint", true)] },
  "doc-update": { code: 13, fields: [field("docId", "docId"), field("data", "bytes")] },
  "doc-delete": { code: 14, fields: [field("docId", "docId")] },
  "doc-ack": { code: 15, fields: [field("docId", "docId"), field("version", "bytes")] },
  "doc-close": { code: 16, fields: [field("docId", "docId")] },
  "room-join": {
    code: 20,
    fields: [
      field("roomId", "roomId"),
      field("session", "id"),
      field("seq", "uint"),
      field("presence", "json"),
      field("id", "uint", true),
    ],
  },
  "room-snapshot": {
    code: 21,
    fields: [field("roomId", "roomId"), field("members", "members"), field("ref", "uint", true)],
  },
  "room-member-joined": { code: 22, fields: [field("roomId", "roomId"), field("member", "member")] },
  "room-presence": {
    code: 23,
    fields: [
      field("roomId", "roomId"),
      field("peerId", "id"),
      field("session", "id"),
      field("seq", "uint"),
      field("presence", "json"),
    ],
  },
  "room-leave": {
    code: 24,
    fields: [field("roomId", "roomId"), field("peerId", "id"), field("session", "id"), field("seq", "uint")],
  },
  "room-broadcast": {
    code: 25,
    fields: [
      field("roomId", "roomId"),
      field("from", "id"),
      field("session", "id"),
      field("seq", "uint"),
      field("event", "event"),
      field("payload", "json"),
      field("ack", "uint", true),
    ],
  },
  "room-broadcast-ack": { code: 26, fields: [field("ack", "uint"), field("delivered", "uint")] },
  error: {
    code: 30,
    fields: [
      field("code", "code"),
      field("message", "text"),
      field("ref", "uint", true),
      field("docId", "docId", true),
      field("roomId", "roomId", true),
    ],
  },
}

const byCode = new Map(Object.entries(messageTable).map(([type, entry]) => [entry.code, { type, ...entry }]))

/** Longest document or room id, in characters. */
export const MAX_NAME_LENGTH = 1024
const MAX_ID_LENGTH = 256
const MAX_TEXT_LENGTH = 4096
const MAX_TOKEN_LENGTH = 16 * 1024
const MAX_MEMBERS = 100_000

/** The wire form of a message: `[code, ...fields]`. */
export function toWire(message: PeerMessage): unknown[] {
  const { code, fields } = messageTable[message.type]
  const values = message as unknown as Record<string, unknown>
  const wire: unknown[] = [code]
  for (const spec of fields) {
    const value = values[spec.name]
    if (spec.kind === "member") wire.push(memberToWire(value as MemberState))
    else if (spec.kind === "members") wire.push((value as MemberState[]).map(memberToWire))
    else wire.push(value ?? null)
  }
  while (wire.length > 1 && wire[wire.length - 1] === null && fields[wire.length - 2]?.optional) wire.pop()
  return wire
}

export type Parsed = { ok: true; message: PeerMessage } | { ok: false; reason: string; ref?: number }

/** Validates a decoded wire array into a typed message, or says what is wrong with it. */
export function fromWire(wire: unknown): Parsed {
  if (!Array.isArray(wire) || wire.length === 0)
    return fail("a message is an array starting with its type code")
  const entry = byCode.get(wire[0] as number)
  if (!entry) return fail(`unknown message type ${String(wire[0]).slice(0, 20)}`)
  if (wire.length > entry.fields.length + 1) return fail(`${entry.type} has too many fields`)
  const message: Record<string, unknown> = { type: entry.type }
  for (const [index, spec] of entry.fields.entries()) {
    const raw = wire[index + 1]
    if ((raw === null && spec.kind !== "json") || raw === undefined) {
      if (spec.optional) continue
      return fail(`${entry.type}.${spec.name} is missing`, refOf(entry.fields, wire))
    }
    const value = parse(spec.kind, raw)
    if (value === INVALID)
      return fail(`${entry.type}.${spec.name} is not a valid ${spec.kind}`, refOf(entry.fields, wire))
    message[spec.name] = value
  }
  return { ok: true, message: message as unknown as PeerMessage }
}

const INVALID = Symbol("invalid")

function parse(kind: Kind, raw: unknown): unknown {
  switch (kind) {
    case "docId":
    case "roomId":
      return typeof raw === "string" && raw.length <= MAX_NAME_LENGTH ? raw : INVALID
    case "id":
    case "event":
      return typeof raw === "string" && raw.length > 0 && raw.length <= MAX_ID_LENGTH ? raw : INVALID
    case "text":
      return typeof raw === "string" && raw.length <= MAX_TEXT_LENGTH ? raw : INVALID
    case "token":
      return typeof raw === "string" && raw.length > 0 && raw.length <= MAX_TOKEN_LENGTH ? raw : INVALID
    case "uint":
      return Number.isSafeInteger(raw) && (raw as number) >= 0 ? raw : INVALID
    case "bool":
      return typeof raw === "boolean" ? raw : INVALID
    case "bytes":
      return raw instanceof Uint8Array ? plainBytes(raw) : INVALID
    case "json":
      return isJson(raw) ? raw : INVALID
    case "identity":
      return isIdentity(raw) ? raw : INVALID
    case "code":
      return isErrorCode(raw) ? (raw as ErrorCode) : INVALID
    case "member":
      return memberFromWire(raw)
    case "members": {
      if (!Array.isArray(raw) || raw.length > MAX_MEMBERS) return INVALID
      const members = raw.map(memberFromWire)
      return members.includes(INVALID) ? INVALID : members
    }
  }
}

// A member travels as [peerId, session, seq, userId | null, identity, joinedAt, presence].
function memberToWire(member: MemberState): unknown[] {
  return [
    member.peerId,
    member.session,
    member.seq,
    member.userId ?? null,
    member.identity,
    member.joinedAt,
    member.presence,
  ]
}

function memberFromWire(raw: unknown): MemberState | typeof INVALID {
  if (!Array.isArray(raw) || raw.length !== 7) return INVALID
  const [peerId, session, seq, userId, identity, joinedAt, presence] = raw
  if (parse("id", peerId) === INVALID || parse("id", session) === INVALID) return INVALID
  if (parse("uint", seq) === INVALID || parse("uint", joinedAt) === INVALID) return INVALID
  if (userId !== null && parse("id", userId) === INVALID) return INVALID
  if (!isIdentity(identity) || !isJson(presence)) return INVALID
  return {
    peerId,
    session,
    seq,
    ...(userId !== null && { userId }),
    identity,
    joinedAt,
    presence,
  } as MemberState
}

function isIdentity(raw: unknown): boolean {
  if (!isJson(raw) || typeof raw !== "object" || raw === null || Array.isArray(raw)) return false
  const { userId, name } = raw as Record<string, unknown>
  return (
    (userId === undefined || typeof userId === "string") && (name === undefined || typeof name === "string")
  )
}

/** Node decodes byte strings as Buffers; the rest of Tandem sees plain Uint8Arrays (no copy). */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** The request id of a malformed message, when it can be read, so the error can name it. */
function refOf(fields: FieldSpec[], wire: unknown[]): number | undefined {
  const index = fields.findIndex((spec) => spec.name === "id" || spec.name === "ack")
  const value = index >= 0 ? wire[index + 1] : undefined
  return parse("uint", value) === INVALID ? undefined : (value as number)
}

function fail(reason: string, ref?: number): Parsed {
  return ref === undefined ? { ok: false, reason } : { ok: false, reason, ref }
}
